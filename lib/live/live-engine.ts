import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { EngineEventMap, EngineFailure, EngineRate, SpeechEngine } from '../realtime/engine.js'
import { RealtimeConnection, type ConnectionOptions } from '../realtime/connection.js'
import { jsonWithBase64 } from '../realtime/base64-bytes.js'
import { DELTA, plainStringField } from '../realtime/server-events.js'
import { APPEND_HEAD, APPEND_TAIL, functionOutput, instructionsAppend, responseCreate, sessionClose, type LiveClientEvent } from './client-events.js'
import type { SessionStartEvent } from 'openai/resources/live/live'
import { TranscriptLines } from './transcript-lines.js'
import { InputClock } from './input-clock.js'
import { Delegations } from './delegation.js'
import { onResponseEvent } from './response-events.js'
import { CLOSED_REASONS, LIVE_FAILURE_HINTS } from './failures.js'

/** No session.started for this long and the call is given up. */
export const START_WAIT_MS = 15_000
/** After session.close, how long to wait for session.closed (the final usage) before closing the socket anyway. */
export const CLOSE_WAIT_MS = 2000
/** A request to speak (greeting, goodbye, a tool's answer) counts as unanswered after this long without a line. */
export const SPEAK_WAIT_MS = 12_000
/** The assistant's audio, as one stream: GPT-Live has no items, and nothing of it is ever cut. */
export const OUTPUT_ITEM = 'live_out'
const OUTPUT_RESPONSE = 'live'
/** Audio deltas are most of the traffic: their base64 is taken from the received bytes, as the Realtime engine does, not copied twice by JSON.parse. */
const AUDIO_DELTA_TYPE = Buffer.from('"type":"session.output_audio.delta"')
/** Silence sent at most per beat: a long stall is filled over several beats. */
const MAX_SILENCE_MS = 1000
/** One second of silence at the highest rate, shared by every call (never written). */
const SILENCE = Buffer.alloc(24000 * 2 * MAX_SILENCE_MS / 1000)

export interface LiveEngineOptions extends ConnectionOptions {
  /** Vonage's rate: GPT-Live takes and gives it untouched. */
  rate: EngineRate
  /** The session.start sent as soon as the socket opens. */
  sessionStart: () => SessionStartEvent
  startWaitMs?: number
  closeWaitMs?: number
  speakWaitMs?: number
  /** Called before each message is handled (the pacer's poll). */
  beforeMessage?: () => void
  /** The final usage of session.closed, which comes after the call's record was made (logged). */
  onClosed?: (e: { reason: string, seconds: number | null }) => void
}

/**
 * OpenAI's GPT-Live as a SpeechEngine: Vonage's PCM both ways, the model
 * takes turns itself (full duplex: canTruncate false, nothing to cancel,
 * truncate or clear), tools run through Responses delegation, words come as
 * timed fragments joined into lines here, and the session is billed per
 * second (session.usage.updated).
 */
export class LiveEngine extends EventEmitter<EngineEventMap> implements SpeechEngine {
  readonly inputRate: EngineRate
  readonly outputRate: EngineRate
  readonly canTruncate = false
  readonly #o: LiveEngineOptions
  readonly #conn: RealtimeConnection
  readonly #clock: InputClock
  readonly #delegations = new Delegations()
  readonly #caller: TranscriptLines
  readonly #assistant: TranscriptLines
  #started = false
  #startedAt = -1
  #failed = false
  #closed = false
  #seq = 0
  #seconds = 0
  #startTimer: NodeJS.Timeout | null = null
  /** A request to speak waiting for the assistant's next line. */
  #asked: { id: string, timer: NodeJS.Timeout } | null = null

  constructor (o: LiveEngineOptions) {
    super()
    this.#o = o
    this.inputRate = this.outputRate = o.rate
    this.#clock = new InputClock(o.rate)
    this.#caller = new TranscriptLines('live_caller', {
      started: (itemId) => this.emit('caller-item', { itemId }),
      delta: (itemId, text) => this.emit('transcript-delta', { role: 'caller', itemId, text }),
      done: (itemId, text) => this.emit('caller-transcript', { itemId, text })
    })
    this.#assistant = new TranscriptLines('live_ai', {
      started: (itemId) => this.emit('assistant-item', { responseId: this.#asked?.id ?? OUTPUT_RESPONSE, itemId }),
      delta: (itemId, text) => this.emit('transcript-delta', { role: 'assistant', itemId, text }),
      done: (itemId, text) => {
        this.emit('assistant-transcript', { itemId, text })
        this.#answered(true)
      }
    })
    this.#conn = new RealtimeConnection(o, {
      open: () => {
        this.#send(o.sessionStart())
        this.#startTimer = setTimeout(() => this.#fail('stalled', `no session.started within ${o.startWaitMs ?? START_WAIT_MS} ms`), o.startWaitMs ?? START_WAIT_MS)
      },
      message: (data) => this.#onMessage(data),
      failed: (cause, detail) => this.#fail(cause, detail)
    })
  }

  get started (): boolean { return this.#started && !this.#failed }

  connect (): void { this.#conn.connect() }

  appendAudio (pcm: Uint8Array): void {
    if (!this.started || this.#closed || pcm.length < 2) return
    const samples = this.#clock.admit(pcm.length >> 1, performance.now())
    if (samples > 0) this.#append(pcm.subarray(0, samples * 2))
  }

  beat (nowMs: number): void {
    if (!this.started || this.#closed) return
    this.#clock.start(nowMs)
    const max = this.inputRate / 1000 * MAX_SILENCE_MS
    const samples = Math.min(this.#clock.gap(nowMs), max)
    if (samples <= 0) return
    this.#append(SILENCE.subarray(0, samples * 2))
  }

  #append (pcm: Uint8Array): void {
    this.#conn.send(jsonWithBase64(APPEND_HEAD, pcm, APPEND_TAIL))
  }

  /**
   * GPT-Live speaks when it decides to. A request to speak becomes: the
   * continuation of a delegated response whose calls are all answered (one
   * response.create), or one-off instructions appended (the goodbye at the
   * time limit), or nothing at all (the greeting: the instructions ask for
   * it). Either way it "responds" once the assistant's next line is done.
   */
  startResponse (opts: { instructions?: string, noTools?: boolean } = {}): boolean {
    if (this.#failed || this.#closed) return false
    if (this.#delegations.continueNow()) this.#send(responseCreate(`resp_${++this.#seq}`))
    else if (opts.instructions !== undefined) this.#send(instructionsAppend(opts.instructions, `note_${++this.#seq}`))
    this.#answered(false)
    const id = `live_resp_${++this.#seq}`
    const timer = setTimeout(() => this.#answered(false), this.#o.speakWaitMs ?? SPEAK_WAIT_MS)
    timer.unref()
    this.#asked = { id, timer }
    // After the caller (the gate) has taken note that it asked.
    queueMicrotask(() => { if (this.#asked?.id === id) this.emit('response-started', { responseId: id }) })
    return true
  }

  /** The request to speak is answered: by a line (`spoke`), or by silence for SPEAK_WAIT_MS. */
  #answered (spoke: boolean): void {
    const a = this.#asked
    if (a === null) return
    this.#asked = null
    clearTimeout(a.timer)
    this.emit('response-done', { responseId: a.id, status: 'completed', reason: '', spoke, usage: null })
  }

  // The model handles being talked over itself: nothing to cancel, truncate or discard.
  cancelResponse (): void {}
  truncate (): void {}
  discardInput (): void {}

  addUserText (text: string): boolean {
    return this.#send(instructionsAppend(text, `note_${++this.#seq}`))
  }

  sendToolResult (callId: string, output: string, respond: boolean): boolean {
    const sent = this.#send(functionOutput(callId, output))
    this.#delegations.answered(callId)
    return sent && respond ? this.startResponse() : sent
  }

  /**
   * Ends the session: the last lines are told, the billed seconds are settled
   * (the session's own count, or the time since session.started if that is
   * more), then session.close and a short wait for session.closed.
   */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#caller.finish()
    this.#assistant.finish()
    this.#answered(false)
    if (this.#startTimer !== null) clearTimeout(this.#startTimer)
    if (this.#startedAt >= 0) {
      const elapsed = Math.ceil((performance.now() - this.#startedAt) / 1000)
      this.emit('session-usage', { seconds: Math.max(this.#seconds, elapsed) })
    }
    if (!this.started || !this.#conn.send(JSON.stringify(sessionClose()))) { this.#conn.close(); return }
    const wait = setTimeout(() => {
      this.#o.onClosed?.({ reason: 'no session.closed', seconds: null })
      this.#conn.close()
    }, this.#o.closeWaitMs ?? CLOSE_WAIT_MS)
    wait.unref()
    this.#closeWait = wait
  }

  #closeWait: NodeJS.Timeout | null = null

  #send (event: LiveClientEvent): boolean {
    return !this.#failed && this.#conn.send(JSON.stringify(event))
  }

  #fail (cause: EngineFailure, detail: string): void {
    if (this.#failed) return
    if (this.#closed) { this.#conn.terminate(); return }
    this.#failed = true
    if (this.#startTimer !== null) clearTimeout(this.#startTimer)
    this.#conn.terminate()
    this.emit('failed', { cause, detail: `${LIVE_FAILURE_HINTS[cause]} (${detail})` })
  }

  #onMessage (data: Buffer): void {
    this.#o.beforeMessage?.()
    if (this.#failed) return
    const audio = data.indexOf(AUDIO_DELTA_TYPE) >= 0 ? plainStringField(data, DELTA) : null
    if (audio !== null) {
      if (!this.#closed) this.emit('audio', { responseId: OUTPUT_RESPONSE, itemId: OUTPUT_ITEM, base64: data.subarray(audio[0], audio[1]), message: data })
      return
    }
    let e: Record<string, unknown>
    try {
      e = JSON.parse(data.toString('utf8')) as Record<string, unknown>
    } catch {
      return
    }
    if (e === null || typeof e !== 'object') return
    switch (e.type) {
      case 'session.output_audio.delta':
        if (typeof e.delta === 'string' && !this.#closed) this.emit('audio', { responseId: OUTPUT_RESPONSE, itemId: OUTPUT_ITEM, base64: e.delta, message: data })
        break
      case 'session.input_transcript.delta':
        if (typeof e.delta === 'string') this.#caller.push(e.delta, num(e.start_ms), num(e.end_ms))
        break
      case 'session.output_transcript.delta':
        if (typeof e.delta === 'string') this.#assistant.push(e.delta, num(e.start_ms), num(e.end_ms))
        break
      case 'session.started':
        if (this.#started) break
        this.#started = true
        this.#startedAt = performance.now()
        if (this.#startTimer !== null) { clearTimeout(this.#startTimer); this.#startTimer = null }
        this.emit('ready')
        break
      case 'session.usage.updated':
        this.#usage(e.usage)
        break
      case 'response.event':
        onResponseEvent(e, this.#delegations, {
          toolCall: (c) => this.emit('tool-call', c),
          done: (d) => {
            this.emit('response-done', { ...d, spoke: false })
            if (this.#delegations.pendingReady()) this.#send(responseCreate(`resp_${++this.#seq}`))
          }
        })
        break
      case 'session.closed':
        this.#onClosed(e)
        break
      case 'error':
        this.#onError(e)
        break
    }
  }

  #usage (u: unknown): void {
    const seconds = num((u as { seconds?: unknown } | null)?.seconds)
    if (seconds <= this.#seconds) return
    this.#seconds = seconds
    if (!this.#closed) this.emit('session-usage', { seconds })
  }

  #onClosed (e: Record<string, unknown>): void {
    this.#usage(e.usage)
    const reason = typeof e.reason === 'string' ? e.reason : ''
    if (this.#closed) {
      if (this.#closeWait !== null) clearTimeout(this.#closeWait)
      this.#o.onClosed?.({ reason, seconds: this.#seconds })
      this.#conn.close()
      return
    }
    this.#fail('closed', `session.closed: ${reason}${CLOSED_REASONS[reason] !== undefined ? ` (${CLOSED_REASONS[reason]})` : ''}`)
  }

  /**
   * Before session.started, an error is a refused start. After it, an error
   * that names one of our commands (client_event_id) refused only that command
   * and the call goes on; any other is the session failing.
   */
  #onError (e: Record<string, unknown>): void {
    const err = (e.error !== null && typeof e.error === 'object' ? e.error : {}) as Record<string, unknown>
    const code = typeof err.code === 'string' ? err.code : ''
    const message = typeof err.message === 'string' ? err.message.slice(0, 500) : ''
    const type = typeof err.type === 'string' ? err.type : ''
    if (!this.#started) { this.#fail('config-refused', `${code !== '' ? `${code}: ` : ''}${message}`); return }
    const command = typeof err.client_event_id === 'string' || typeof e.client_event_id === 'string'
    if (command) { this.emit('warning', { type, code, message }); return }
    this.#fail('closed', `error ${code !== '' ? `${code}: ` : ''}${message}`)
  }
}

function num (v: unknown): number { return typeof v === 'number' && Number.isFinite(v) ? v : 0 }
