/** Test tones and the Goertzel filter: how much of one frequency a stretch of audio holds. */

/** `ms` of a sine at `hz`, `rate` samples a second, peak `amp`. */
export function tone (hz: number, ms: number, rate: number, amp = 8000): Int16Array {
  const out = new Int16Array(Math.round(ms * rate / 1000))
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amp * Math.sin(2 * Math.PI * hz * i / rate))
  return out
}

/** Power of `hz` in `x` (floats, -1..1), normalised by the length: a full-scale sine gives about 0.25. */
export function goertzel (x: ArrayLike<number>, from: number, to: number, hz: number, rate: number): number {
  const k = 2 * Math.cos(2 * Math.PI * hz / rate)
  let s1 = 0
  let s2 = 0
  const start = Math.max(0, Math.floor(from))
  const end = Math.min(x.length, Math.floor(to))
  for (let i = start; i < end; i++) {
    const s0 = x[i]! + k * s1 - s2
    s2 = s1
    s1 = s0
  }
  const n = Math.max(1, end - start)
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n)
}

/** Pieces of audio one after another. */
export function concat (...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.length }
  return out
}
