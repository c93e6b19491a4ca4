import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { Rate } from '../audio/resampler.js'
import type { Log } from '../log/logger.js'
import type { EngineFailure, SpeechEngine } from '../realtime/engine.js'
import type { CallContext } from '../realtime/session-update.js'
import { ResponseGate } from '../realtime/response-gate.js'
import type { SessionEventMap } from './events.js'
import type { Pacer } from './pacer.js'
import type { CallNotes } from './notes.js'
import { MediaChannel, type MediaSocket } from './media-channel.js'
import { CallerUplink } from './uplink.js'
import { AssistantAudio } from './assistant-audio.js'
import { BargeIn } from './barge-in.js'
import { TurnWiring, type TurnSettings } from './turn-wiring.js'
import { CallCounters, type CallStats, type EndReason, type Usage } from './stats.js'
import { Turns } from './turns.js'
import { CallLimits, CALLER_SILENCE_MS, type LimitOptions } from './limits.js'
import type { AudioTap } from './audio-tap.js'

export { CALLER_SILENCE_MS, type CallStats, type EndReason, type Usage, type MediaSocket }
export type SessionLogger = Log
/** What the model is asked to say when the call reaches MAX_CALL_SECONDS. */
export const TIME_UP_INSTRUCTIONS = '通話時間の上限になりました。お礼を述べて、ひとことで短くお別れのあいさつをしてください。(The call has reached its time limit: thank the caller and say a short goodbye.)'
/** How long the goodbye may take, generated and played, before the line is closed anyway. */
const GOODBYE_MAX_MS = 15_000
/** Past this, Vonage is not reading the call audio; the call ends rather than buffer without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024

export interface SessionOptions extends LimitOptions {
  id: string
  call: CallContext
  /** Vonage's audio rate, until websocket:connected says otherwise. */
  rate: Rate
  leadMs: number
  engine: SpeechEngine
  pacer: Pacer
  log: Log
  /** Played (at the engine's output rate) when the engine fails, before the call ends. */
  apology: Int16Array
  /** Ask for the greeting now (the answer webhook proved itself), or only once the media socket attaches. */
  greetEarly: boolean
  maxBufferedBytes?: number
  /**
   * The bridge decides turns (aizuchi, interruptions, dead air); without it the engine does, and every speech start cuts.
   * Ignored for an engine that cannot truncate (GPT-Live): it takes turns by itself, and the session runs no barge-in for it.
   */
  turns?: TurnSettings
}

/**
 * One phone call: the Vonage media channel ⇄ a speech engine. The engine is
 * connected at the answer webhook so the model's first words are ready when
 * the caller is. This class only orchestrates; the parts, one file each:
 * - the engine: lib/realtime/engine.ts (contract), realtime-engine.ts (Realtime API), lib/live/live-engine.ts (GPT-Live)
 * - Vonage's media protocol: media-channel.ts
 * - caller audio to the engine: uplink.ts
 * - assistant audio to the caller: assistant-audio.ts over playout.ts (the ledger)
 * - barge-in: barge-in.ts; who decides what interrupts: turn-wiring.ts (TurnTaker, check-ins, tool filler)
 * - silence, call length, media wait: limits.ts; counters: stats.ts
 * Plugins listen to its events (events.ts) and keep their per-call state on
 * it (`notes`, `gate`).
 */
export class CallSession extends EventEmitter<SessionEventMap> {
  readonly id: string
  readonly call: CallContext
  readonly engine: SpeechEngine
  /** One response request at a time, shared by every extension. */
  readonly gate: ResponseGate
  /** What extensions learn about the call, for its record. */
  readonly notes: CallNotes = { tools: [] }
  readonly stats = new CallCounters()
  readonly #o: SessionOptions
  readonly #audio: AssistantAudio
  readonly #uplink: CallerUplink
  readonly #bargeIn: BargeIn
  readonly #turnWiring: TurnWiring | null
  readonly #createdAt = performance.now()
  readonly #turns: Turns
  #media: MediaChannel | null = null
  readonly #limits: CallLimits
  #rate: Rate
  #greeted = false
  #failed = false
  #ended = false
  #endReason: EndReason = 'ended'
  #tap: AudioTap | null = null

  constructor (o: SessionOptions) {
    super()
    this.#o = o
    this.id = o.id
    this.call = o.call
    this.engine = o.engine
    this.#rate = o.rate
    this.gate = new ResponseGate(o.engine)
    this.#audio = new AssistantAudio(this, o.rate, o.leadMs, this.stats, o.engine.outputRate, !o.engine.canTruncate)
    this.#audio.onFirstAudio = (ms) => this.emit('first-audio', { ms })
    this.#uplink = new CallerUplink(o.engine, o.rate)
    this.#turns = new Turns(this.#createdAt, this)
    const self = this
    this.#bargeIn = new BargeIn({
      session: this,
      engine: o.engine,
      stats: this.stats,
      get playout () { return self.#audio.playout },
      get media () { return self.#media },
      get failed () { return self.#failed },
      get responding () { return self.gate.active },
      cut: (cut) => this.emit('barge-in', cut)
    })
    this.#turnWiring = o.turns === undefined || !o.engine.canTruncate
      ? null
      : new TurnWiring(o.turns, {
        engine: o.engine,
        gate: this.gate,
        stats: this.stats,
        log: o.log,
        interrupt: () => { this.#bargeIn.interrupt() },
        backchannel: (e) => this.emit('backchannel', e),
        whenPlayed: async () => await this.whenPlayed(),
        hangUp: () => this.end('idle')
      })
    this.#listen(o.engine)
    this.#limits = new CallLimits(o, o.log, this.#createdAt, () => this.end('no-media'))
    o.engine.connect()
    if (o.greetEarly) this.#greet()
  }

  get ended (): boolean { return this.#ended }

  /** Both sides of the audio as the caller hears and speaks them (the recorder sets it on 'media'). */
  get audioTap (): AudioTap | null { return this.#tap }
  set audioTap (tap: AudioTap | null) {
    this.#tap = tap
    this.#audio.tap = tap
  }

  get mediaAttached (): boolean { return this.#media !== null }

  #listen (engine: SpeechEngine): void {
    engine.on('ready', () => this.emit('ready'))
    engine.on('audio', ({ responseId, itemId, base64, message }) => {
      if (!this.#failed && this.#bargeIn.accepts(responseId, itemId)) this.#audio.pushDelta(itemId, base64, message)
    })
    engine.on('audio-done', ({ itemId }) => this.#audio.playout.markDone(itemId))
    engine.on('assistant-item', ({ responseId, itemId }) => {
      this.#bargeIn.onAssistantItem(responseId, itemId)
      this.#turns.placed('assistant', itemId)
    })
    engine.on('speech-started', ({ itemId, eventId }) => {
      if (this.#turnWiring === null && this.engine.canTruncate) this.#bargeIn.onSpeechStarted(eventId)
      this.#turns.placed('caller', itemId)
    })
    engine.on('caller-item', ({ itemId }) => this.#turns.placed('caller', itemId))
    engine.on('transcript-delta', (d) => this.emit('transcript-delta', d))
    engine.on('caller-transcript', ({ itemId, text }) => this.#turns.heard('caller', itemId, text))
    engine.on('assistant-transcript', ({ itemId, text }) => this.#turns.heard('assistant', itemId, text))
    engine.on('tool-call', (c) => this.emit('tool-call', c))
    engine.on('response-done', ({ responseId, usage }) => {
      this.stats.addUsage(usage)
      this.#bargeIn.onResponseDone(responseId)
      this.emit('usage', this.stats.usage)
    })
    engine.on('session-usage', ({ seconds }) => {
      // Cumulative: the latest total replaces the last one.
      if (seconds > (this.stats.usage.sessionSeconds ?? 0)) this.stats.usage.sessionSeconds = seconds
      this.emit('usage', this.stats.usage)
    })
    engine.on('warning', ({ type, code, message }) => {
      this.stats.upstreamErrors++
      this.#o.log.warn({ type, code, message }, 'realtime error event')
    })
    engine.on('failed', ({ cause, detail }) => this.#fail(cause, detail))
  }

  #greet (): void {
    if (this.#greeted) return
    this.#greeted = true
    void this.gate.requestResponse()
  }

  /** Resolves once every assistant frame sent so far has played (per the ledger), or the call is over. */
  async whenPlayed (): Promise<void> {
    if (this.#ended) return
    await this.#audio.whenPlayed()
  }

  /** A text message to the caller's socket (the softphone's extras; Vonage has no use for them). */
  sendText (text: string): boolean {
    if (this.#ended || this.#media === null) return false
    this.#media.sendText(text)
    return true
  }

  attachMedia (socket: MediaSocket): void {
    if (this.#ended) { socket.close(1011, 'call ended'); return }
    const media = new MediaChannel(socket, this.#rate, {
      audio: (pcm) => this.#onCallerAudio(pcm),
      rate: (rate) => this.#setRate(rate),
      dtmf: (digit) => this.emit('dtmf', digit)
    }, this.#o.log)
    this.#media = media
    media.onClear = () => this.#tap?.cleared(performance.now())
    const now = performance.now()
    this.#limits.mediaAttached(now)
    this.#audio.attach(media, now)
    this.#o.pacer.add(this)
    this.#greet()
    this.tick(now)
    this.emit('media')
  }

  /** A message from the media socket. */
  onMediaMessage (data: Buffer, isBinary: boolean): void {
    if (this.#ended || this.#media === null) return
    this.#o.pacer.poll()
    this.#media.onMessage(data, isBinary)
  }

  #onCallerAudio (pcm: Uint8Array): void {
    const now = performance.now()
    this.#limits.callerFrame(now)
    this.#tap?.caller(pcm, this.#rate, now)
    if (this.#uplink.push(pcm, now, !this.#failed)) this.#turnWiring?.frame(pcm, pcm.length / 2 / (this.#rate / 1000))
  }

  #setRate (rate: Rate): void {
    this.#o.log.info({ configured: this.#rate, rate }, 'Vonage chose another audio rate: following it')
    this.#rate = rate
    this.#media?.setRate(rate)
    this.#audio.setRate(rate)
    this.#uplink.setRate(rate)
  }

  #fail (cause: EngineFailure, detail: string): void {
    if (this.#failed || this.#ended) return
    this.#failed = true
    this.stats.upstreamFailure = cause
    this.#endReason = cause === 'closed' ? 'upstream-closed' : 'upstream-failed'
    this.#o.log.error({ cause, detail }, 'the model failed: apologising and ending the call')
    this.#audio.replaceWith('apology', this.#o.apology, performance.now())
  }

  /** The pacer's 20 ms beat: send what is due, and end calls that are over. */
  tick (now: number): void {
    const media = this.#media
    if (media === null || this.#ended) return
    const maxBuffered = this.#o.maxBufferedBytes ?? MAX_BUFFERED_BYTES
    if (media.bufferedAmount > maxBuffered) {
      this.#o.log.warn({ buffered: media.bufferedAmount }, 'Vonage is not reading the call audio: ending the call')
      this.end('slow-consumer')
      return
    }
    const playing = this.#audio.pump(now, !this.#failed)
    if (this.#failed) {
      if (!playing) this.end(this.#endReason)
      return
    }
    this.#turnWiring?.tick(playing)
    const over = this.#limits.check(now)
    if (over === 'max-duration') this.#sayGoodbye()
    else if (over !== null) this.end(over)
  }

  /** The time is up: the model says goodbye, then the line is closed (within GOODBYE_MAX_MS whatever happens). */
  #sayGoodbye (): void {
    const deadline = setTimeout(() => this.end('max-duration'), GOODBYE_MAX_MS)
    this.once('end', () => clearTimeout(deadline))
    this.gate.requestResponse(TIME_UP_INSTRUCTIONS)
      .then(async () => { await this.whenPlayed() })
      .then(() => this.end('max-duration'), () => this.end('max-duration'))
  }

  /** After every call of the beat has ticked: the caller audio of the beat goes to the engine as one append. */
  afterTick (): void {
    this.#uplink.flush()
    if (!this.#ended) this.engine.beat(performance.now())
  }

  /** Ends the call from our side or records that Vonage ended it. Idempotent. */
  end (reason: EndReason): void {
    if (this.#ended) return
    this.#ended = true
    this.#o.pacer.delete(this)
    this.#limits.stop()
    this.#turnWiring?.stop()
    this.#uplink.flush()
    this.engine.close()
    this.gate.close()
    if (reason !== 'caller-hangup') this.#media?.close(1000, reason)
    this.stats.callerAudioMs = this.#uplink.receivedMs
    this.stats.overRateMs = this.#uplink.overRateMs
    this.stats.droppedFrames = this.#media?.dropped ?? 0
    this.#audio.releaseWaiters()
    this.emit('end', this.stats.final(this.id, this.call, reason, performance.now() - this.#createdAt))
    this.removeAllListeners()
    this.engine.removeAllListeners()
  }
}
