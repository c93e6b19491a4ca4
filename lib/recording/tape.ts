import { performance } from 'node:perf_hooks'
import { createResampler, type Rate, type Resampler } from '../audio/resampler.js'
import type { AudioTap } from '../call/audio-tap.js'

/** Caller frames are placed one after another; they may drift this far from the clock before they are re-placed by it. */
export const MAX_DRIFT_MS = 300
/** Audio older than this (on the call's clock) can no longer change: a barge-in only ever cuts from "now" on, and a caller frame lands at most MAX_DRIFT_MS back. */
export const SETTLE_MS = MAX_DRIFT_MS + 20
/** Settled audio leaves for the spool in pieces of this length: one file write per call every half second. */
export const WRITE_MS = 500
/** Room past "now": assistant audio is sent up to PLAYBACK_LEAD_MS ahead, caller frames up to MAX_DRIFT_MS. */
const AHEAD_MARGIN_MS = 100

/**
 * Both sides of a call on one timeline, as the caller heard them: the caller
 * on the left channel, the assistant on the right, interleaved 16-bit PCM at
 * one rate. Assistant frames are placed where they start to play (the
 * playout ledger's figure), a clear() silences what had been sent but was
 * never played, and gaps are silence. Only a ring of about a second is held; once
 * audio is SETTLE_MS old it is handed, in WRITE_MS pieces, to `write` (the
 * spool file), so a call of any length costs the same few kilobytes.
 */
export class Tape implements AudioTap {
  readonly rate: Rate
  readonly #ring: Int16Array
  /** Frames in the ring (stereo samples). */
  readonly #capacity: number
  readonly #write: (pcm: Buffer) => void
  /** performance.now() of sample 0: the first audio either side produced. */
  #t0 = -1
  /** Frames before this are written out; the ring holds [#base, #base + #capacity). */
  #base = 0
  #callerPos = -1
  /** Where the assistant's audio sent so far ends. */
  #assistantEnd = 0
  readonly #resamplers = new Map<string, Resampler>()
  #ended = false
  /** Frames written out in all. */
  written = 0

  readonly #now: () => number

  /**
   * `leadMs`: how far ahead of its playing assistant audio is sent (PLAYBACK_LEAD_MS);
   * `now`: the clock of the timestamps given (performance.now(); the bench and unit tests bring their own).
   */
  constructor (rate: Rate, write: (pcm: Buffer) => void, leadMs = 100, now: () => number = () => performance.now()) {
    this.rate = rate
    this.#now = now
    const windowMs = SETTLE_MS + WRITE_MS + Math.max(leadMs, MAX_DRIFT_MS) + AHEAD_MARGIN_MS
    this.#capacity = Math.ceil(rate * windowMs / 1000)
    this.#ring = new Int16Array(this.#capacity * 2)
    this.#write = write
  }

  /** Frames from the start to `ms` (performance.now()). */
  #at (ms: number): number {
    return Math.max(0, Math.round((ms - this.#t0) * this.rate / 1000))
  }

  #start (ms: number): void {
    if (this.#t0 < 0) this.#t0 = ms
  }

  caller (pcm: Uint8Array, rate: Rate, nowMs: number): void {
    if (this.#ended) return
    this.#start(nowMs)
    const samples = this.#samples(pcm, rate, 'caller')
    const now = this.#at(nowMs)
    this.#settle(now)
    const drift = MAX_DRIFT_MS * this.rate / 1000
    // The first frame, frames that stopped coming (a gap) or came in a burst: placed by the clock, so both channels stay aligned.
    if (this.#callerPos < 0 || this.#callerPos < now - drift || this.#callerPos > now + drift) this.#callerPos = Math.max(now - samples.length, this.#base)
    this.#callerPos = Math.max(this.#callerPos, this.#base)
    this.#put(0, this.#callerPos, samples)
    this.#callerPos += samples.length
  }

  assistant (frame: Uint8Array, rate: Rate, startMs: number): void {
    if (this.#ended) return
    this.#start(startMs)
    const samples = this.#samples(frame, rate, 'assistant')
    this.#settle(this.#at(this.#now()))
    const at = this.#at(startMs)
    this.#put(1, at, samples)
    this.#assistantEnd = Math.max(this.#assistantEnd, at + samples.length)
  }

  cleared (nowMs: number): void {
    if (this.#ended || this.#t0 < 0) return
    // What was sent but had not played yet never reached the caller's ear.
    const from = Math.max(this.#at(nowMs), this.#base)
    this.#silence(1, from, this.#assistantEnd)
    this.#assistantEnd = Math.min(this.#assistantEnd, from)
  }

  /** The call is over at `nowMs`: everything up to then is written out, nothing after it. */
  end (nowMs: number): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#t0 < 0) return
    const end = Math.max(this.#at(nowMs), this.#base)
    this.#silence(1, end, this.#assistantEnd)
    this.#silence(0, end, Math.max(end, this.#callerPos))
    this.#flush(end)
  }

  /** Audio written so far, in ms. */
  get writtenMs (): number { return this.written * 1000 / this.rate }

  #samples (bytes: Uint8Array, rate: Rate, side: string): Int16Array {
    // A WebSocket frame may start at an odd offset of the socket's buffer: 16-bit samples need an even one, so those are copied.
    const aligned = (bytes.byteOffset & 1) === 0 ? bytes : Uint8Array.prototype.slice.call(bytes)
    const pcm = new Int16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1)
    if (rate === this.rate) return pcm
    // Vonage named another rate after the first frames: those are converted, not lost.
    const key = `${side}:${rate}`
    let r = this.#resamplers.get(key)
    if (r === undefined) {
      try { r = createResampler(rate, this.rate) } catch { r = new StepResampler(rate, this.rate) }
      this.#resamplers.set(key, r)
    }
    return r.process(pcm)
  }

  /** Copies mono `samples` into channel `ch` from frame `at`; what falls outside the window is dropped. */
  #put (ch: 0 | 1, at: number, samples: Int16Array): void {
    const ring = this.#ring
    const cap = this.#capacity
    const end = Math.min(at + samples.length, this.#base + cap)
    for (let p = Math.max(at, this.#base); p < end; p++) ring[(p % cap) * 2 + ch] = samples[p - at]!
  }

  #silence (ch: 0 | 1, from: number, to: number): void {
    const ring = this.#ring
    const cap = this.#capacity
    const end = Math.min(to, this.#base + cap)
    for (let p = Math.max(from, this.#base); p < end; p++) ring[(p % cap) * 2 + ch] = 0
  }

  /** Writes out what has settled, once there is a piece's worth of it. */
  #settle (now: number): void {
    const settled = now - Math.round(SETTLE_MS * this.rate / 1000)
    if (settled - this.#base >= Math.round(WRITE_MS * this.rate / 1000)) this.#flush(settled)
  }

  /** Frames [#base, to) leave the ring (copied: the writer owns its piece) and their slots are cleared for reuse. */
  #flush (to: number): void {
    const cap = this.#capacity
    while (this.#base < to) {
      const n = Math.min(to - this.#base, cap - (this.#base % cap), cap)
      const from = (this.#base % cap) * 2
      const slice = this.#ring.subarray(from, from + n * 2)
      // Its own memory, not a slice of Node's shared pool: the piece moves to the spool writer's thread as it is.
      const out = Buffer.allocUnsafeSlow(n * 4)
      out.set(new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength))
      slice.fill(0)
      this.#write(out)
      this.#base += n
      this.written += n
    }
  }
}

/** For the rate pairs the call's resampler does not serve (8 ↔ 16 kHz): nearest sample, enough for a recording's first frames. */
class StepResampler implements Resampler {
  constructor (readonly inRate: Rate, readonly outRate: Rate) {}
  process (input: Int16Array): Int16Array {
    const out = new Int16Array(Math.round(input.length * this.outRate / this.inRate))
    for (let i = 0; i < out.length; i++) out[i] = input[Math.min(input.length - 1, Math.floor(i * this.inRate / this.outRate))]!
    return out
  }

  reset (): void {}
}
