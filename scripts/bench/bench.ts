/**
 * `npm run bench`: how many calls this machine carries, and what the bridge
 * adds, measured on the real server process.
 *
 *   npm run bench -- --help
 *
 * Processes (each its own, so the server's CPU and memory are its own):
 * - the server: `node [npm start's flags] --import dist-bench/scripts/bench/probe.js dist/server.js`.
 *   The probe is the only addition;
 *   it reads the bridge's diagnostics channels (lib/call/probe.ts) and writes
 *   snapshots to files when asked (scripts/bench/probe.ts);
 * - a fake Realtime API (scripts/bench/fake-realtime.ts): every call's
 *   answer, 2 s of speech, in one burst, all calls in the same instant, every
 *   3 s; a barge-in 1 s into it on every other call;
 * - fake Vonage media clients (scripts/bench/callers.ts): answer webhook,
 *   NCCO, media socket after the greeting, caller audio in real time.
 *
 * For each load level it adds calls (held until the end), lets them settle,
 * then measures over whole cycles starting and ending at a quiet point of the
 * cycle, so counts on both sides of each socket match exactly.
 *
 * It changes no process it did not start: pinning (taskset) and priority (nice) apply to its own
 * children only. Whatever else runs on the machine shows in the figures, and the bench says so.
 */
import { fork, spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, openSync, rmSync, readFileSync, readdirSync, writeFileSync, existsSync, closeSync } from 'node:fs'
import { tmpdir, cpus, totalmem, release, availableParallelism } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { once } from 'node:events'
import http from 'node:http'
import { freePort } from '../../test/fakes/server-process.js'
import { TEST_SIGNATURE_SECRET } from '../../test/helpers/vonage-sign.js'
import { startFlags } from '../../test/fakes/start-flags.js'
import { Histogram, monotonicOffsetMs } from './histogram.js'
import type { ProbeSnapshot } from './probe.js'
import { benchResampler, type BenchRow } from './resampler.js'
import { serverMemory } from './store.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const dist = (p: string): string => join(root, 'dist', p)
// The bench's own processes are built apart (tsconfig.bench.json): dist/ holds only the server.
const benchDist = (p: string): string => join(root, 'dist-bench', p)

interface Options {
  levels: number[]
  cycles: number
  callers: number
  budgetS: number
  resampler: boolean
  out: string | null
  greetingDelayMs: number
  modelDelayMs: number
  leadMs: number
  deltaMs: number
  label: string
  /** Write a V8 CPU profile of the server process(es) into bench-results/prof/. */
  prof: boolean
  /** Extra node flags for the server (e.g. --trace-gc), comma-separated. */
  nodeArgs: string[]
  /** Wait up to this many seconds for the machine to be quiet before starting. */
  waitQuietS: number
  /** Pin the server to its own cores and the load to the others (when there are cores to spare). */
  pin: boolean
  /** Run the server at this nice value (negative: ahead of the box's own background work on its core; needs root). */
  nice: number
  /** The fake API serves wss:// (test/fixtures/tls), as the real one does: the server pays for TLS to the model. */
  tls: boolean
  /** Spread the answers over this many ms of each cycle instead of all in one instant (0). */
  spreadMs: number
  /** GPT-Live's fake: its sessions' deltas fall in this many phases of the delta period (1: every session in the same instant). */
  livePhases: number
  /** The call store on (as shipped: an embedded database in the server's folder) or off (DATA_DIR empty). */
  store: boolean
  /** Prometheus metrics on (as shipped, METRICS_PORT 9091 on 127.0.0.1) or off (METRICS_PORT 0). */
  metrics: boolean
  /** The speech engine the server runs (OPENAI_ENGINE) and the fake peer it talks to. */
  engine: 'realtime' | 'live'
  /** RECORDING=on: every call recorded (spooled during the call, encoded after it on a low-priority thread). */
  recording: boolean
}

const USAGE = `npm run bench -- [options]

How many calls one server process carries within the pacing budget, and what the bridge adds
(latency, barge-in, CPU and memory per call), on the built server with fake Vonage and OpenAI.
The server runs alone on one core (its own child, pinned with taskset and, as root, at nice -10);
the load generators on the others. No other process on the machine is touched.

  --levels=50,100,...   concurrent calls to try, in order (default 50,100,150,200,250,300,400,500,600,800,1000;
                        stops at the first level that breaks: calls lost, jitter p99 > 50 ms, > 1 % late)
  --cycles=4            3 s answer cycles measured per level
  --callers=2           load-generator processes playing Vonage
  --budget=330          seconds the levels may take; the next level is skipped when it would not fit
  --tls                 the fake Realtime API serves wss:// (TLS to the model, as in production)
  --engine=live         the server runs GPT-Live (OPENAI_ENGINE=live) against a fake GPT-Live peer
                        (scripts/bench/fake-live.ts: answers streamed at real-time pace, no barge-ins)
  --spread=MS           spread each cycle's answers over MS instead of one instant (default 0: worst case)
  --live-phases=N       GPT-Live's fake streams each session's deltas in one of N phases of the delta period,
                        as independent sessions would (default 1: all sessions' deltas in the same instant)
  --model-delay=300     ms the fake model waits before answering
  --greeting-delay=1000 ms between the answer webhook and the media socket
  --lead=100            PLAYBACK_LEAD_MS of the server
  --delta-ms=100        audio per response.output_audio.delta, in ms
  --nice=N              the server's nice value (default -10 as root, else 0)
  --no-pin              do not pin the server and the load to separate cores
  --no-resampler        skip the resampler comparison at the end
  --no-store            the call store off (DATA_DIR empty); on by default, as shipped
  --no-metrics          Prometheus metrics off (METRICS_PORT=0); on by default, as shipped
  --recording           RECORDING=on: every call recorded (needs the store; off by default, as shipped)
  --wait-quiet=S        wait up to S seconds for the machine to be quiet before starting
  --node-args=a,b       extra node flags for the server (e.g. --trace-gc)
  --prof                V8 CPU profile of the server into bench-results/prof/
  --label=NAME          name part of the result file
  --out=FILE            result JSON (default bench-results/bench-<time>.json)
  --help                this text

Environment, for digging: BENCH_TRACE_LATE=DIR (late beats' times, on the clock of a --prof profile),
BENCH_HEAP_SAMPLE=DIR (sampled allocation profile; BENCH_HEAP_LIVE=promoted: only what outlived the
young generation).
Smallest run that exercises everything once: npm run bench -- --levels=10 --cycles=1 --no-resampler`

function parseArgs (): Options {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE)
    process.exit(0)
  }
  const o: Options = {
    levels: [50, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000],
    cycles: 4,
    callers: 2,
    budgetS: 330,
    resampler: true,
    out: null,
    greetingDelayMs: 1000,
    modelDelayMs: 300,
    leadMs: 100,
    deltaMs: 100,
    label: '',
    prof: false,
    nodeArgs: [],
    waitQuietS: 0,
    pin: true,
    tls: false,
    // The server, our own child, ahead of the machine's background work on its core, where allowed (root).
    nice: process.getuid?.() === 0 ? -10 : 0,
    spreadMs: 0,
    livePhases: 1,
    store: true,
    metrics: true,
    engine: 'realtime',
    recording: false
  }
  for (const a of process.argv.slice(2)) {
    const arg = a.replace(/^--/, '')
    const eq = arg.indexOf('=')
    const [k, v] = eq < 0 ? [arg, ''] : [arg.slice(0, eq), arg.slice(eq + 1)]
    switch (k) {
      case 'levels': o.levels = v.split(',').map(Number).filter(n => n > 0); break
      case 'cycles': o.cycles = Number(v); break
      case 'callers': o.callers = Number(v); break
      case 'budget': o.budgetS = Number(v); break
      case 'no-resampler': o.resampler = false; break
      case 'no-store': o.store = false; break
      case 'no-metrics': o.metrics = false; break
      case 'recording': o.recording = true; break
      case 'out': o.out = v; break
      case 'greeting-delay': o.greetingDelayMs = Number(v); break
      case 'model-delay': o.modelDelayMs = Number(v); break
      case 'lead': o.leadMs = Number(v); break
      case 'delta-ms': o.deltaMs = Number(v); break
      case 'label': o.label = v; break
      case 'prof': o.prof = true; break
      case 'no-pin': o.pin = false; break
      case 'tls': o.tls = true; break
      case 'engine':
        if (v !== 'realtime' && v !== 'live') throw new Error('--engine must be realtime or live')
        o.engine = v
        break
      case 'nice': o.nice = Number(v); break
      case 'spread': o.spreadMs = Number(v); break
      case 'live-phases': o.livePhases = Math.max(1, Math.round(Number(v))); break
      case 'wait-quiet': o.waitQuietS = Number(v); break
      case 'node-args': o.nodeArgs = v.split(',').filter(Boolean); break
      default: throw new Error(`unknown option ${a}; npm run bench -- --help lists them`)
    }
  }
  return o
}

const PERIOD_MS = 3000
const ANSWER_MS = 2000
const BARGE_AT_MS = 1000
const JOIN_AFTER_MS = 4000
/** A point of the cycle when no assistant audio is in flight: answers end ~2.1 s in. */
const QUIET_AT_MS = 2600
/**
 * The barge-in target (< 20 ms). The bridge now decides interruptions itself from the caller's audio
 * (lib/call/turn-taking.ts), so a barge-in is timed from that decision to `clear` leaving us; and "keeping
 * up" also asks that the model's answers reach Vonage < 20 ms after the API sent them (p99): events queued
 * behind a burst of simultaneous answers are what would make an interruption, or an answer, late.
 */
const KEEP_UP_MS = 20

const sleep = async (ms: number): Promise<void> => { if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms)) }
const mono = monotonicOffsetMs()
const monoNow = (): number => performance.now() + mono

async function getJson (url: string): Promise<unknown> {
  return await new Promise((resolve, reject) => {
    http.get(url, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => { try { resolve(JSON.parse(Buffer.concat(parts).toString('utf8'))) } catch (e) { reject(e) } })
    }).on('error', reject)
  })
}

/** Sends a command to a forked child and waits for the reply that has `key`. */
async function ask<T> (child: ChildProcess, msg: object, key: string, timeoutMs = 120_000): Promise<T> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', on); reject(new Error(`no ${key} reply in ${timeoutMs} ms`)) }, timeoutMs)
    const on = (m: Record<string, unknown>): void => {
      if (!(key in m)) return
      clearTimeout(timer)
      child.off('message', on)
      resolve(m[key] as T)
    }
    child.on('message', on)
    if (Object.keys(msg).length > 0) child.send(msg)
  })
}

interface CallerStats {
  held: number
  frames: number
  framesTotal: number
  lateClient: number
  lateGap: ReturnType<Histogram['toJSON']>
  clears: number
  closedUnexpectedly: number
  refused: number
  failed: number
  ttfw: ReturnType<Histogram['toJSON']>
  cpuMs: number
  eldP99: number
  eldMax: number
}

type FakeStats = Record<string, number>

export interface LevelRow {
  calls: number
  held: number
  refused: number
  failed: number
  windowS: number
  cpuMsPerCallSecond: number
  cpuCoresUsed: number
  /** Share of the server's CPU time spent in the kernel (socket syscalls, mostly). */
  cpuSystemShare: number
  rssMiB: number
  rssPerCallKiB: number
  heapPerCallKiB: number
  eldP99Ms: number
  eldMaxMs: number
  jitterP50Ms: number | null
  jitterP99Ms: number | null
  jitterMaxMs: number | null
  jitterSamples: number
  tickLateP99Ms: number | null
  tickDurationP99Ms: number | null
  framesSent: number
  framesReceived: number
  lateFrames: number
  lateFramesAsReceived: number
  droppedFrames: number
  callsDropped: number
  latencyP50Ms: number | null
  latencyP99Ms: number | null
  latencyWireP50Ms: number | null
  latencyWireP99Ms: number | null
  latencySamples: number
  bargeInP99Ms: number | null
  bargeInWireP99Ms: number | null
  bargeInSamples: number
  ttfwP50Ms: number | null
  ttfwP99Ms: number | null
  ttfwMaxMs: number | null
  truncatesOutOfBounds: number
  loadCpuCores: number
  loadEldP99Ms: number
  /** CPU used on the machine by processes other than the bench's own, in cores: > 0.1 means the figures are disturbed. */
  otherCpuCores: number
  /** How late a do-nothing 5 ms timer woke, in a process on the load generators' cores: the machine's own jitter there. */
  controlTimerP99Ms: number | null
  controlTimerMaxMs: number | null
  withinBudget: boolean
}

/** Busy CPU time of the whole machine so far, ms (from /proc/stat; 0 where there is none). */
function machineBusyMs (): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f
    return (user + nice + system + irq + softirq + steal) * 10
  } catch {
    return 0
  }
}

const ms = (us: number | null): number | null => us === null ? null : Math.round(us / 10) / 100

function readSnaps (dir: string, seq: number): ProbeSnapshot[] {
  const out: ProbeSnapshot[] = []
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('snap-') || f.endsWith('.tmp')) continue
    try {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ProbeSnapshot
      if (s.seq === seq) out.push(s)
    } catch { /* being written */ }
  }
  return out
}

function livePids (dir: string): number[] {
  return readdirSync(dir).filter(f => f.startsWith('pid-')).map(f => Number(f.slice(4))).filter(pid => {
    try { process.kill(pid, 0); return true } catch { return false }
  })
}

async function snapshot (dir: string, seq: number): Promise<ProbeSnapshot[]> {
  writeFileSync(join(dir, 'control'), String(seq))
  const deadline = Date.now() + 10_000
  for (;;) {
    const want = livePids(dir).length
    const snaps = readSnaps(dir, seq)
    if (snaps.length >= want && want > 0) return snaps
    if (Date.now() > deadline) throw new Error(`probe snapshots: ${snaps.length} of ${want}`)
    await sleep(20)
  }
}

function fmt (v: number | null, digits = 1): string {
  return v === null ? '-' : v.toFixed(digits)
}

export function formatTable (rows: LevelRow[]): string {
  const head = ['calls', 'held', 'CPU ms/call·s', 'RSS/call KiB', 'ELD p99 ms', 'jitter p50/p99/max ms', 'late (recv) / dropped', 'bridge lat p50/p99 ms', 'wire lat p50/p99 ms', 'barge-in p99 (wire) ms', 'TTFW p50/p99 ms', 'load cores', 'other cores', 'load-core timer p99/max ms', 'in budget']
  const lines = rows.map(r => [
    String(r.calls),
    String(r.held),
    fmt(r.cpuMsPerCallSecond, 2),
    fmt(r.rssPerCallKiB, 0),
    fmt(r.eldP99Ms, 1),
    `${fmt(r.jitterP50Ms, 2)} / ${fmt(r.jitterP99Ms, 2)} / ${fmt(r.jitterMaxMs, 1)}`,
    `${r.lateFrames} (${r.lateFramesAsReceived}) / ${r.droppedFrames + r.callsDropped}`,
    `${fmt(r.latencyP50Ms, 2)} / ${fmt(r.latencyP99Ms, 2)}`,
    `${fmt(r.latencyWireP50Ms, 2)} / ${fmt(r.latencyWireP99Ms, 2)}`,
    `${fmt(r.bargeInP99Ms, 2)} (${fmt(r.bargeInWireP99Ms, 2)})`,
    `${fmt(r.ttfwP50Ms, 1)} / ${fmt(r.ttfwP99Ms, 1)}`,
    fmt(r.loadCpuCores, 2),
    fmt(r.otherCpuCores, 2),
    `${fmt(r.controlTimerP99Ms, 1)} / ${fmt(r.controlTimerMaxMs, 1)}`,
    r.withinBudget ? 'yes' : 'no'
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map(l => l[i]!.length)))
  const row = (cells: string[]): string => '| ' + cells.map((c, i) => c.padStart(widths[i]!)).join(' | ') + ' |'
  return [row(head), '|' + widths.map(w => '-'.repeat(w + 1) + ':').join('|') + '|', ...lines.map(row)].join('\n')
}

/** The built server's RSS at rest with the store off (DATA_DIR empty) and on (a new embedded store), in MiB. */
async function storeOnOff (): Promise<{ off: number, on: number, onPeak: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-rss-'))
  try {
    const off = await serverMemory('')
    const on = await serverMemory(dir)
    return { off: off.idle.rssMiB, on: on.idle.rssMiB, onPeak: on.idle.peakMiB }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const o = parseArgs()
  if (o.recording && !o.store) throw new Error('--recording needs the call store: drop --no-store')
  for (const f of ['server.js', 'scripts/bench/probe.js', 'scripts/bench/callers.js', 'scripts/bench/fake-realtime.js', 'scripts/bench/fake-live.js'].map(f => f.startsWith('scripts/') ? benchDist(f) : dist(f))) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build and tsc -p tsconfig.bench.json first (npm run bench does)`)
  }
  const started = Date.now()
  const resultsDir = join(root, 'bench-results')
  mkdirSync(resultsDir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const probeDir = mkdtempSync(join(tmpdir(), 'bench-probe-'))
  const children: ChildProcess[] = []
  const cleanup = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  }
  process.on('exit', cleanup)
  process.on('SIGINT', () => { cleanup(); process.exit(130) })
  process.on('SIGTERM', () => { cleanup(); process.exit(143) })

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release()
  }
  // Other work on the machine (other test runs) disturbs every figure: say so, or wait for it to end.
  let background = 0
  for (const until = Date.now() + o.waitQuietS * 1000; ;) {
    const b0 = machineBusyMs()
    await sleep(2000)
    background = (machineBusyMs() - b0) / 2000
    if (background < 0.15 || Date.now() > until) break
    console.log(`machine busy (${background.toFixed(2)} cores used by other processes): waiting for it to be quiet`)
  }
  if (background >= 0.15) console.log(`warning: ${background.toFixed(2)} cores were busy before the bench started: the figures will be disturbed`)
  console.log(`machine: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, node ${machine.node}; lead ${o.leadMs} ms`)

  // The server alone on its core, the load on the rest, so neither steals the other's CPU. Only the
  // bench's own processes are pinned: this one (it reads the snapshots between windows) and its children.
  const cores = machine.cores
  const pinned = o.pin && cores > 1 && existsSync('/usr/bin/taskset')
  const serverCpus = pinned ? `${cores - 1}` : null
  const loadCpus = pinned ? `0-${cores - 2}` : null
  const pin = (pid: number | undefined): void => {
    if (loadCpus !== null && pid !== undefined) execFileSync('taskset', ['-a', '-p', '-c', loadCpus, String(pid)], { stdio: 'ignore' })
  }
  pin(process.pid)
  if (pinned) console.log(`server pinned to CPU ${serverCpus}, load generators to CPU ${loadCpus}`)
  if (o.nice !== 0) console.log(`server at nice ${o.nice} (--nice=0 to run it at the default priority)`)

  // ---- fake Realtime API
  const tlsCert = join(root, 'test/fixtures/tls/cert.pem')
  if (o.tls) console.log('the fake API serves wss:// (TLS to the model, as in production)')
  if (o.engine === 'live') console.log('engine: GPT-Live against the fake GPT-Live peer (answers at real-time pace, no barge-ins)')
  const fake = fork(benchDist(o.engine === 'live' ? 'scripts/bench/fake-live.js' : 'scripts/bench/fake-realtime.js'), [], {
    env: { ...process.env, BENCH_FAKE_CONFIG: JSON.stringify({ modelDelayMs: o.modelDelayMs, deltaMs: o.deltaMs, answerMs: ANSWER_MS, periodMs: PERIOD_MS, bargeAtMs: BARGE_AT_MS, joinAfterMs: JOIN_AFTER_MS, spreadMs: o.spreadMs, phases: o.livePhases, tls: o.tls ? { key: join(root, 'test/fixtures/tls/key.pem'), cert: tlsCert } : null }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  children.push(fake)
  pin(fake.pid)
  const fakePort = await ask<number>(fake, {}, 'port')

  // What the call store adds to the server at rest, apart from the probe and the load (npm run bench:store for more).
  const storeRss = await storeOnOff()
  console.log(`server RSS idle (no probe, no calls): store off ${storeRss.off.toFixed(0)} MiB, store on ${storeRss.on.toFixed(0)} MiB (a new embedded store; peak ${storeRss.onPeak.toFixed(0)} MiB)`)

  // ---- the server, alone in its process(es)
  const port = await freePort()
  const logPath = join(resultsDir, `server-${stamp}.log`)
  const logFd = openSync(logPath, 'w')
  const serverCwd = mkdtempSync(join(tmpdir(), 'bench-server-'))
  const profArgs = o.prof ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'prof')}`] : []
  // As npm start runs it (its node flags), plus the probe.
  const nodeArgv = [...startFlags(), ...profArgs, ...o.nodeArgs, '--import', pathToFileURL(benchDist('scripts/bench/probe.js')).href, dist('server.js')]
  const command = [
    ...(serverCpus !== null ? ['taskset', '-c', serverCpus] : []),
    ...(o.nice !== 0 ? ['nice', '-n', String(o.nice)] : []),
    process.execPath, ...nodeArgv
  ]
  const server = spawn(command[0]!, command.slice(1), {
    cwd: serverCwd,
    env: {
      PATH: process.env.PATH,
      OPENAI_API_KEY: 'sk-bench-0123456789abcdef',
      // The load generators sign webhooks and media handshakes with it, as Vonage does (scripts/bench/callers.ts).
      VONAGE_SIGNATURE_SECRET: TEST_SIGNATURE_SECRET,
      OPENAI_BASE_URL: `${o.tls ? 'https' : 'http'}://127.0.0.1:${fakePort}/v1`,
      OPENAI_ENGINE: o.engine,
      ...(o.tls ? { NODE_EXTRA_CA_CERTS: tlsCert } : {}),
      HOST: '127.0.0.1',
      PORT: String(port),
      SERVER_URL: `127.0.0.1:${port}`,
      LOG_LEVEL: 'info',
      SYSTEM_MESSAGE_PATH: join(root, 'system-message.txt'),
      MAX_CONCURRENT_CALLS: '100000',
      ANSWER_RATE_LIMIT_PER_MINUTE: '100000',
      PLAYBACK_LEAD_MS: String(o.leadMs),
      SHUTDOWN_DRAIN_SECONDS: '0',
      BENCH_PROBE_DIR: probeDir,
      // As shipped, the call store writes an embedded database into the server's own (temporary) folder.
      ...(o.store ? {} : { DATA_DIR: '' }),
      ...(o.metrics ? {} : { METRICS_PORT: '0' }),
      ...(o.recording ? { RECORDING: 'on' } : {}),
      ...(process.env.BENCH_TRACE_LATE !== undefined ? { BENCH_TRACE_LATE: process.env.BENCH_TRACE_LATE } : {}),
      ...(process.env.BENCH_HEAP_SAMPLE !== undefined ? { BENCH_HEAP_SAMPLE: process.env.BENCH_HEAP_SAMPLE, BENCH_HEAP_LIVE: process.env.BENCH_HEAP_LIVE ?? '' } : {})
    },
    stdio: ['ignore', logFd, logFd]
  })
  children.push(server)
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try { await getJson(`${base}/health`); break } catch {}
    if (server.exitCode !== null || i > 300) throw new Error(`server did not start; see ${logPath}`)
    await sleep(50)
  }
  while (livePids(probeDir).length < 1) await sleep(50)
  if (o.store) {
    // The store opens before the server listens; this only confirms it did (and says how long the server took).
    const since = performance.now()
    while (!readFileSync(logPath, 'utf8').includes('"msg":"call store open"')) {
      if (server.exitCode !== null || performance.now() - since > 300_000) throw new Error(`the call store did not open; see ${logPath}`)
      await sleep(200)
    }
    const line = readFileSync(logPath, 'utf8').split('\n').find(l => l.includes('"msg":"call store open"'))
    console.log(`call store open in ${String((JSON.parse(line ?? '{}') as { openMs?: number }).openMs ?? '?')} ms (a new embedded database), waited ${(performance.now() - since).toFixed(0)} ms`)
  }

  // ---- fake Vonage
  const callers: ChildProcess[] = []
  for (let i = 0; i < o.callers; i++) {
    const c = fork(benchDist('scripts/bench/callers.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(c)
    callers.push(c)
    pin(c.pid)
    await ask(c, {}, 'ready')
  }

  // The control: a do-nothing timer, with the load (beside the server it would take the server's core).
  const controlProc = fork(benchDist('scripts/bench/control.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.push(controlProc)
  pin(controlProc.pid)
  await ask(controlProc, {}, 'ready')

  const origin = monoNow() + 1000
  fake.send({ cmd: 'cycles', origin })
  let seq = 1
  const idle = await snapshot(probeDir, seq)
  const idleRss = idle.reduce((a, s) => a + s.rss, 0)
  const idleHeap = idle.reduce((a, s) => a + s.heapUsed, 0)
  console.log(`server idle: ${(idleRss / 2 ** 20).toFixed(0)} MiB RSS in ${idle.length} process(es)\n`)

  const rows: LevelRow[] = []
  let current = 0
  for (const level of o.levels) {
    const elapsedS = (Date.now() - started) / 1000
    const levelCostS = (Math.max(0, level - current) * 4 + o.greetingDelayMs + JOIN_AFTER_MS + PERIOD_MS * (o.cycles + 2)) / 1000
    if (elapsedS + levelCostS > o.budgetS) { console.log(`(time budget: stopping before ${level} calls)`); break }

    // Add calls, spread over a ramp of 250 calls/s, each process its share.
    const fresh = Array.from({ length: level - current }, (_, i) => current + i)
    const shares = callers.map((_, k) => fresh.filter((_, i) => i % callers.length === k))
    const rampMs = Math.max(500, fresh.length * 4)
    const opened = await Promise.all(callers.map(async (c, k) => await ask<{ ok: number, refused: number, failed: number }>(c, { cmd: 'open', base, indices: shares[k], greetingDelayMs: o.greetingDelayMs, rampMs }, 'opened')))
    current = level
    const joinedBy = monoNow() + JOIN_AFTER_MS + o.greetingDelayMs
    // Measure from the first quiet point once every new call has joined the cycles.
    let k = Math.ceil((joinedBy - origin - QUIET_AT_MS) / PERIOD_MS) + 1
    const windowStart = origin + k * PERIOD_MS + QUIET_AT_MS
    await sleep(windowStart - monoNow())
    seq++
    await snapshot(probeDir, seq)
    await Promise.all([...callers, controlProc].map(async c => await ask(c, { cmd: 'window' }, 'window')))
    const fake0 = await ask<FakeStats>(fake, { cmd: 'stats' }, 'stats')
    const busy0 = machineBusyMs()
    k += o.cycles
    await sleep(origin + k * PERIOD_MS + QUIET_AT_MS - monoNow())
    seq++
    const snaps = await snapshot(probeDir, seq)
    const cs = await Promise.all(callers.map(async c => await ask<CallerStats>(c, { cmd: 'stats' }, 'stats')))
    const fake1 = await ask<FakeStats>(fake, { cmd: 'stats' }, 'stats')
    const control = Histogram.from(await ask(controlProc, { cmd: 'stats' }, 'stats'))
    const busy1 = machineBusyMs()

    const merged = (name: string): Histogram => snaps.reduce((h, s) => h.merge(s.hist[name]!), new Histogram())
    const sum = (name: string): number => snaps.reduce((a, s) => a + (s.counters[name] ?? 0), 0)
    const windowS = Math.max(...snaps.map(s => s.windowMs)) / 1000
    const held = cs.reduce((a, c) => a + c.held, 0)
    const cpuMs = snaps.reduce((a, s) => a + s.cpuUserMs + s.cpuSystemMs, 0)
    const rss = snaps.reduce((a, s) => a + s.rss, 0)
    const heap = snaps.reduce((a, s) => a + s.heapUsed, 0)
    const jitter = merged('jitter')
    const latency = merged('latency')
    const wire = merged('latencyWire')
    const barge = merged('bargeIn')
    const bargeWire = merged('bargeInWire')
    const ttfw = cs.reduce((h, c) => h.merge(c.ttfw), new Histogram())
    const framesSent = sum('frames')
    const framesReceived = cs.reduce((a, c) => a + c.frames, 0)
    const lateFramesAsReceived = cs.reduce((a, c) => a + c.lateClient, 0)
    console.log(`  (CPU: ${Math.round(100 * snaps.reduce((a, s) => a + s.cpuSystemMs, 0) / Math.max(1, cpuMs))} % in the kernel) (beats late > 4 ms: ${sum('ticksLate4ms')}, of which during a GC: ${sum('ticksLate4msInGc')}, with > 1 ms waiting for the CPU: ${sum('ticksLate4msWaitingForCpu')}; waited for the CPU ${Math.round(sum('runqueueWaitMs'))} ms in all; major GCs: ${sum('gcMajor')}; GC pause p99 ${ms(merged('gcPause').percentile(99))} ms, max ${ms(merged('gcPause').max)} ms, count ${merged('gcPause').n})`)
    const row: LevelRow = {
      calls: level,
      held,
      refused: opened.reduce((a, r) => a + r.refused, 0),
      failed: opened.reduce((a, r) => a + r.failed, 0),
      windowS: Math.round(windowS * 10) / 10,
      cpuMsPerCallSecond: held > 0 ? cpuMs / (held * windowS) : 0,
      cpuCoresUsed: cpuMs / 1000 / windowS,
      cpuSystemShare: cpuMs > 0 ? snaps.reduce((a, s) => a + s.cpuSystemMs, 0) / cpuMs : 0,
      rssMiB: rss / 2 ** 20,
      rssPerCallKiB: held > 0 ? (rss - idleRss) / held / 1024 : 0,
      heapPerCallKiB: held > 0 ? (heap - idleHeap) / held / 1024 : 0,
      eldP99Ms: Math.max(...snaps.map(s => s.eld.p99)),
      eldMaxMs: Math.max(...snaps.map(s => s.eld.max)),
      jitterP50Ms: ms(jitter.percentile(50)),
      jitterP99Ms: ms(jitter.percentile(99)),
      jitterMaxMs: ms(jitter.n > 0 ? jitter.max : null),
      jitterSamples: jitter.n,
      tickLateP99Ms: ms(merged('tickLate').percentile(99)),
      tickDurationP99Ms: ms(merged('tickDur').percentile(99)),
      framesSent,
      framesReceived,
      lateFrames: sum('late'),
      lateFramesAsReceived,
      droppedFrames: Math.max(0, framesSent - framesReceived),
      callsDropped: cs.reduce((a, c) => a + c.closedUnexpectedly, 0),
      latencyP50Ms: ms(latency.percentile(50)),
      latencyP99Ms: ms(latency.percentile(99)),
      latencyWireP50Ms: ms(wire.percentile(50)),
      latencyWireP99Ms: ms(wire.percentile(99)),
      latencySamples: latency.n,
      bargeInP99Ms: ms(barge.percentile(99)),
      bargeInWireP99Ms: ms(bargeWire.percentile(99)),
      bargeInSamples: barge.n,
      ttfwP50Ms: ms(ttfw.percentile(50)),
      ttfwP99Ms: ms(ttfw.percentile(99)),
      ttfwMaxMs: ms(ttfw.n > 0 ? ttfw.max : null),
      truncatesOutOfBounds: (fake1.badTruncates ?? 0) - (fake0.badTruncates ?? 0),
      loadCpuCores: cs.reduce((a, c) => a + c.cpuMs, 0) / 1000 / windowS,
      loadEldP99Ms: Math.max(...cs.map(c => c.eldP99)),
      otherCpuCores: 0,
      controlTimerP99Ms: ms(control.percentile(99)),
      controlTimerMaxMs: ms(control.n > 0 ? control.max : null),
      withinBudget: false
    }
    const loadMs = cs.reduce((a, c) => a + c.cpuMs, 0) + (fake1.cpuMs! - fake0.cpuMs!)
    row.loadCpuCores = loadMs / 1000 / windowS
    row.otherCpuCores = Math.max(0, (busy1 - busy0 - cpuMs - loadMs) / 1000 / windowS)
    row.withinBudget = row.held === level && row.jitterP99Ms !== null && row.jitterP99Ms < 5 && row.lateFrames === 0 && row.droppedFrames === 0 && row.callsDropped === 0
    rows.push(row)
    const table = formatTable(rows).split('\n')
    console.log((rows.length === 1 ? table : table.slice(-1)).join('\n'))
    const broken = row.held < level * 0.98 || (row.jitterP99Ms ?? 0) > 50 || row.lateFrames > row.framesSent * 0.01 || row.eldP99Ms > 200
    if (broken) { console.log(`(broken at ${level} calls: stopping)`); break }
  }

  await Promise.all(callers.map(async c => await ask(c, { cmd: 'close' }, 'closed')))
  server.kill('SIGTERM')
  await Promise.race([once(server, 'exit'), sleep(15_000)])
  closeSync(logFd)
  fake.kill()
  controlProc.kill()
  for (const c of callers) c.kill()

  let resampler: BenchRow[] = []
  if (o.resampler) {
    console.log('\nresampler alone (20 ms frames):')
    resampler = await benchResampler({ quick: true })
    for (const r of resampler) console.log(`  ${r.direction.padEnd(9)} ${r.impl.padEnd(28)} ${fmt(r.nsPerFrame, 0).padStart(8)} ns/frame  SINAD ${fmt(r.worstSinadDb, 1)} dB${r.note !== undefined ? '  ' + r.note : ''}`)
  }

  const inBudget = rows.filter(r => r.withinBudget)
  const headline = inBudget.length > 0 ? Math.max(...inBudget.map(r => r.calls)) : 0
  const missed = rows.filter(r => !r.withinBudget && r.calls < headline).map(r => r.calls)
  console.log(`\nheadline: ${headline} concurrent calls with pacing jitter p99 < 5 ms and no late or dropped frames (one server process, ${machine.cores} cores)${missed.length > 0 ? `; not within it at ${missed.join(', ')}` : ''}`)
  // Pacing can hold while the model's events queue up behind a burst: a barge-in or an answer heard late is a glitch too.
  // GPT-Live has no barge-ins (the model takes turns itself): only its answers' latency counts.
  const bargeInsKept = (r: LevelRow): boolean => o.engine === 'live' || (r.bargeInP99Ms !== null && r.bargeInP99Ms < KEEP_UP_MS)
  const keeping = rows.filter(r => r.withinBudget && bargeInsKept(r) && r.latencyWireP99Ms !== null && r.latencyWireP99Ms < KEEP_UP_MS)
  const keepingUp = keeping.length > 0 ? Math.max(...keeping.map(r => r.calls)) : 0
  console.log(`keeping up: ${keepingUp} concurrent calls within that budget whose barge-ins took < ${KEEP_UP_MS} ms from the decision to clear and whose answers reached Vonage < ${KEEP_UP_MS} ms after the API sent them (p99)`)
  const result = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    backgroundCoresBeforeStart: Math.round(background * 100) / 100,
    options: { ...o, periodMs: PERIOD_MS, answerMs: ANSWER_MS, bargeAtMs: BARGE_AT_MS },
    pinning: pinned ? { server: serverCpus, load: loadCpus } : null,
    headline: { calls: headline, keepingUpCalls: keepingUp, notWithinBudgetBelow: missed },
    levels: rows,
    resampler,
    durationS: Math.round((Date.now() - started) / 1000)
  }
  const file = o.out ?? join(resultsDir, `bench-${o.label !== '' ? o.label + '-' : ''}${stamp}.json`)
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n')
  console.log(`wrote ${file} (server log: ${logPath})`)
  process.exit(0)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
