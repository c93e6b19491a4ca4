/**
 * Loaded into the server process by the benchmark only
 * (`node --import ./dist/scripts/bench/probe.js dist/server.js`, with
 * BENCH_PROBE_DIR set). It subscribes
 * to the bridge's measurement channels (lib/call/probe.ts) and keeps, per process:
 *
 * - pacing jitter: for each call, |interval − 20 ms| between the frames it got
 *   on consecutive beats of its pacer group;
 * - late frames: frames sent after Vonage's playback buffer (as modelled from
 *   the lead) had run dry although their audio was already waiting here;
 * - bridge latency: delta handler entry → its first frame handed to the socket,
 *   and "wire" latency: the fake API's send stamp (in event_id) → that frame;
 * - barge-in: the cut's entry (the bridge's interrupt decision, lib/call/barge-in.ts) → `clear` sent;
 *   from a speech_started's stamp only where a bare speech_started still cuts (no turn-taking);
 * - event-loop delay (perf_hooks.monitorEventLoopDelay), CPU time, memory.
 *
 * When the file `${BENCH_PROBE_DIR}/control` changes to a new sequence
 * number, it writes `${BENCH_PROBE_DIR}/snap-${pid}.json` with everything
 * since the previous one, and starts over. No port, no route, nothing in the
 * production code path: without BENCH_PROBE_DIR this module does nothing.
 */
import { subscribe } from 'node:diagnostics_channel'
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks'
import { closeSync, openSync, readFileSync, readSync, renameSync, writeFileSync, watch } from 'node:fs'
import { join } from 'node:path'
import { Session } from 'node:inspector'
import { isMainThread } from 'node:worker_threads'
import { Histogram, monotonicOffsetMs } from './histogram.js'
import type { frameMessage as FrameMsg, deltaMessage as DeltaMsg, bargeInMessage as BargeMsg, tickMessage as TickMsg } from '../../lib/call/probe.js'

export interface ProbeSnapshot {
  pid: number
  seq: number
  windowMs: number
  cpuUserMs: number
  cpuSystemMs: number
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  eld: { p50: number, p99: number, max: number, mean: number }
  counters: Record<string, number>
  hist: Record<string, ReturnType<Histogram['toJSON']>>
}

const dir = process.env.BENCH_PROBE_DIR
// --import loads this into worker threads too (the call store's database runs in one): only the main thread,
// where the calls and their 20 ms beat live, is measured; a worker's snapshot would replace the main thread's
// (same pid) and count the process's CPU twice.
if (dir !== undefined && dir !== '' && isMainThread) start(dir)

function start (dir: string): void {
  const mono = monotonicOffsetMs()
  const h = {
    jitter: new Histogram(),
    tickLate: new Histogram(),
    tickDur: new Histogram(),
    lateGap: new Histogram(),
    latency: new Histogram(),
    latencyWire: new Histogram(),
    bargeIn: new Histogram(),
    bargeInWire: new Histogram(),
    gcPause: new Histogram()
  }
  const c = { frames: 0, tickFrames: 0, late: 0, deltas: 0, deltasImmediate: 0, bargeIns: 0, ticks: 0, ticksLate4ms: 0, ticksLate4msInGc: 0, ticksLate4msWaitingForCpu: 0, runqueueWaitMs: 0, gcMajor: 0 }
  // Garbage collections, to tell whether a late beat waited for one (the observer hears of a GC after it ended).
  const lateBeats: Array<{ deadline: number, at: number, gc: boolean }> = []
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      h.gcPause.record(e.duration * 1000)
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 4 /* major */) c.gcMajor++
      const end = e.startTime + e.duration
      for (const b of lateBeats) if (!b.gc && end >= b.deadline && e.startTime <= b.at) { b.gc = true; c.ticksLate4msInGc++ }
    }
  }).observe({ entryTypes: ['gc'] })
  // BENCH_TRACE_LATE: late beats' deadlines and start times in µs of the monotonic clock (the clock of --cpu-prof), to find in a profile what held them.
  const trace: Array<[number, number]> | null = process.env.BENCH_TRACE_LATE !== undefined ? [] : null
  const hrOffsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000
  const calls = new WeakMap<object, { group: number, round: number, at: number }>()
  let group = 0
  let round = 0
  let inTick = false
  let tickStart = 0

  // The main thread's time waiting on the kernel's run queue (ready, but another task had the CPU), from
  // /proc/thread-self/schedstat: tells a beat held up by our own work from one the kernel did not run.
  const sched = openSchedstat()
  let waitedNs = sched === null ? 0 : sched.read()
  subscribe('vonage-bridge:tick', (m) => {
    const t = m as typeof TickMsg
    if (t.start) {
      let waited = 0
      if (sched !== null) {
        const w = sched.read()
        waited = (w - waitedNs) / 1e6
        waitedNs = w
        c.runqueueWaitMs += waited
      }
      if (t.at - t.deadline > 4 && waited > 1) c.ticksLate4msWaitingForCpu++
      group = t.group
      round = t.round
      c.ticks++
      inTick = true
      tickStart = t.at
      h.tickLate.record((t.at - t.deadline) * 1000)
      if (t.at - t.deadline > 4) {
        c.ticksLate4ms++
        lateBeats.push({ deadline: t.deadline, at: t.at, gc: false })
        if (trace !== null) trace.push([Math.round(t.deadline * 1000 + hrOffsetUs), Math.round(t.at * 1000 + hrOffsetUs)])
        if (lateBeats.length > 256) lateBeats.shift()
      }
    } else {
      inTick = false
      h.tickDur.record((t.at - tickStart) * 1000)
    }
  })

  subscribe('vonage-bridge:frame', (m) => {
    const f = m as typeof FrameMsg
    c.frames++
    if (f.lateMs > 0) { c.late++; h.lateGap.record(f.lateMs * 1000) }
    if (!inTick || f.session === null) return
    c.tickFrames++
    let st = calls.get(f.session)
    if (st === undefined) { st = { group, round: -1, at: 0 }; calls.set(f.session, st) }
    if (st.group !== group) { st.group = group; st.round = -1 }
    if (st.round === round) return // a second frame in the same beat (catching up): the first one counts
    if (st.round === round - 1) h.jitter.record(Math.abs(f.at - st.at - 20) * 1000)
    st.round = round
    st.at = f.at
  })

  subscribe('vonage-bridge:delta', (m) => {
    const d = m as typeof DeltaMsg
    c.deltas++
    if (d.firstFrameAt < 0) return
    c.deltasImmediate++
    h.latency.record((d.firstFrameAt - d.receivedAt) * 1000)
    const stamp = d.data === null ? 0 : stampOf(d.data)
    if (stamp > 0) h.latencyWire.record((d.firstFrameAt + mono) * 1000 - stamp)
  })

  subscribe('vonage-bridge:barge-in', (m) => {
    const b = m as typeof BargeMsg
    c.bargeIns++
    h.bargeIn.record((b.clearedAt - b.receivedAt) * 1000)
    const stamp = b.eventId.startsWith('event_t') ? Number(b.eventId.slice(7)) : 0
    if (stamp > 0) h.bargeInWire.record((b.clearedAt + mono) * 1000 - stamp)
  })

  const eld = monitorEventLoopDelay({ resolution: 10 })
  eld.enable()
  let cpu = process.cpuUsage()
  let since = performance.now()
  let seq = 0

  let snapshot = (next: number): void => {
    const now = performance.now()
    const used = process.cpuUsage(cpu)
    const mem = process.memoryUsage()
    const snap: ProbeSnapshot = {
      pid: process.pid,
      seq: next,
      windowMs: now - since,
      cpuUserMs: used.user / 1000,
      cpuSystemMs: used.system / 1000,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, mean: eld.mean / 1e6 },
      counters: { ...c },
      hist: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.toJSON()]))
    }
    const file = join(dir, `snap-${process.pid}.json`)
    writeFileSync(file + '.tmp', JSON.stringify(snap))
    renameSync(file + '.tmp', file)
    if (trace !== null) writeFileSync(join(process.env.BENCH_TRACE_LATE ?? dir, `late-${process.pid}-${next}.json`), JSON.stringify(trace.splice(0)))
    for (const v of Object.values(h)) v.reset()
    for (const k of Object.keys(c) as Array<keyof typeof c>) c[k] = 0
    eld.reset()
    cpu = process.cpuUsage()
    since = now
    seq = next
  }

  // BENCH_HEAP_SAMPLE=DIR: a sampling heap profile per window of everything allocated, dead or alive: what
  // makes the collections that hold up the beats.
  const heapDir = process.env.BENCH_HEAP_SAMPLE
  if (heapDir !== undefined) {
    const session = new Session()
    session.connect()
    // BENCH_HEAP_LIVE=promoted: only what outlived the young generation (what its collections copied, and then moved to the old one).
    const promoted = process.env.BENCH_HEAP_LIVE === 'promoted'
    const opts = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !promoted }
    session.post('HeapProfiler.startSampling', opts)
    const original = snapshot
    snapshot = (next: number): void => {
      session.post('HeapProfiler.stopSampling', (err, res) => {
        if (err === null) writeFileSync(join(heapDir, `heap-${process.pid}-${next}.heapprofile`), JSON.stringify(res.profile))
        session.post('HeapProfiler.startSampling', opts)
      })
      original(next)
    }
  }

  const control = join(dir, 'control')
  const check = (): void => {
    let next: number
    try {
      next = Number(readFileSync(control, 'utf8'))
    } catch {
      return
    }
    if (Number.isFinite(next) && next > seq) snapshot(next)
  }
  writeFileSync(join(dir, `pid-${process.pid}`), 'server')
  try {
    watch(dir, { persistent: false }, (_event, name) => { if (name === 'control') check() })
  } catch { /* polling below still works */ }
  setInterval(check, 100).unref()
}

function openSchedstat (): { read: () => number } | null {
  let fd: number
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r')
  } catch {
    return null
  }
  const buf = Buffer.alloc(128)
  process.once('exit', () => closeSync(fd))
  return {
    read: () => {
      const n = readSync(fd, buf, 0, buf.length, 0)
      return Number(buf.toString('latin1', 0, n).split(' ')[1])
    }
  }
}

/** The fake API's send time, µs on the monotonic clock, from an event_id of the form event_t<µs>. */
function stampOf (data: Buffer): number {
  const key = '"event_id":"event_t'
  const i = data.indexOf(key)
  if (i < 0) return 0
  const end = data.indexOf('"', i + key.length)
  return end < 0 ? 0 : Number(data.toString('latin1', i + key.length, end))
}
