import { createResampler, type Rate, type Resampler } from '../audio/resampler.js'
import type { SpeechEngine } from '../realtime/engine.js'

/** Audio a caller may send ahead of real time (jitter, a burst after a network hiccup); past it, audio is dropped. */
export const CALLER_BURST_MS = 200
/** Caller audio held for the next beat at most. */
const PENDING_MS = 100

/**
 * The caller's audio on its way to the engine: resampled to the engine's
 * input rate, let through at no more than real time plus CALLER_BURST_MS (a
 * token bucket: a client pushing 30 s in a second costs 200 ms, not 30 s, of
 * model input), and sent once per pacer beat as one append rather than one
 * per frame.
 */
export class CallerUplink {
  readonly #engine: SpeechEngine
  #resampler: Resampler | null = null
  #rate: Rate = 16000
  /** Views made once per frame size, not once per frame: fifty frames a second per call. */
  #samples = new Int16Array(0)
  #sampleBytes = new Uint8Array(0)
  readonly #pending: Buffer
  #pendingBytes = 0
  #tokensMs = CALLER_BURST_MS
  #refilledAt = -1
  /** Caller audio received (ms) and dropped over the rate limit (ms). */
  receivedMs = 0
  overRateMs = 0

  constructor (engine: SpeechEngine, rate: Rate) {
    this.#engine = engine
    this.#pending = Buffer.allocUnsafe(engine.inputRate / 1000 * PENDING_MS * 2)
    this.setRate(rate)
  }

  setRate (rate: Rate): void {
    this.#rate = rate
    this.#resampler = rate === this.#engine.inputRate ? null : createResampler(rate, this.#engine.inputRate as Rate)
  }

  /** One caller frame (only lent); `forward`: false while the engine cannot take audio (it is only counted). Returns whether it was forwarded. */
  push (pcm: Uint8Array, nowMs: number, forward: boolean): boolean {
    const ms = pcm.length / 2 / (this.#rate / 1000)
    this.receivedMs += ms
    if (this.#refilledAt < 0) this.#refilledAt = nowMs
    this.#tokensMs = Math.min(CALLER_BURST_MS, this.#tokensMs + (nowMs - this.#refilledAt))
    this.#refilledAt = nowMs
    if (this.#tokensMs < ms) { this.overRateMs += ms; return false }
    this.#tokensMs -= ms
    if (!forward) return false
    const n = pcm.length / 2
    if (this.#samples.length !== n) {
      this.#samples = new Int16Array(n)
      this.#sampleBytes = new Uint8Array(this.#samples.buffer)
    }
    this.#sampleBytes.set(pcm)
    const out = this.#resampler === null ? this.#samples : this.#resampler.process(this.#samples)
    const bytes = out.length * 2
    if (this.#pendingBytes + bytes > this.#pending.length) this.flush()
    this.#pending.set(new Uint8Array(out.buffer, out.byteOffset, bytes), this.#pendingBytes)
    this.#pendingBytes += bytes
    return true
  }

  /** The pacer's beat, after every call's frame: what came in since the last one goes out as one append. */
  flush (): void {
    if (this.#pendingBytes === 0) return
    this.#engine.appendAudio(this.#pending.subarray(0, this.#pendingBytes))
    this.#pendingBytes = 0
  }
}
