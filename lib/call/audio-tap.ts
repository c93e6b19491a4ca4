import type { Rate } from '../audio/resampler.js'

/**
 * A listener on both sides of a call's audio as they cross the bridge (the
 * recorder, lib/recording/). Called on the audio beat: an implementation only
 * copies samples into memory it already holds and returns; anything slow
 * (files, encoding) happens elsewhere.
 */
export interface AudioTap {
  /** A frame of the caller's audio (L16 at `rate`), only lent, as it arrived at `nowMs`. */
  caller: (pcm: Uint8Array, rate: Rate, nowMs: number) => void
  /** A frame of assistant audio sent to the caller (L16 at `rate`, only lent) that starts playing at `startMs`. */
  assistant: (frame: Uint8Array, rate: Rate, startMs: number) => void
  /** Vonage was told to drop what it had queued (barge-in, apology): nothing sent plays after `nowMs`. */
  cleared: (nowMs: number) => void
}
