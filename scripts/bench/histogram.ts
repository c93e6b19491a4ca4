/**
 * A log-linear histogram of non-negative values in microseconds (1 µs steps
 * below 64 µs, then 32 steps per power of two: under 3% error), cheap to
 * record into and mergeable across processes, as the benchmark needs for
 * figures gathered in the server process and in the load generators.
 */
const LINEAR = 64
const SUB_BITS = 5
const SUB = 1 << SUB_BITS
const BUCKETS = LINEAR + (32 - 6) * SUB

export interface HistogramJson {
  n: number
  max: number
  sum: number
  /** [bucket index, count] pairs for the non-empty buckets. */
  b: Array<[number, number]>
}

function indexOf (v: number): number {
  if (v < LINEAR) return v
  const e = 31 - Math.clz32(v) // ≥ 6
  return LINEAR + (e - 6) * SUB + ((v >>> (e - SUB_BITS)) & (SUB - 1))
}

/** Midpoint of a bucket, in µs. */
function valueOf (i: number): number {
  if (i < LINEAR) return i
  const e = Math.floor((i - LINEAR) / SUB) + 6
  const sub = (i - LINEAR) % SUB
  const lo = (SUB + sub) * 2 ** (e - SUB_BITS)
  return lo + 2 ** (e - SUB_BITS) / 2
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS)
  n = 0
  max = 0
  sum = 0

  /** Records a value in µs (negative values count as 0). */
  record (us: number): void {
    const v = us > 0 ? (us < 2 ** 31 ? Math.round(us) : 2 ** 31 - 1) : 0
    this.counts[indexOf(v)]!++ // indexOf maps every 31-bit value into the buckets
    this.n++
    this.sum += v
    if (v > this.max) this.max = v
  }

  reset (): void {
    this.counts.fill(0)
    this.n = this.max = this.sum = 0
  }

  merge (o: Histogram | HistogramJson): this {
    if (o instanceof Histogram) {
      for (let i = 0; i < BUCKETS; i++) this.counts[i]! += o.counts[i]!
    } else {
      for (const [i, c] of o.b) this.counts[i]! += c
    }
    this.n += o.n
    this.sum += o.sum
    if (o.max > this.max) this.max = o.max
    return this
  }

  /** The p-th percentile (0–100) in µs; null when empty. */
  percentile (p: number): number | null {
    if (this.n === 0) return null
    const rank = Math.max(1, Math.ceil(this.n * p / 100))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(valueOf(i), this.max)
    }
    return this.max
  }

  /** How many values were above `us`. */
  countAbove (us: number): number {
    let c = 0
    for (let i = indexOf(Math.max(0, Math.floor(us))) + 1; i < BUCKETS; i++) c += this.counts[i]!
    return c
  }

  toJSON (): HistogramJson {
    const b: Array<[number, number]> = []
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] !== 0) b.push([i, this.counts[i]!])
    return { n: this.n, max: this.max, sum: this.sum, b }
  }

  static from (json: HistogramJson | undefined): Histogram {
    const h = new Histogram()
    if (json !== undefined) h.merge(json)
    return h
  }
}

/**
 * Milliseconds on CLOCK_MONOTONIC, the same clock in every process of the
 * machine, so a timestamp taken in one process can be compared with one
 * taken in another (performance.now() counts from each process's own start).
 */
export function monotonicOffsetMs (): number {
  let best = Infinity
  let offset = 0
  for (let i = 0; i < 20; i++) {
    const a = performance.now()
    const mono = Number(process.hrtime.bigint()) / 1e6
    const b = performance.now()
    if (b - a < best) { best = b - a; offset = mono - (a + b) / 2 }
  }
  return offset
}
