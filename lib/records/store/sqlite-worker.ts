/**
 * The embedded database's thread: SQLite through Node's built-in node:sqlite.
 * Its calls are synchronous and a commit can take milliseconds (more with an
 * fsync), so they run here, away from the 20 ms audio beat of the main thread.
 */
import { workerData } from 'node:worker_threads'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { lowPriorityPort } from '../../threads/worker-port.js'
import { sqliteParam, sqliteSql } from './dialect.js'

export type WorkerRequest =
  | { id: number, op: 'query', sql: string, params: unknown[] }
  | { id: number, op: 'exec', sql: string }
  | { id: number, op: 'batch', statements: Array<[string, unknown[]]> }
  | { id: number, op: 'close' }

export type WorkerReply = { id: number, ok: true, rows?: unknown[] } | { id: number, ok: false, message: string, code?: string }

/** Another process holding the write lock (a second server on the same folder) is waited for this long. */
const BUSY_TIMEOUT_MS = 5000
/** Prepared statements kept; the store uses a few dozen distinct ones. */
const MAX_CACHED = 200

// A batch of writes would otherwise hold the audio beat up by whole scheduler slices: the store can wait, the audio cannot.
const port = lowPriorityPort('sqlite-worker')

const db = new DatabaseSync((workerData as { file: string }).file, { timeout: BUSY_TIMEOUT_MS })
// WAL: readers (the console) never wait for the writer, and a commit is one append to the log.
// synchronous=FULL: a commit is on disk when it returns, so neither a SIGKILL nor a power cut loses it;
// the writer commits a few times a second at most (one batch per flush), so the fsync costs nothing that matters.
// foreign_keys: SQLite leaves them off by default; the schema relies on them (ON DELETE CASCADE, orphan lines refused).
// secure_delete: a deleted call's words and voice are overwritten, not left in free pages of the file (a caller's
// deletion request under APPI means gone from the disk, not merely unlisted).
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON')

const cache = new Map<string, StatementSync>()

function prepared (sql: string): StatementSync {
  let s = cache.get(sql)
  if (s === undefined) {
    s = db.prepare(sqliteSql(sql))
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!)
    cache.set(sql, s)
  }
  return s
}

function run (sql: string, params: unknown[]): unknown[] {
  const s = prepared(sql)
  const values = params.map(sqliteParam) as SQLInputValue[]
  // all() also runs statements that return no rows (INSERT, UPDATE …): one path for both.
  return s.all(...values)
}

function handle (m: WorkerRequest): unknown[] | undefined {
  switch (m.op) {
    case 'query':
      return run(m.sql, m.params)
    case 'exec':
      db.exec(m.sql)
      return undefined
    case 'batch':
      // IMMEDIATE takes the write lock at once: a second process waits here (busy timeout), not mid-transaction.
      db.exec('BEGIN IMMEDIATE')
      try {
        for (const [sql, params] of m.statements) run(sql, params)
        db.exec('COMMIT')
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK')
        throw err
      }
      return undefined
    case 'close':
      cache.clear()
      if (db.isOpen) db.close()
      return undefined
  }
}

port.on('message', (m: WorkerRequest) => {
  try {
    port.postMessage({ id: m.id, ok: true, rows: handle(m) } satisfies WorkerReply)
  } catch (err) {
    port.postMessage({ id: m.id, ok: false, message: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code } satisfies WorkerReply)
  }
})
