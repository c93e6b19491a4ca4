/** Caller audio allowed ahead of real time (network jitter); beyond it, audio that came late after a gap was filled is dropped. */
export const AHEAD_MS = 200
/** Caller audio this far behind real time is a gap in Vonage's frames, not jitter: it is filled with silence. */
export const GAP_MS = 100
/** A filled gap leaves this much slack, so frames that were only late still fit. */
const SLACK_MS = 40

/**
 * GPT-Live "speaks only while its input clock runs": the caller's audio must
 * go up continuously, at real-time pace. This keeps the account of what was
 * sent against the clock — a gap in Vonage's frames is filled with silence as
 * it happens (never a burst afterwards), and audio that would run the input
 * ahead of real time is cut.
 */
export class InputClock {
  readonly #perMs: number
  #startMs = -1
  #sentSamples = 0

  constructor (rate: number) {
    this.#perMs = rate / 1000
  }

  get running (): boolean { return this.#startMs >= 0 }

  start (nowMs: number): void {
    if (this.#startMs < 0) this.#startMs = nowMs
  }

  #elapsed (nowMs: number): number { return Math.max(0, nowMs - this.#startMs) * this.#perMs }

  /** How many of `samples` caller samples may go now. */
  admit (samples: number, nowMs: number): number {
    this.start(nowMs)
    const room = Math.floor(this.#elapsed(nowMs) + AHEAD_MS * this.#perMs - this.#sentSamples)
    const n = Math.max(0, Math.min(samples, room))
    this.#sentSamples += n
    return n
  }

  /** Samples of silence owed now (0 unless the caller's frames fell GAP_MS behind). */
  gap (nowMs: number): number {
    if (this.#startMs < 0) return 0
    const behind = this.#elapsed(nowMs) - this.#sentSamples
    if (behind < GAP_MS * this.#perMs) return 0
    const n = Math.floor(behind - SLACK_MS * this.#perMs)
    this.#sentSamples += n
    return n
  }
}
