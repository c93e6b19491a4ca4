/**
 * `npm run bench:store`: what the embedded call store (SQLite) costs, beside
 * its budgets (docs/performance.md). Figures, not pass/fail: a busy machine
 * shows in them.
 *
 * - the server's RSS right after a first start (a new store) and its peak (VmHWM);
 * - opening a store: a new one (created and migrated), and one holding the calls below;
 * - writing 10,000 calls of 20 lines each through the store's own writer (its worker thread);
 * - the server's RSS idle on that store, after the console's first page and overview were read,
 *   beside the same server with the store off (DATA_DIR empty).
 *
 * Each server is `node [npm start's flags] dist/server.js` (npm run build first), read from
 * /proc (Linux). Options: --calls N (10000), --lines N (20).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { freePort } from '../../test/fakes/server-process.js'
import { startFlags } from '../../test/fakes/start-flags.js'
import { openDb } from '../../lib/records/store/db.js'
import { migrate } from '../../lib/records/store/migrations.js'
import { CallWriter } from '../../lib/records/store/call-store.js'

const MIB = 2 ** 20
/** A moment for the server to settle after its last request before its RSS is read. */
const SETTLE_MS = 1000
const LINE = 'お電話ありがとうございます。ご予約の日時とお名前をお願いいたします。'

export interface ServerMemory { rssMiB: number, peakMiB: number, listenMs: number, /** The server's own figure ('call store open' log line); null with the store off. */ storeOpenMs: number | null }

/** /proc/<pid>/status in MiB: VmRSS now, VmHWM the peak so far. */
function memoryOf (pid: number): { rssMiB: number, peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 }
}

async function get (base: string, path: string): Promise<void> {
  const res = await fetch(base + path, { headers: { host: 'localhost' } })
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
}

/**
 * Starts the built server on `dataDir` ('' = store off), reads its memory once it listens and,
 * with `touch`, after the console's first page and overview; stops it.
 */
export async function serverMemory (dataDir: string, o: { touch?: boolean } = {}): Promise<{ atListen: ServerMemory, idle: ServerMemory }> {
  const port = await freePort()
  const cwd = mkdtempSync(join(tmpdir(), 'bench-store-cwd-'))
  const started = performance.now()
  const child: ChildProcess = spawn(process.execPath, [...startFlags(), resolve('dist/server.js')], {
    cwd,
    env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-bench-0123456789abcdef', SERVER_URL: `127.0.0.1:${port}`, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: '0', MODEL_CHECK: 'off', LOG_LEVEL: 'info', SYSTEM_MESSAGE_PATH: resolve('system-message.txt'), ENV_FILE: join(cwd, '.env'), DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  try {
    while (!out.includes('Server listening')) {
      if (child.exitCode !== null) throw new Error(`server exited:\n${out}`)
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    const listenMs = performance.now() - started
    const opened = out.split('\n').filter(l => l.includes('"msg":"call store open"')).map(l => JSON.parse(l) as { openMs: number })[0]
    const storeOpenMs = opened?.openMs ?? null
    const atListen = { ...memoryOf(child.pid!), listenMs, storeOpenMs }
    const base = `http://127.0.0.1:${port}`
    if (o.touch === true) {
      await get(base, '/api/calls?limit=25')
      await get(base, '/api/overview?days=30&tzOffset=540')
      await get(base, '/api/calls?q=%E4%BA%88%E7%B4%84&limit=25')
    }
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    return { atListen, idle: { ...memoryOf(child.pid!), listenMs, storeOpenMs } }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
    rmSync(cwd, { recursive: true, force: true })
  }
}

/** Writes `calls` calls of `lines` lines through the store's writer; returns the time the database took. */
async function fill (dataDir: string, calls: number, lines: number): Promise<{ openNewMs: number, insertMs: number }> {
  const t0 = performance.now()
  const db = await openDb({ url: '', dataDir })
  await migrate(db)
  const openNewMs = performance.now() - t0
  const w = new CallWriter({ storeFullNumbers: false, storeTranscripts: true, maxQueue: Number.MAX_SAFE_INTEGER, onProblem: (what, err) => { throw err ?? new Error(what) } })
  w.attach(db)
  const now = Date.now()
  const t1 = performance.now()
  for (let i = 0; i < calls; i++) {
    const id = `bench-${i}`
    const startedAt = new Date(now - (calls - i) * 60_000)
    w.callStarted({ id, startedAt, direction: i % 3 === 0 ? 'outbound' : 'inbound', from: '+818012345678', to: '+815031023332', persona: 'default', model: 'gpt-realtime' })
    for (let l = 0; l < lines; l++) w.line({ callId: id, seq: l + 1, role: l % 2 === 0 ? 'assistant' : 'caller', text: `${LINE} (${l})`, atMs: l * 3000 })
    w.callEnded({ id, endedAt: new Date(startedAt.getTime() + 60_000), outcome: 'completed', endReason: 'caller-hangup', durationMs: 60_000, usage: { responses: 10, input_audio_tokens: 1200 }, costUsd: 0.05, timeToFirstAudioMs: 600, lateFrames: 0, bargeIns: 1, backchannels: 2, callerAudioMs: 25_000, assistantAudioMs: 30_000, upstreamErrors: 0 })
    // A day's worth at a time, as a busy server's flushes would bring them.
    if (i % 200 === 199) await w.flush()
  }
  await w.flush()
  const insertMs = performance.now() - t1
  if (w.counters.failed + w.counters.dropped > 0) throw new Error(`writes failed: ${JSON.stringify(w.counters)}`)
  await db.close()
  return { openNewMs, insertMs }
}

async function reopenMs (dataDir: string): Promise<number> {
  const t0 = performance.now()
  const db = await openDb({ url: '', dataDir })
  await migrate(db)
  const ms = performance.now() - t0
  await db.close()
  return ms
}

function arg (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}

async function main (): Promise<void> {
  const calls = arg('calls', 10_000)
  const lines = arg('lines', 20)
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'))
  try {
    const off = await serverMemory('')
    const first = await serverMemory(join(dir, 'first'))
    const { openNewMs, insertMs } = await fill(join(dir, 'full'), calls, lines)
    const reopen = await reopenMs(join(dir, 'full'))
    const full = await serverMemory(join(dir, 'full'), { touch: true })
    const f = (n: number, d = 0): string => n.toFixed(d)
    const rows: Array<[string, string, string]> = [
      ['server RSS idle, store off (DATA_DIR empty)', `${f(off.idle.rssMiB)} MiB`, ''],
      ['server RSS idle, store on, first start (new store)', `${f(first.idle.rssMiB)} MiB`, ''],
      ['server RSS peak, first start (VmHWM)', `${f(first.idle.peakMiB)} MiB`, '≤ 250 MiB'],
      [`server RSS idle, store on, ${calls} calls × ${lines} lines (after the console's first page, overview, a search)`, `${f(full.idle.rssMiB)} MiB`, '≤ 150 MiB'],
      ['  the same server\'s peak (VmHWM)', `${f(full.idle.peakMiB)} MiB`, ''],
      ['start to listening: store off / first start / with the calls', `${f(off.atListen.listenMs)} / ${f(first.atListen.listenMs)} / ${f(full.atListen.listenMs)} ms`, ''],
      ['store open in the server (worker thread + open + migrate + purge): new / with the calls', `${first.atListen.storeOpenMs ?? '?'} / ${full.atListen.storeOpenMs ?? '?'} ms`, '≤ 1 s'],
      ['store open in this process (tsx): new / with the calls', `${f(openNewMs)} / ${f(reopen)} ms`, ''],
      [`insert ${calls} calls × ${lines} lines (${calls * (lines + 2)} statements)`, `${f(insertMs)} ms`, ''],
      ['store file size', `${f(Number(readFileSync(join(dir, 'full', 'calls.sqlite')).length) / MIB, 1)} MiB`, '']
    ]
    const w0 = Math.max(...rows.map(r => r[0].length))
    console.log(`node ${process.version}, ${process.platform}/${process.arch}, load average ${loadavg().map(l => l.toFixed(1)).join(' ')} (a busy machine shows in the times)\n`)
    for (const [what, value, budget] of rows) console.log(`${what.padEnd(w0)}  ${value.padStart(18)}  ${budget}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/bench/store.ts')) await main()
