// Audio building blocks for the softphone's worklets. Plain ES module, no
// browser APIs, so Node tests can import it too.

/**
 * Streaming band-limited resampler for any pair of rates (the sound card's
 * 44.1/48 kHz ⇄ the call's 8/16/24 kHz). Blackman-windowed sinc, cut off a
 * little below the lower Nyquist so nothing aliases into the call; the phase
 * is quantised to 1/512 of a sample, far below what a phone call can hear.
 */
export class Resampler {
  /**
   * @param {number} inRate
   * @param {number} outRate
   * @param {number} [zeroCrossings] filter length on each side, in zero crossings
   */
  constructor (inRate, outRate, zeroCrossings = 8) {
    this.step = inRate / outRate
    const fc = 0.5 * Math.min(1, outRate / inRate) * 0.92 // cycles per input sample
    this.half = Math.ceil(zeroCrossings / (2 * fc))
    const taps = 2 * this.half
    this.phases = 512
    this.table = []
    for (let p = 0; p <= this.phases; p++) {
      const frac = p / this.phases
      const row = new Float32Array(taps)
      let sum = 0
      for (let k = 0; k < taps; k++) {
        const x = k - this.half + 1 - frac
        const u = 2 * fc * x
        const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u)
        const w = Math.abs(x) >= this.half ? 0 : 0.42 + 0.5 * Math.cos(Math.PI * x / this.half) + 0.08 * Math.cos(2 * Math.PI * x / this.half)
        row[k] = sinc * w
        sum += row[k]
      }
      // Unity gain at DC for every phase: no ripple from the phase quantisation.
      for (let k = 0; k < taps; k++) row[k] /= sum
      this.table.push(row)
    }
    this.reset()
  }

  /** Forgets the past (after a barge-in flush). */
  reset () {
    this.buf = new Float32Array(4096)
    this.len = this.half // zeros before the first sample
    this.t = this.half
  }

  /**
   * @param {ArrayLike<number>} input samples in [-1, 1]
   * @returns {Float32Array} what the input completes, about input.length / step samples
   */
  process (input) {
    if (this.len + input.length > this.buf.length) {
      const bigger = new Float32Array(2 * (this.len + input.length))
      bigger.set(this.buf.subarray(0, this.len))
      this.buf = bigger
    }
    this.buf.set(input, this.len)
    this.len += input.length
    const n = Math.max(0, Math.ceil((this.len - this.half - this.t) / this.step))
    // Float steps may land one sample either side of the estimate.
    const out = new Float32Array(n + 2)
    let count = 0
    const buf = this.buf
    const taps = 2 * this.half
    while (this.t + this.half < this.len) {
      const i0 = Math.floor(this.t)
      const row = this.table[Math.round((this.t - i0) * this.phases)]
      const base = i0 - this.half + 1
      let acc = 0
      for (let k = 0; k < taps; k++) acc += buf[base + k] * row[k]
      out[count++] = acc
      this.t += this.step
    }
    const drop = Math.floor(this.t) - this.half + 1
    if (drop > 0) {
      buf.copyWithin(0, drop, this.len)
      this.len -= drop
      this.t -= drop
    }
    return out.subarray(0, count)
  }
}

/** Cuts a float stream into L16 frames (Int16, little-endian on every platform browsers run on) with their RMS level. */
export class Framer {
  /** @param {number} samples samples per frame (rate / 50 for Vonage's 20 ms) */
  constructor (samples) {
    this.size = samples
    this.frame = new Int16Array(samples)
    this.n = 0
    this.sumSq = 0
  }

  /**
   * @param {ArrayLike<number>} input samples in [-1, 1]
   * @param {(frame: Int16Array, level: number) => void} emit gets each full frame (which it may keep or transfer)
   */
  push (input, emit) {
    for (let i = 0; i < input.length; i++) {
      const v = Math.max(-1, Math.min(1, input[i]))
      this.frame[this.n++] = Math.round(v * 32767)
      this.sumSq += v * v
      if (this.n === this.size) {
        const frame = this.frame
        const level = Math.sqrt(this.sumSq / this.size)
        this.frame = new Int16Array(this.size)
        this.n = 0
        this.sumSq = 0
        emit(frame, level)
      }
    }
  }
}

/**
 * Playback queue between the network and the sound card. It waits for
 * `targetMs` before it starts (and again after running dry), so the network's
 * jitter does not become clicks; it holds at most `maxMs`, dropping the
 * oldest audio beyond that, so a stall cannot turn into lasting delay.
 */
export class JitterBuffer {
  /**
   * @param {number} rate samples per second of what is pushed and pulled
   * @param {{ targetMs?: number, maxMs?: number }} [o]
   */
  constructor (rate, o = {}) {
    this.rate = rate
    this.target = Math.round(rate * (o.targetMs ?? 60) / 1000)
    this.ring = new Float32Array(Math.round(rate * (o.maxMs ?? 1000) / 1000))
    this.read = 0
    this.size = 0
    this.playing = false
    this.underruns = 0
    this.dropped = 0
  }

  get bufferedMs () { return this.size / this.rate * 1000 }

  /** @param {ArrayLike<number>} input */
  push (input) {
    const cap = this.ring.length
    let from = 0
    if (input.length > cap) { from = input.length - cap; this.dropped += from }
    const overflow = this.size + (input.length - from) - cap
    if (overflow > 0) {
      this.read = (this.read + overflow) % cap
      this.size -= overflow
      this.dropped += overflow
    }
    let w = (this.read + this.size) % cap
    for (let i = from; i < input.length; i++) {
      this.ring[w] = input[i]
      w = w + 1 === cap ? 0 : w + 1
    }
    this.size += input.length - from
  }

  /**
   * Fills `out` (silence when waiting or dry).
   * @param {Float32Array} out
   * @returns {number} samples of real audio written
   */
  pull (out) {
    if (!this.playing && this.size >= this.target) this.playing = true
    if (!this.playing) { out.fill(0); return 0 }
    const n = Math.min(out.length, this.size)
    const cap = this.ring.length
    for (let i = 0; i < n; i++) {
      out[i] = this.ring[this.read]
      this.read = this.read + 1 === cap ? 0 : this.read + 1
    }
    this.size -= n
    if (n < out.length) {
      out.fill(0, n)
      // Dry in the middle of a block: the network was late (or the assistant finished).
      if (n > 0) this.underruns++
    }
    if (this.size === 0) this.playing = false
    return n
  }

  /** Barge-in: drop everything queued, at once. */
  clear () {
    this.read = 0
    this.size = 0
    this.playing = false
  }
}
