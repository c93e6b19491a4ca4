/**
 * Resampler benchmark: our polyphase FIR vs linear interpolation, libsamplerate (WASM)
 * and the Speex resampler (WASM), all driven the way the bridge drives them: int16 in,
 * int16 out, one 20 ms frame per call, state carried between calls.
 *
 *   node --import tsx scripts/bench/resampler.ts [--json FILE] [--quick] [--only NAME-SUBSTRING]
 *
 * Columns:
 *   ns/frame    median over several timed runs of the warm per-frame CPU time (including
 *               any int16 <-> float conversion and WASM heap copies the library needs);
 *               CPU time rather than wall time so that other load on the box does not
 *               inflate it (wall time is in the JSON)
 *   SINAD       worst over a 200 Hz..6 kHz sweep (..3.4 kHz for 8 kHz), -6 dBFS tones
 *   stopband    worst attenuation of tones that would land in 8.5..11.5 kHz (4.5..11.5 kHz
 *               for 8 kHz): downsampling measures tones at those frequencies, upsampling
 *               measures the images its input tones create there
 *   delay       where a step's output crosses half way, in ms (algorithmic latency)
 *   out/frame   fewest..most samples one 20 ms frame produced in steady streaming
 */
import { writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { createResampler, type Rate } from '../../lib/audio/resampler.js'
import { rmsDbfs, sinadDb, sineInt16 } from '../../test/helpers/audio-quality.js'

export interface BenchRow {
  direction: string
  impl: string
  /** CPU time per 20 ms frame (process CPU clock, so other load on the box does not inflate it). */
  nsPerFrame: number | null
  /** Wall-clock time per frame; equals nsPerFrame on an idle machine. */
  nsPerFrameWall?: number
  worstSinadDb: number | null
  worstSinadHz: number | null
  worstStopbandDb: number | null
  worstStopbandHz: number | null
  /** The output held nothing measurable above int16 quantisation noise: the true figure is at least this. */
  stopbandAtFloor?: boolean
  delayMs: number | null
  outPerFrame: string | null
  note?: string
}

/** One streaming converter instance, int16 in and int16 out; the result may be a reused view. */
interface Stream {
  process(input: Int16Array): Int16Array
  destroy(): void
}

interface Impl {
  name: string
  /** Returns a stream, or a string saying why this implementation cannot stream this pair. */
  open(inRate: Rate, outRate: Rate): Promise<Stream | string>
}

const DIRECTIONS: Array<[Rate, Rate]> = [
  [16000, 24000],
  [24000, 16000],
  [8000, 24000],
  [24000, 8000],
]

// ---------------------------------------------------------------- implementations

const ours: Impl = {
  name: 'ours (polyphase FIR)',
  async open (inRate, outRate) {
    const r = createResampler(inRate, outRate)
    return { process: (x) => r.process(x), destroy () {} }
  },
}

function gcd (a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

/** Streaming linear interpolation with exact integer phase, allocation-free like ours. */
const linear: Impl = {
  name: 'linear interpolation',
  async open (inRate, outRate) {
    const g = gcd(inRate, outRate)
    const step = inRate / g // phase advance per output, in units of 1/unit input samples
    const unit = outRate / g
    let prev = 0
    let phase = 0
    let out = new Int16Array(0)
    return {
      process (x) {
        const max = Math.ceil((x.length * unit) / step) + 1
        if (out.length < max) out = new Int16Array(max)
        let n = 0
        for (let i = 0; i < x.length; i++) {
          const cur = x[i]!
          for (; phase < unit; phase += step) out[n++] = Math.round(prev + ((cur - prev) * phase) / unit)
          phase -= unit
          prev = cur
        }
        return out.subarray(0, n)
      },
      destroy () {},
    }
  },
}

interface LibSampleRateModule {
  create(ch: number, inRate: number, outRate: number, opts: { converterType: 0 | 1 | 2 | 3 | 4 }): Promise<{
    full(dataIn: Float32Array, dataOut?: Float32Array | null, outLength?: { frames: number } | null): Float32Array
    destroy(): void
  }>
}

async function loadLibSampleRate (): Promise<LibSampleRateModule> {
  const spec = '@alexanderolsen/libsamplerate-js'
  const mod = (await import(spec)) as { default?: LibSampleRateModule } & LibSampleRateModule
  return mod.default ?? mod
}

function libsamplerate (name: string, converterType: 0 | 1 | 2): Impl {
  return {
    name,
    async open (inRate, outRate) {
      const lib = await loadLibSampleRate()
      // The `full` API keeps converter state between calls (end_of_input stays 0): real streaming.
      const src = await lib.create(1, inRate, outRate, { converterType })
      const ratio = outRate / inRate
      let fin = new Float32Array(0)
      let fout = new Float32Array(0)
      let out = new Int16Array(0)
      const len = { frames: 0 }
      return {
        process (x) {
          if (fin.length !== x.length) fin = new Float32Array(x.length)
          const cap = Math.ceil(x.length * ratio) + 64
          if (fout.length < cap) fout = new Float32Array(cap)
          for (let i = 0; i < x.length; i++) fin[i] = x[i]! / 32768
          src.full(fin, fout, len)
          if (out.length < len.frames) out = new Int16Array(cap)
          for (let i = 0; i < len.frames; i++) {
            const v = Math.round(fout[i]! * 32768)
            out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v
          }
          return out.subarray(0, len.frames)
        },
        destroy: () => src.destroy(),
      }
    },
  }
}

interface SpeexModule {
  HEAP16: Int16Array
  HEAP32: Int32Array
  HEAPU32: Uint32Array
  _malloc(n: number): number
  _free(p: number): void
  _speex_resampler_init(ch: number, inRate: number, outRate: number, quality: number, errPtr: number): number
  _speex_resampler_process_int(st: number, ch: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number
  _speex_resampler_destroy(st: number): void
}

const speexModules = new Map<string, Promise<SpeexModule>>()
function loadSpeex (simd: boolean): Promise<SpeexModule> {
  // The package ships no typings, so import it through a non-literal specifier and type it here.
  const spec = simd ? '@echogarden/speex-resampler-wasm/simd' : '@echogarden/speex-resampler-wasm'
  let p = speexModules.get(spec)
  if (!p) {
    p = import(spec).then((m: { default: () => Promise<SpeexModule> }) => m.default())
    speexModules.set(spec, p)
  }
  return p
}

function speex (quality: number, simd = false): Impl {
  return {
    name: `speex q${quality}${simd ? ' simd' : ''}`,
    async open (inRate, outRate) {
      const M = await loadSpeex(simd)
      const err = M._malloc(4)
      const st = M._speex_resampler_init(1, inRate, outRate, quality, err)
      const code = M.HEAP32[err >> 2]
      M._free(err)
      if (!st || code) return `speex_resampler_init failed (${code})`
      const CAP = 8192
      const inP = M._malloc(2 * CAP)
      const outP = M._malloc(2 * CAP)
      const lens = M._malloc(8)
      let out = new Int16Array(CAP)
      return {
        process (x) {
          if (x.length > CAP) throw new Error('bench speex adapter: chunk too large')
          M.HEAP16.set(x, inP >> 1)
          M.HEAPU32[lens >> 2] = x.length
          M.HEAPU32[(lens >> 2) + 1] = CAP
          M._speex_resampler_process_int(st, 0, inP, lens, outP, lens + 4)
          if (M.HEAPU32[lens >> 2] !== x.length) throw new Error('speex left input unconsumed')
          const n = M.HEAPU32[(lens >> 2) + 1]!
          out.set(M.HEAP16.subarray(outP >> 1, (outP >> 1) + n))
          return out.subarray(0, n)
        },
        destroy () {
          M._speex_resampler_destroy(st)
          M._free(inP)
          M._free(outP)
          M._free(lens)
          out = new Int16Array(0)
        },
      }
    },
  }
}

const IMPLS: Impl[] = [
  ours,
  linear,
  libsamplerate('libsamplerate best sinc', 0),
  libsamplerate('libsamplerate fastest sinc', 2),
  speex(3),
  speex(5),
  speex(10),
  speex(5, true),
]

// ---------------------------------------------------------------- measurements

/** Stream a whole signal through a fresh instance in 20 ms frames; returns output and per-frame counts. */
async function streamThrough (impl: Impl, inRate: Rate, outRate: Rate, x: Int16Array): Promise<{ y: Int16Array; counts: number[] }> {
  const s = await impl.open(inRate, outRate)
  if (typeof s === 'string') throw new Error(s)
  const frame = inRate / 50
  const y = new Int16Array(Math.ceil((x.length * outRate) / inRate) + 4096)
  const counts: number[] = []
  let n = 0
  for (let i = 0; i < x.length; i += frame) {
    const o = s.process(x.subarray(i, i + frame))
    y.set(o.subarray(0, Math.min(o.length, y.length - n)), n)
    n += o.length
    counts.push(o.length)
  }
  s.destroy()
  return { y: y.subarray(0, Math.min(n, y.length)), counts }
}

function range (from: number, to: number, step: number): number[] {
  const r: number[] = []
  for (let f = from; f <= to + 1e-9; f += step) r.push(f)
  return r
}

interface Plan {
  seconds: number
  sinadStep: number
  stopStep: number
  timedRuns: number
  runMs: number
}

/** A row with no figures yet: filled by measure(), or left empty with a note when an implementation fails. */
function emptyRow (impl: Impl, inRate: Rate, outRate: Rate): BenchRow {
  return {
    direction: `${inRate / 1000}k->${outRate / 1000}k`,
    impl: impl.name,
    nsPerFrame: null,
    worstSinadDb: null,
    worstSinadHz: null,
    worstStopbandDb: null,
    worstStopbandHz: null,
    delayMs: null,
    outPerFrame: null,
  }
}

async function measure (impl: Impl, inRate: Rate, outRate: Rate, plan: Plan): Promise<BenchRow> {
  const row = emptyRow(impl, inRate, outRate)
  const probe = await impl.open(inRate, outRate)
  if (typeof probe === 'string') {
    row.note = probe
    return row
  }
  probe.destroy()

  const narrow = inRate === 8000 || outRate === 8000
  const top = narrow ? 3400 : 6000
  const n = Math.round(inRate * plan.seconds)
  // Skip start-up: libraries with long filters or internal buffering take tens of ms to settle.
  const skipOut = Math.round(outRate * 0.05)

  let worst = Infinity
  let worstHz = 0
  for (const f of range(200, top, plan.sinadStep)) {
    const { y } = await streamThrough(impl, inRate, outRate, sineInt16(f, inRate, n))
    const s = sinadDb(y, f, outRate, skipOut)
    if (s < worst) [worst, worstHz] = [s, f]
  }
  row.worstSinadDb = worst
  row.worstSinadHz = worstHz

  // Stopband. Down: tones in the band that must be rejected. Up: input tones whose first
  // image (inRate - f) lands in that band; everything but the tone itself counts as image.
  const stopLo = narrow ? 4500 : 8500
  // int16 output cannot show anything below its own rounding noise (1/12 LSB^2, -101 dBFS);
  // libraries that round a rejected tone to all zeros would otherwise score "infinite".
  const floorDb = rmsDbfs(sineInt16(1000, inRate, n)) + 101.2
  let worstStop = Infinity
  let worstStopHz = 0
  if (outRate < inRate) {
    for (const f of range(stopLo, 11500, plan.stopStep)) {
      const x = sineInt16(f, inRate, n)
      const { y } = await streamThrough(impl, inRate, outRate, x)
      const a = rmsDbfs(x) - rmsDbfs(y, skipOut)
      if (a < worstStop) [worstStop, worstStopHz] = [a, f]
    }
  } else {
    const fMin = Math.max(200, inRate - 11500)
    const fMax = Math.min(inRate - stopLo, inRate / 2 - 100)
    for (const f of range(fMin, fMax, plan.stopStep)) {
      const x = sineInt16(f, inRate, n)
      const { y } = await streamThrough(impl, inRate, outRate, x)
      const fit = sinadDb(y, f, outRate, skipOut) // tone power / residual power, in output
      const toneDrop = rmsDbfs(x) - rmsDbfs(y, skipOut) // tone itself may sit in the transition band
      const a = fit + toneDrop
      if (a < worstStop) [worstStop, worstStopHz] = [a, inRate - f]
    }
  }
  row.worstStopbandDb = Math.min(worstStop, floorDb)
  row.worstStopbandHz = worstStopHz
  if (worstStop >= floorDb) {
    row.stopbandAtFloor = true // every tone vanished into the floor, so no frequency is "worst"
    row.worstStopbandHz = null
  }

  // Delay: half-way crossing of a step (low-passed edges ring, so use the first crossing).
  // Samples a library holds back (fewer out than in * ratio) are latency too: it drops
  // its filter delay from the front of the stream and makes up for it by emitting late.
  const step = new Int16Array(Math.round(inRate * 0.2))
  const edge = Math.round(inRate * 0.1)
  step.fill(16000, edge)
  const { y: ys, counts } = await streamThrough(impl, inRate, outRate, step)
  const cross = ys.findIndex((v) => v >= 8000)
  const heldBack = Math.round((step.length * outRate) / inRate) - ys.length
  row.delayMs = cross < 0 ? null : ((cross + heldBack) / outRate - edge / inRate) * 1000
  const steady = counts.slice(5)
  row.outPerFrame = `${Math.min(...steady)}..${Math.max(...steady)}`

  const t = await timeFrames(impl, inRate, outRate, plan)
  row.nsPerFrame = t.cpu
  row.nsPerFrameWall = t.wall
  return row
}

async function timeFrames (impl: Impl, inRate: Rate, outRate: Rate, plan: Plan): Promise<{ cpu: number; wall: number }> {
  const s = await impl.open(inRate, outRate)
  if (typeof s === 'string') throw new Error(s)
  // A few different frames of tone + noise so nothing can shortcut on silence or repetition.
  const frame = inRate / 50
  const frames: Int16Array[] = []
  let seed = 12345
  for (let k = 0; k < 8; k++) {
    const x = sineInt16(700 + 300 * k, inRate, frame, -12, k)
    for (let i = 0; i < frame; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      x[i] = x[i]! + ((seed >>> 20) - 2048)
    }
    frames.push(x)
  }
  let sink = 0
  const runFor = (ms: number): { cpu: number; wall: number } => {
    // Batches of 64 frames between clock reads keep timer overhead out of the figure.
    let count = 0
    const cpu0 = process.cpuUsage()
    const start = process.hrtime.bigint()
    const deadline = start + BigInt(Math.round(ms * 1e6))
    let now = start
    while (now < deadline) {
      for (let i = 0; i < 64; i++) sink += s.process(frames[i & 7]!).length
      count += 64
      now = process.hrtime.bigint()
    }
    const cpu = process.cpuUsage(cpu0)
    return { cpu: ((cpu.user + cpu.system) * 1000) / count, wall: Number(now - start) / count }
  }
  runFor(plan.runMs) // warm-up: let the JIT settle
  const runs: Array<{ cpu: number; wall: number }> = []
  for (let r = 0; r < plan.timedRuns; r++) runs.push(runFor(plan.runMs))
  s.destroy()
  if (sink < 0) console.log(sink) // keep the work observable
  return { cpu: median(runs.map((r) => r.cpu)), wall: median(runs.map((r) => r.wall)) }
}

function median (xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

export async function benchResampler (
  opts: { quick?: boolean; only?: string; log?: (row: BenchRow) => void } = {}
): Promise<BenchRow[]> {
  const plan: Plan = opts.quick
    ? { seconds: 0.2, sinadStep: 400, stopStep: 500, timedRuns: 3, runMs: 50 }
    : { seconds: 0.25, sinadStep: 100, stopStep: 100, timedRuns: 5, runMs: 100 }
  // Once any ArrayBuffer in the process has been detached (WASM memory growth does it),
  // V8 adds checks to every typed-array access for good, which slows typed-array code by
  // up to ~50%. Whichever WASM library loads first would tilt the figures for everything
  // after it, so start every run in that state: it is also where a long-lived server ends up.
  const victim = new ArrayBuffer(8)
  structuredClone(victim, { transfer: [victim] })
  const rows: BenchRow[] = []
  for (const [inRate, outRate] of DIRECTIONS) {
    for (const impl of IMPLS) {
      if (opts.only && !impl.name.includes(opts.only)) continue
      let row: BenchRow
      try {
        row = await measure(impl, inRate, outRate, plan)
      } catch (e) {
        row = { ...emptyRow(impl, inRate, outRate), note: `failed: ${(e as Error).message}` }
      }
      rows.push(row)
      opts.log?.(row)
    }
  }
  return rows
}

// ---------------------------------------------------------------- CLI

function fmt (v: number | null, digits: number, width: number): string {
  return (v === null ? '-' : v.toFixed(digits)).padStart(width)
}

function formatRow (r: BenchRow): string {
  return [
    r.direction.padEnd(9),
    r.impl.padEnd(28),
    fmt(r.nsPerFrame, 0, 10),
    `${fmt(r.worstSinadDb, 1, 7)} @${fmt(r.worstSinadHz, 0, 5)}`,
    `${r.stopbandAtFloor ? '>' : ' '}${fmt(r.worstStopbandDb, 1, 6)} @${fmt(r.worstStopbandHz, 0, 6)}`,
    fmt(r.delayMs, 2, 7),
    (r.outPerFrame ?? '-').padStart(10),
    r.note ?? '',
  ].join('  ')
}

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const jsonAt = args.indexOf('--json')
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined
  if (jsonAt >= 0 && !jsonFile) throw new Error('--json needs a file name')
  const started = Date.now()
  console.log(
    ['direction'.padEnd(9), 'implementation'.padEnd(28), 'ns/frame'.padStart(10), 'SINAD dB @ Hz'.padEnd(14),
      'stopband dB @ Hz'.padEnd(16), 'delay ms'.padStart(7), 'out/frame'.padStart(10), 'note'].join('  ')
  )
  const onlyAt = args.indexOf('--only')
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined
  const rows = await benchResampler({ quick: args.includes('--quick'), only, log: (r) => console.log(formatRow(r)) })
  console.log(`\n${rows.length} rows in ${((Date.now() - started) / 1000).toFixed(1)} s, node ${process.version}`)
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify({ node: process.version, date: new Date().toISOString(), rows }, null, 2) + '\n')
    console.log(`wrote ${jsonFile}`)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e)
    process.exitCode = 1
  })
}
