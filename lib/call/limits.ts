import type { Log } from '../log/logger.js'
import type { EndReason } from './stats.js'

/** A call whose caller sends no audio frame for this long is over (Vonage streams even silence). */
export const CALLER_SILENCE_MS = 10_000

export interface LimitOptions {
  /** A prepared call whose media socket does not come within this ends. */
  mediaWaitMs: number
  maxCallMs: number
  callerSilenceMs?: number
}

/**
 * How long a call may wait for its media, stay silent, and last. Checked on
 * the pacer's beat (no timer per frame); only the media wait has a timer,
 * since no beat runs before the media comes.
 */
export class CallLimits {
  readonly #o: LimitOptions
  readonly #log: Log
  readonly #startedAt: number
  #mediaTimer: NodeJS.Timeout | null
  #lastCallerAt = 0
  #maxReached = false

  constructor (o: LimitOptions, log: Log, startedAt: number, onNoMedia: () => void) {
    this.#o = o
    this.#log = log
    this.#startedAt = startedAt
    this.#mediaTimer = setTimeout(() => {
      this.#mediaTimer = null
      log.warn({ waitedMs: o.mediaWaitMs }, 'no media socket came for the prepared call: ending it')
      onNoMedia()
    }, o.mediaWaitMs)
  }

  mediaAttached (nowMs: number): void {
    this.stop()
    this.#lastCallerAt = nowMs
  }

  callerFrame (nowMs: number): void { this.#lastCallerAt = nowMs }

  /** Why the call must end now, if it must (said in the log, once). */
  check (nowMs: number): EndReason | null {
    const silentMs = nowMs - this.#lastCallerAt
    if (silentMs >= (this.#o.callerSilenceMs ?? CALLER_SILENCE_MS)) {
      this.#log.warn({ silentMs: Math.round(silentMs) }, 'no caller audio: ending the call')
      return 'caller-silent'
    }
    if (!this.#maxReached && nowMs - this.#startedAt >= this.#o.maxCallMs) {
      this.#maxReached = true
      this.#log.info({ maxCallMs: this.#o.maxCallMs }, 'the call reached MAX_CALL_SECONDS: ending it')
      return 'max-duration'
    }
    return null
  }

  stop (): void {
    if (this.#mediaTimer !== null) clearTimeout(this.#mediaTimer)
    this.#mediaTimer = null
  }
}
