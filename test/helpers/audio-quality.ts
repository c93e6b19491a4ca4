/**
 * Measurement helpers for resampler tests and benchmarks. Pure functions, no I/O.
 */

/** Full-scale reference for int16 signals (0 dBFS = a sine of this peak amplitude). */
export const FULL_SCALE = 32767

export function dbfsToAmplitude (dbfs: number): number {
  return FULL_SCALE * 10 ** (dbfs / 20)
}

/** An int16 sine (rounded, so it carries int16 quantisation like real call audio). */
export function sineInt16 (
  freqHz: number,
  rate: number,
  samples: number,
  dbfs = -6,
  phase = 0
): Int16Array {
  const amp = dbfsToAmplitude(dbfs)
  const w = (2 * Math.PI * freqHz) / rate
  const out = new Int16Array(samples)
  for (let i = 0; i < samples; i++) out[i] = Math.round(amp * Math.sin(w * i + phase))
  return out
}

export interface SineFit {
  /** Peak amplitude of the fitted sine, in sample units. */
  amplitude: number
  /** Fitted DC offset. */
  dc: number
  /** Mean power of the fitted sine (amplitude^2 / 2). */
  signalPower: number
  /** Mean power of what the fit leaves over: noise + distortion + anything else. */
  residualPower: number
}

type Samples = ArrayLike<number>

/**
 * Least-squares fit of a*cos(wn) + b*sin(wn) + c at a known frequency (IEEE 1057
 * three-parameter fit). Resampling by a rational ratio keeps the frequency exact,
 * so only amplitude, phase and offset are unknown; the group delay is absorbed
 * by the phase. `skip` drops the filter's start-up transient.
 */
export function fitSine (x: Samples, freqHz: number, rate: number, skip = 0, end = x.length): SineFit {
  const w = (2 * Math.PI * freqHz) / rate
  // Normal equations for the basis [cos, sin, 1].
  let cc = 0; let cs = 0; let c1 = 0; let ss = 0; let s1 = 0; let n = 0
  let cy = 0; let sy = 0; let y1 = 0
  for (let i = skip; i < end; i++) {
    const c = Math.cos(w * i)
    const s = Math.sin(w * i)
    const y = x[i]!
    cc += c * c; cs += c * s; c1 += c
    ss += s * s; s1 += s; n++
    cy += c * y; sy += s * y; y1 += y
  }
  if (n < 3) throw new Error('fitSine: need at least 3 samples after skip')
  const [a, b, dc] = solve3(
    [cc, cs, c1, cs, ss, s1, c1, s1, n],
    [cy, sy, y1]
  )
  let res = 0
  for (let i = skip; i < end; i++) {
    const e = x[i]! - (a * Math.cos(w * i) + b * Math.sin(w * i) + dc)
    res += e * e
  }
  const amplitude = Math.hypot(a, b)
  return { amplitude, dc, signalPower: (amplitude * amplitude) / 2, residualPower: res / n }
}

/** Gaussian elimination with partial pivoting on a 3x3 system (row-major `m`). */
function solve3 (m: number[], v: number[]): [number, number, number] {
  const a = [m.slice(0, 3).concat(v[0]!), m.slice(3, 6).concat(v[1]!), m.slice(6, 9).concat(v[2]!)]
  for (let col = 0; col < 3; col++) {
    let piv = col
    for (let r = col + 1; r < 3; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[piv]![col]!)) piv = r
    ;[a[col], a[piv]] = [a[piv]!, a[col]!]
    const p = a[col]![col]!
    if (p === 0) throw new Error('fitSine: singular system (frequency 0 or Nyquist?)')
    for (let r = col + 1; r < 3; r++) {
      const f = a[r]![col]! / p
      for (let k = col; k < 4; k++) a[r]![k]! -= f * a[col]![k]!
    }
  }
  const x = [0, 0, 0]
  for (let r = 2; r >= 0; r--) {
    let s = a[r]![3]!
    for (let k = r + 1; k < 3; k++) s -= a[r]![k]! * x[k]!
    x[r] = s / a[r]![r]!
  }
  return [x[0]!, x[1]!, x[2]!]
}

/** SINAD in dB: fitted sine power over the power of everything else (DC excluded). */
export function sinadDb (x: Samples, freqHz: number, rate: number, skip = 0, end = x.length): number {
  const f = fitSine(x, freqHz, rate, skip, end)
  return 10 * Math.log10(f.signalPower / Math.max(f.residualPower, 1e-30))
}

/** RMS level in dBFS (relative to a full-scale sine's RMS), counting everything in the signal. */
export function rmsDbfs (x: Samples, skip = 0, end = x.length): number {
  let sum = 0
  for (let i = skip; i < end; i++) sum += x[i]! * x[i]!
  const ms = sum / Math.max(1, end - skip)
  return 10 * Math.log10(Math.max(ms, 1e-30) / ((FULL_SCALE * FULL_SCALE) / 2))
}

/** Level in dBFS of the component at one frequency (fitted sine amplitude), ignoring everything else. */
export function toneLevelDbfs (x: Samples, freqHz: number, rate: number, skip = 0, end = x.length): number {
  const { amplitude } = fitSine(x, freqHz, rate, skip, end)
  return 20 * Math.log10(Math.max(amplitude, 1e-30) / FULL_SCALE)
}

/**
 * Where a tone at `freqHz` lands after sampling at `rate` (folding around Nyquist);
 * used to find an out-of-band tone's alias in a resampler's output.
 */
export function aliasHz (freqHz: number, rate: number): number {
  const f = ((freqHz % rate) + rate) % rate
  return f > rate / 2 ? rate - f : f
}
