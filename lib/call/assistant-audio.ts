import { performance } from 'node:perf_hooks'
import type { Rate } from '../audio/resampler.js'
import { Playout, FRAME_MS } from './playout.js'
import type { MediaChannel } from './media-channel.js'
import type { CallCounters } from './stats.js'
import { frameChannel, frameMessage, deltaChannel, deltaMessage } from './probe.js'
import type { AudioTap } from './audio-tap.js'

/**
 * A streaming engine's audio (GPT-Live) arrives at real-time pace, so Vonage's
 * buffer only ever holds what the last delta brought: a delta a little late
 * (the network, the peer's own timer) and the caller hears a gap. Starting to
 * play this long after audio reaches a silent line keeps every later delta
 * this far ahead of the moment Vonage would run dry — the jitter buffer every
 * phone has, held again after each gap. It delays the first word by as much.
 */
export const STREAM_CUSHION_MS = 60

/**
 * The assistant's audio on its way to the caller: the playout ledger
 * (lib/call/playout.ts) fed with the engine's deltas and pumped to the media
 * channel on the pacer's beat and on each delta's arrival, plus the probes of
 * the benchmark and the waiters of whenPlayed().
 */
export class AssistantAudio {
  playout: Playout
  #media: MediaChannel | null = null
  #mediaAt = 0
  #firstSentAt = -1
  /** The time of the pump in progress: a frame sent now starts playing when the ones before it have played. */
  #pumpAt = 0
  /** When a streaming engine's audio reached a silent line (-1: not holding): it plays STREAM_CUSHION_MS later. */
  #heldSince = -1
  readonly #idleWaiters: Array<() => void> = []
  readonly #stats: CallCounters
  readonly #session: object
  /** Called once with the ms from media to the first frame of the model's audio. */
  onFirstAudio: ((ms: number) => void) | null = null
  /** Hears every frame sent, and when it will play (the recorder). */
  tap: AudioTap | null = null

  /**
   * `streaming`: the engine streams its audio at real-time pace, silence
   * included (GPT-Live), so the ledger may never run idle: whenPlayed() then
   * waits for what is queued at the time of asking, not for idleness, and
   * audio reaching a silent line waits STREAM_CUSHION_MS before it plays.
   */
  constructor (session: object, rate: Rate, leadMs: number, stats: CallCounters, readonly inputRate: Rate = 24000, readonly streaming = false) {
    this.#session = session
    this.playout = new Playout(rate, leadMs, inputRate)
    this.#stats = stats
  }

  get media (): MediaChannel | null { return this.#media }

  attach (media: MediaChannel, nowMs: number): void {
    this.#media = media
    this.#mediaAt = nowMs
  }

  /** Audio that arrived before Vonage named its rate is still owed to the caller. */
  setRate (rate: Rate): void {
    this.playout = this.playout.withRate(rate)
  }

  /** A delta of the model's audio (base64, at the engine's output rate). */
  pushDelta (itemId: string, base64: Buffer | string, message: Buffer | null): void {
    if (!deltaChannel.hasSubscribers) {
      this.playout.pushBase64(itemId, base64)
      if (this.#media !== null) this.pump(performance.now())
      return
    }
    const at = performance.now()
    const p = this.playout
    const immediate = this.#media !== null && p.pendingMs < FRAME_MS && p.queuedAtVonageMs(at) <= p.leadMs - FRAME_MS / 2
    this.#firstSentAt = -1
    this.playout.pushBase64(itemId, base64)
    if (this.#media !== null) this.pump(performance.now())
    deltaMessage.session = this.#session
    deltaMessage.data = message
    deltaMessage.receivedAt = at
    deltaMessage.firstFrameAt = immediate ? this.#firstSentAt : -1
    deltaChannel.publish(deltaMessage)
  }

  /** Whatever plays now is moot: cleared from the ledger and from Vonage's queue; `pcm` plays next. */
  replaceWith (itemId: string, pcm: Int16Array, nowMs: number): void {
    if (this.playout.isActive(nowMs)) {
      this.playout.clear(nowMs)
      this.#media?.clear()
    }
    this.playout.push(itemId, pcm)
    this.playout.markDone(itemId)
    if (this.#media !== null) this.pump(nowMs)
  }

  /** Sends what is due; returns whether anything is still playing or queued. */
  pump (nowMs: number, countFirstAudio = true): boolean {
    const media = this.#media
    if (media === null) return this.playout.isActive(nowMs)
    if (this.#holding(nowMs)) return true
    this.#pumpAt = nowMs
    const sent = this.playout.pump(nowMs, this.#sendFrame)
    if (media.bufferedAmount === 0) this.playout.framesFlushed()
    if (sent > 0 && countFirstAudio && this.#stats.connectToFirstAudioMs === null) {
      this.#stats.connectToFirstAudioMs = Math.round(nowMs - this.#mediaAt)
      this.onFirstAudio?.(this.#stats.connectToFirstAudioMs)
    }
    const active = this.playout.isActive(nowMs)
    if (!active && this.#idleWaiters.length > 0) this.releaseWaiters()
    return active
  }

  /** Whether a streaming engine's audio is still gathering its cushion on a silent line. */
  #holding (nowMs: number): boolean {
    if (!this.streaming) return false
    const p = this.playout
    if (p.queuedAtVonageMs(nowMs) > 0 || p.pendingMs === 0) {
      this.#heldSince = -1
      return false
    }
    if (this.#heldSince < 0) this.#heldSince = nowMs
    return nowMs - this.#heldSince < STREAM_CUSHION_MS
  }

  /** Resolves once every frame sent so far has played (per the ledger), or the call ends. */
  async whenPlayed (): Promise<void> {
    if (this.streaming) {
      const now = performance.now()
      const ms = this.playout.pendingMs + this.playout.queuedAtVonageMs(now)
      if (ms <= 0) return
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, ms)
        function done (): void { clearTimeout(timer); resolve() }
        this.#idleWaiters.push(done)
      })
      return
    }
    await new Promise<void>(resolve => this.#idleWaiters.push(resolve))
  }

  releaseWaiters (): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
  }

  readonly #sendFrame = (frame: Buffer): void => {
    this.#stats.assistantAudioMs += FRAME_MS
    this.#media!.sendFrame(frame)
    // Before the ledger moves on: what is queued at Vonage now plays before this frame.
    this.tap?.assistant(frame, this.playout.rate, this.#pumpAt + this.playout.queuedAtVonageMs(this.#pumpAt))
    if (frameChannel.hasSubscribers) {
      const at = performance.now()
      if (this.#firstSentAt < 0) this.#firstSentAt = at
      frameMessage.session = this.#session
      frameMessage.at = at
      frameMessage.lateMs = this.playout.lateMs
      frameChannel.publish(frameMessage)
    }
  }
}
