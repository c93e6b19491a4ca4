/**
 * Streaming rational-ratio polyphase FIR resampler for mono int16 PCM.
 *
 * Conceptually: upsample by L (zero-stuffing), low-pass with a Kaiser-windowed
 * sinc running at L * inRate, keep every M-th sample. The polyphase form only
 * evaluates the taps that meet non-zero input samples for the outputs we keep,
 * so each output costs `taps / L` multiply-adds.
 */

export type Rate = 8000 | 16000 | 24000

export interface Resampler {
  readonly inRate: Rate
  readonly outRate: Rate
  /**
   * Consume `input` samples and return every output sample that can be produced
   * so far. The returned array is a view over an internal buffer that is
   * overwritten by the next call to process(): copy it if you need to keep it.
   * For equal rates the input array itself is returned.
   */
  process(input: Int16Array): Int16Array
  /** Forget history (e.g. after a barge-in flush). */
  reset(): void
}

interface Design {
  /** Upsampling factor (number of polyphase branches). */
  readonly up: number
  /** Decimation factor. */
  readonly down: number
  /** Passband edge and stopband edge in Hz, stopband attenuation target in dB. */
  readonly passHz: number
  readonly stopHz: number
  readonly attenDb: number
}

/**
 * Band edges come from what the bridge needs: speech must be clean up to 6 kHz
 * (3.4 kHz on the 8 kHz narrowband leg), and anything that would fold into the
 * lower rate's band must be well down from 8.5 kHz (4.5 kHz) on. The 70 dB design
 * measures 69.5-72.5 dB worst case (int16 in and out), ~20 dB above the 50 dB
 * the bridge needs; going higher costs taps on every frame of every call.
 * Putting the stopband edge a little above the lower rate's Nyquist instead of
 * at it widens the transition band and saves 20% (16k) to 45% (8k) of the
 * taps. The price: the top ~500 Hz around Nyquist is only partly rejected
 * (aliases on the way down, images on the way up), a region where telephone
 * speech has little energy.
 */
const DESIGNS: Record<string, Design> = {
  '16000>24000': { up: 3, down: 2, passHz: 6000, stopHz: 8500, attenDb: 70 },
  '24000>16000': { up: 2, down: 3, passHz: 6000, stopHz: 8500, attenDb: 70 },
  '8000>24000': { up: 3, down: 1, passHz: 3400, stopHz: 4500, attenDb: 70 },
  '24000>8000': { up: 1, down: 3, passHz: 3400, stopHz: 4500, attenDb: 70 },
}

interface Bank {
  readonly up: number
  readonly down: number
  /** Taps per polyphase branch. */
  readonly taps: number
  /**
   * Branch p occupies [p * taps, (p + 1) * taps). Taps are stored time-reversed
   * so the inner loop walks coefficients and history in the same direction.
   */
  readonly coefs: number[]
  /** After producing an output on branch p: next branch, and how many input samples to advance. */
  readonly nextPhase: number[]
  readonly inputStep: number[]
}

const banks = new Map<string, Bank>()

/**
 * The hot loop uses plain arrays of doubles rather than Float64Array: in Node 20 a
 * packed double array reads faster than a typed array, and typed-array reads get
 * slower still for the rest of the process once any ArrayBuffer anywhere has been
 * detached (transfers, WebAssembly memory growth in any library), which we cannot rule out in a server.
 * Seeding with a non-integer fixes the elements kind to "packed double" for good.
 */
function doubleArray (length: number): number[] {
  const a: number[] = []
  for (let i = 0; i < length; i++) a.push(0.5)
  return a.fill(0)
}

function besselI0 (x: number): number {
  // Power series; converges fast for the beta values a Kaiser window uses.
  let sum = 1
  let term = 1
  const q = (x * x) / 4
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k)
    sum += term
    if (term < sum * 1e-17) break
  }
  return sum
}

function designBank (d: Design, inRate: number): Bank {
  const fsHigh = inRate * d.up
  const transition = (d.stopHz - d.passHz) / fsHigh // cycles per sample at the high rate
  // Kaiser's empirical formulas for beta and length given attenuation and transition width.
  const A = d.attenDb
  const beta = A > 50 ? 0.1102 * (A - 8.7) : A >= 21 ? 0.5842 * (A - 21) ** 0.4 + 0.07886 * (A - 21) : 0
  const minLen = Math.ceil((A - 8) / (2.285 * 2 * Math.PI * transition)) + 1
  // Round up so every branch has the same number of taps, a multiple of 4 for the unrolled loop.
  const taps = Math.ceil(minLen / d.up / 4) * 4
  const n = taps * d.up
  const fc = (d.passHz + d.stopHz) / 2 / fsHigh
  const centre = (n - 1) / 2
  const i0Beta = besselI0(beta)
  const proto = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const t = i - centre
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t)
    const r = (2 * i) / (n - 1) - 1
    proto[i] = sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta)
  }
  const coefs = doubleArray(n)
  for (let p = 0; p < d.up; p++) {
    // Output y[k] with k*down = q*up + p uses x[q - t] * proto[p + up*t]. Normalising each
    // branch to unit DC gain makes a constant input give a constant output; otherwise the
    // branches' slightly different gains would modulate DC into a tone at outRate / up.
    let sum = 0
    for (let t = 0; t < taps; t++) sum += proto[p + d.up * t]!
    for (let t = 0; t < taps; t++) coefs[p * taps + (taps - 1 - t)] = proto[p + d.up * t]! / sum
  }
  const nextPhase: number[] = []
  const inputStep: number[] = []
  for (let p = 0; p < d.up; p++) {
    nextPhase.push((p + d.down) % d.up)
    inputStep.push(Math.floor((p + d.down) / d.up))
  }
  return { up: d.up, down: d.down, taps, coefs, nextPhase, inputStep }
}

function getBank (inRate: Rate, outRate: Rate): Bank {
  const key = `${inRate}>${outRate}`
  let bank = banks.get(key)
  if (!bank) {
    const d = DESIGNS[key]
    if (!d) throw new Error(`resampler: unsupported rate pair ${inRate} Hz -> ${outRate} Hz`)
    bank = designBank(d, inRate)
    banks.set(key, bank)
  }
  return bank
}

/** Upper bound on the samples one process() call can return for `inputSamples` input samples. */
export function maxOutputSamples (inRate: Rate, outRate: Rate, inputSamples: number): number {
  if (inRate === outRate) return inputSamples
  const { up, down } = getBank(inRate, outRate)
  // Outputs produced after T inputs total ceil(T*up/down); the per-call difference never exceeds ceil(n*up/down).
  return Math.floor((inputSamples * up + down - 1) / down)
}

class PassThrough implements Resampler {
  constructor (
    readonly inRate: Rate,
    readonly outRate: Rate
  ) {}

  process (input: Int16Array): Int16Array {
    return input
  }

  reset (): void {}
}

class PolyphaseResampler implements Resampler {
  private readonly bank: Bank
  /** taps-1 samples of history followed by the current input, so the inner loop never wraps. */
  private readonly hist: number[]
  private out: Int16Array
  private view: Int16Array
  /** Next output uses branch `phase` and newest input sample `pos` (indexed from the current call's first sample). */
  private phase = 0
  private pos = 0

  constructor (
    readonly inRate: Rate,
    readonly outRate: Rate
  ) {
    this.bank = getBank(inRate, outRate)
    const frame = inRate / 50
    this.hist = doubleArray(this.bank.taps - 1 + frame)
    this.out = new Int16Array(maxOutputSamples(inRate, outRate, frame))
    this.view = this.out.subarray(0, 0)
  }

  reset (): void {
    this.hist.fill(0)
    this.phase = 0
    this.pos = 0
  }

  process (input: Int16Array): Int16Array {
    const { taps, coefs, nextPhase, inputStep, up, down } = this.bank
    const n = input.length
    const keep = taps - 1
    const hist = this.hist
    while (hist.length < keep + n) hist.push(0.5)
    const maxOut = Math.floor((n * up + down - 1) / down)
    if (this.out.length < maxOut) this.out = new Int16Array(maxOut)
    const out = this.out
    for (let i = 0; i < n; i++) hist[keep + i] = input[i]!

    let phase = this.phase
    let pos = this.pos
    let count = 0
    // With history prepended, the window for newest sample `pos` starts at hist[pos].
    while (pos < n) {
      const c0 = phase * taps
      let acc = 0
      // Four independent sums: a single accumulator makes the loop wait on each add's latency.
      let a1 = 0; let a2 = 0; let a3 = 0
      for (let t = 0; t < taps; t += 4) {
        const h = pos + t
        const c = c0 + t
        acc += coefs[c]! * hist[h]!
        a1 += coefs[c + 1]! * hist[h + 1]!
        a2 += coefs[c + 2]! * hist[h + 2]!
        a3 += coefs[c + 3]! * hist[h + 3]!
      }
      acc += a1 + a2 + a3
      let s = Math.round(acc)
      if (s > 32767) s = 32767
      else if (s < -32768) s = -32768
      out[count++] = s
      pos += inputStep[phase]!
      phase = nextPhase[phase]!
    }
    this.phase = phase
    this.pos = pos - n
    for (let i = 0; i < keep; i++) hist[i] = hist[n + i]!

    // Reuse the previous view when the size repeats (the steady 20 ms case) to avoid an allocation per call.
    if (this.view.length !== count || this.view.buffer !== out.buffer) this.view = out.subarray(0, count)
    return this.view
  }
}

/** The one resampler of the server: the polyphase FIR above (a pass-through when the rates agree). */
export function createResampler (inRate: Rate, outRate: Rate): Resampler {
  if (inRate === outRate) return new PassThrough(inRate, outRate)
  return new PolyphaseResampler(inRate, outRate)
}
