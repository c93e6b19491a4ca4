import fp from 'fastify-plugin'
import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { CallSession, CallStats } from '../lib/call/session.js'
import type { SessionEventMap } from '../lib/call/events.js'
import { estimateCost, outcomeOf } from '../lib/records/record.js'
import { maskNumber, registerSecrets } from '../lib/log/logger.js'
import { leftoverPglite, openDb, pgliteNotice, type Db } from '../lib/records/store/db.js'
import { Journal, JOURNAL_FILE } from '../lib/records/store/journal.js'
import { migrate } from '../lib/records/store/migrations.js'
import { CallWriter, purgeOlderThan } from '../lib/records/store/call-store.js'
import { purgeAudioOlderThan } from '../lib/records/store/audio-store.js'
import { purgeOrphanAudio } from '../lib/records/store/delete-call.js'

type Line = SessionEventMap['transcript'][0]

export interface LiveCall {
  id: string
  startedAt: string
  direction: string
  from: string
  to: string
  lines: Array<{ role: string, text: string, atMs: number }>
  /** Estimated cost so far, USD (GPT-Live: per second of session; Realtime: per response). */
  costUsd: number
  /** Staff phones rung for the call (warm transfers), as they go. */
  transfers?: unknown[]
}

/** Calls in progress, for the console's live view; emits 'start' (LiveCall), 'line' (id, line), 'cost' (id, costUsd), 'transfer' (id, transfers), 'end' (id). */
export class LiveCalls extends EventEmitter {
  readonly calls = new Map<string, LiveCall>()
}

export interface CallStoreHandle {
  /** false when DATA_DIR and DATABASE_URL are both empty: no history is kept. */
  enabled: boolean
  writer: CallWriter
  live: LiveCalls
  /** The open database; null while it opens, when it could not be opened, or when the store is off. */
  db: () => Db | null
  /** Resolves once the first attempt to open the database has finished (before the app is ready). */
  opened: Promise<Db | null>
  purge: () => Promise<number>
}

declare module 'fastify' {
  interface FastifyInstance {
    callStore: CallStoreHandle
  }
}

/** Off the 20 ms beat, and short enough that the console's history trails the call by a moment. */
export const FLUSH_MS = 250
const PURGE_EVERY_MS = 24 * 3600_000
const REOPEN_MS = 30_000
const MAX_LIVE_LINES = 500

/**
 * The call store: every call is written as it happens (a row at its start,
 * its lines as they are finalised, the figures at its end) through a queue
 * that is flushed on a timer, so a slow or broken database never holds up a
 * call. Also keeps the calls in progress in memory for the live console.
 */
async function callStorePlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const log = fastify.log.child({ component: 'call-store' })
  registerSecrets([cfg.DATABASE_URL])
  const enabled = cfg.DATABASE_URL !== '' || cfg.DATA_DIR !== ''
  const reported = new Set<string>()
  let pending: Array<[string, unknown[]]> = []
  // The queue on disk beside the embedded store (with PostgreSQL too, when DATA_DIR is set): a killed process loses no call.
  let journal: Journal | null = null
  if (enabled && cfg.DATA_DIR !== '' && cfg.DATA_DIR !== ':memory:') {
    const path = join(cfg.DATA_DIR, JOURNAL_FILE)
    try {
      mkdirSync(cfg.DATA_DIR, { recursive: true })
      pending = Journal.pending(path)
      journal = new Journal(path)
      if (pending.length > 0) log.warn({ statements: pending.length }, '前回の終了時に書き込み前だった通話データを書き込みます / writing the call data the last run left unwritten (it was stopped before its flush)')
    } catch (err) {
      // The store's open below reports the folder too; calls go on either way.
      log.error({ err, path }, 'call store journal unavailable: a killed process may lose the calls of its last moments')
    }
  }
  const writer = new CallWriter({
    storeFullNumbers: cfg.STORE_FULL_NUMBERS,
    storeTranscripts: cfg.STORE_TRANSCRIPTS,
    onProblem (what, err) {
      // Once per kind until writes succeed again: a dead database must not flood the log at 4 lines a second.
      if (reported.has(what)) return
      reported.add(what)
      log.error({ err, counters: writer.counters }, what === 'queue-full' ? 'call store queue full: call data is being dropped' : 'call store write failed: call data was dropped')
    },
    ...(journal !== null ? { journal } : {})
  })
  writer.restore(pending)
  const live = new LiveCalls()
  let db: Db | null = null
  let closing = false
  let reopenTimer: NodeJS.Timeout | null = null

  async function open (): Promise<Db | null> {
    if (!enabled) return null
    const since = performance.now()
    let d: Db | null = null
    try {
      d = await openDb({ url: cfg.DATABASE_URL, dataDir: cfg.DATA_DIR })
      if (closing) { await d.close(); return null }
      await migrate(d)
      db = d
      writer.attach(d)
      // What the last run left in the journal is written now, before the first call.
      if (writer.queued > 0) await writer.flush()
      const old = d.kind === 'embedded' ? leftoverPglite(cfg.DATA_DIR) : null
      // At every start while the folder is there: an owner who missed it once sees it again, and the server still runs.
      if (old !== null) log.warn({ dir: old }, pgliteNotice(old))
      const purged = await purgeAll(d)
      log.info({ kind: d.kind, dataDir: d.kind === 'embedded' ? cfg.DATA_DIR : undefined, purged, retentionDays: cfg.CALL_RETENTION_DAYS, openMs: Math.round(performance.now() - since) }, 'call store open')
      return d
    } catch (err) {
      // Opened but not migrated: this attempt's connection (or thread) goes; the next attempt opens its own.
      if (d !== null && db !== d) await d.close().catch(() => {})
      log.error({ err, retryInMs: REOPEN_MS }, 'call store could not be opened: calls go on, their history is not kept until it opens')
      if (!closing) {
        reopenTimer = setTimeout(() => { void open() }, REOPEN_MS)
        reopenTimer.unref()
      }
      return null
    }
  }
  // Open (and migrated) before the app is ready: the first call, however early, is stored. SQLite opens in
  // milliseconds; a PostgreSQL that is away fails within its connect timeout and is retried in the background.
  const opened = open()
  await opened

  const flushTimer = setInterval(() => {
    const before = writer.counters.failed + writer.counters.dropped
    writer.flush().then(() => {
      if (writer.counters.failed + writer.counters.dropped === before && writer.counters.written > 0) reported.clear()
    }, () => {})
  }, FLUSH_MS)
  flushTimer.unref()
  /** Calls past CALL_RETENTION_DAYS, recordings past RECORDING_RETENTION_DAYS, and audio whose call is gone. */
  async function purgeAll (d: Db): Promise<number> {
    const calls = await purgeOlderThan(d, cfg.CALL_RETENTION_DAYS)
    const recordings = await purgeAudioOlderThan(d, 'recording', cfg.RECORDING_RETENTION_DAYS)
    const orphans = await purgeOrphanAudio(d)
    if (recordings + orphans > 0) log.info({ recordings, orphans, retentionDays: cfg.RECORDING_RETENTION_DAYS }, 'recordings purged')
    return calls
  }
  const purgeTimer = setInterval(() => {
    if (db !== null) purgeAll(db).catch((err: unknown) => log.error({ err }, 'call store purge failed'))
  }, PURGE_EVERY_MS)
  purgeTimer.unref()

  const persona = fastify.persona.source === 'file' ? basename(fastify.persona.path) : 'default'
  const prices = fastify.callRecords.prices
  const model = cfg.OPENAI_ENGINE === 'live' ? cfg.OPENAI_LIVE_MODEL : cfg.OPENAI_MODEL

  fastify.bridge.onSession.add((session: CallSession) => {
    const startedAt = Date.now()
    const from = session.call.from ?? ''
    const to = session.call.to ?? ''
    const call: LiveCall = { id: session.id, startedAt: new Date(startedAt).toISOString(), direction: session.call.direction, from: maskNumber(from), to: maskNumber(to), lines: [], costUsd: 0 }
    let seq = 0
    let backchannels = 0
    let firstAudioMs: number | null = null
    guard(() => {
      writer.callStarted({ id: session.id, startedAt: new Date(startedAt), direction: session.call.direction, from, to, persona, model })
      live.calls.set(session.id, call)
      live.emit('start', call)
    })
    const onLine = (l: Line): void => guard(() => {
      if (l.text.trim() === '') return
      const line = { role: l.role, text: l.text.trim(), atMs: Math.round(l.atMs) }
      writer.line({ callId: session.id, seq: ++seq, ...line })
      if (!cfg.STORE_TRANSCRIPTS) return
      if (call.lines.length < MAX_LIVE_LINES) call.lines.push(line)
      live.emit('line', session.id, line)
    })
    session.on('transcript', onLine)
    session.on('usage', (usage) => guard(() => {
      const costUsd = estimateCost(usage, prices).total
      if (costUsd === call.costUsd) return
      call.costUsd = costUsd
      live.emit('cost', session.id, costUsd)
    }))
    session.on('backchannel', () => { backchannels++ })
    session.on('transfer', () => guard(() => {
      call.transfers = session.notes.transfers ?? []
      live.emit('transfer', session.id, call.transfers)
    }))
    session.on('first-audio', (e: { ms: number }) => { firstAudioMs = e.ms })
    // Before the other listeners (and the 'call ended' log line): once a call is said to have ended, its record is on disk.
    session.prependOnceListener('end', (stats: CallStats) => guard(() => {
      const notes = session.notes
      notes.tools.forEach((t, i) => writer.tool({ callId: session.id, seq: i + 1, name: t.name, ok: t.ok, latencyMs: t.ms, result: t.error ?? (t.ok ? 'ok' : null) }))
      writer.callEnded({
        id: session.id,
        endedAt: new Date(),
        outcome: notes.outcome ?? outcomeOf(stats.reason),
        endReason: stats.reason,
        durationMs: stats.durationMs,
        usage: stats.usage,
        costUsd: estimateCost(stats.usage, prices).total,
        timeToFirstAudioMs: stats.connectToFirstAudioMs ?? firstAudioMs,
        lateFrames: stats.droppedFrames,
        bargeIns: stats.bargeIns,
        backchannels,
        callerAudioMs: stats.callerAudioMs,
        assistantAudioMs: stats.assistantAudioMs,
        upstreamErrors: stats.upstreamErrors
      })
      if (notes.transfers !== undefined && notes.transfers.length > 0) writer.callTransfers(session.id, notes.transfers)
      live.calls.delete(session.id)
      live.emit('end', session.id)
      // Its end is in the journal already; written to the database now rather than at the next tick of the timer.
      void writer.flush().catch(() => {})
    }))
  })

  /** The store's own bugs stay here: an exception thrown into the session's emit would break the call. */
  function guard (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      writer.counters.failed++
      if (!reported.has('bug')) { reported.add('bug'); log.error({ err }, 'call store: could not record a call event') }
    }
  }

  fastify.decorate('callStore', {
    enabled,
    writer,
    live,
    db: () => db,
    opened,
    purge: async () => db === null ? 0 : await purgeAll(db)
  })

  fastify.addHook('onClose', async () => {
    closing = true
    clearInterval(flushTimer)
    clearInterval(purgeTimer)
    if (reopenTimer !== null) clearTimeout(reopenTimer)
    // Calls still up are ended first (idempotent), so their ends are written too.
    for (const s of fastify.bridge.sessions.values()) s.end('shutdown')
    await opened
    await writer.flush()
    await db?.close()
    journal?.close()
  })
}

export default fp(callStorePlugin, { name: 'call-store', dependencies: ['config', 'bridge', 'call-records'] })
