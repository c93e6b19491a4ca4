import { Mp3Encoder } from '@breezystack/lamejs'
import type { Rate } from '../audio/resampler.js'

export const MP3_MIME = 'audio/mpeg'
/**
 * Bit rate of the two channels together, by sample rate. Telephone speech
 * needs little: 16 kbit/s per channel at 16 kHz stays clear, and keeps a
 * minute at about 240 kB (scripts/bench/recording.ts measures it).
 */
export const MP3_KBPS: Record<Rate, number> = { 8000: 16, 16000: 32, 24000: 32 }
/** Samples per MP3 frame at these rates (MPEG-2 and 2.5 layer III); input is fed in multiples of it. */
export const MP3_FRAME_SAMPLES = 576

/**
 * Two-channel MP3 through lamejs (a pure-JavaScript LAME port: nothing to
 * compile, runs wherever Node does, and every browser plays its output).
 * Takes interleaved stereo PCM (caller left, assistant right) as the tape
 * writes it.
 */
export class StereoMp3 {
  readonly #encoder: Mp3Encoder
  #left = new Int16Array(0)
  #right = new Int16Array(0)

  constructor (readonly rate: Rate, kbps = MP3_KBPS[rate]) {
    this.#encoder = new Mp3Encoder(2, rate, kbps)
  }

  /** Encodes interleaved samples; answers the MP3 bytes ready so far (a copy, possibly empty). */
  encode (interleaved: Int16Array): Uint8Array {
    const n = interleaved.length >> 1
    if (this.#left.length < n) { this.#left = new Int16Array(n); this.#right = new Int16Array(n) }
    const left = this.#left.subarray(0, n)
    const right = this.#right.subarray(0, n)
    for (let i = 0; i < n; i++) { left[i] = interleaved[2 * i]!; right[i] = interleaved[2 * i + 1]! }
    return copy(this.#encoder.encodeBuffer(left, right))
  }

  /** The last frames. */
  flush (): Uint8Array {
    return copy(this.#encoder.flush())
  }
}

/** lamejs hands out views of its own buffers (as signed bytes): a copy we own. */
function copy (bytes: ArrayLike<number> & { buffer: ArrayBufferLike, byteOffset: number, byteLength: number }): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice()
}
