import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import pg from 'pg'
import { pgTypes } from './dialect.js'
import type { WorkerReply, WorkerRequest } from './sqlite-worker.js'
import { startWorker } from '../../threads/start-worker.js'

/**
 * The few things the call store asks of a database. The embedded one
 * (SQLite, built into Node) and a real PostgreSQL answer the same SQL, through
 * the shim in dialect.ts, so the store's queries are written once. Rows come
 * back in one shape from both: times as ISO-8601 text, JSON as text,
 * booleans as 0/1, counts as numbers.
 */
export interface Db {
  readonly kind: 'embedded' | 'postgres'
  query: <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>
  /** Several statements without parameters (migrations). */
  exec: (sql: string) => Promise<void>
  /** Statements in one transaction: all or none. */
  batch: (statements: Array<[string, unknown[]]>) => Promise<void>
  close: () => Promise<void>
}

export interface DbOptions {
  /** postgres://… ; empty = the embedded database in `dataDir` (`:memory:`: one that lives as long as the process). */
  url: string
  dataDir: string
  /** A schema of its own (tests); created when missing. */
  schema?: string
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export async function openDb (o: DbOptions): Promise<Db> {
  if (o.schema !== undefined && !SCHEMA_NAME.test(o.schema)) throw new Error(`invalid schema name ${o.schema}`)
  return o.url !== '' ? await openPostgres(o.url, o.schema) : await openEmbedded(o.dataDir)
}

async function openPostgres (url: string, schema: string | undefined): Promise<Db> {
  if (schema !== undefined) {
    const setup = new pg.Client({ connectionString: url })
    await setup.connect()
    try { await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`) } finally { await setup.end() }
  }
  const pool = new pg.Pool({
    connectionString: url,
    types: pgTypes,
    max: 4,
    connectionTimeoutMillis: 5000,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {})
  })
  // An idle client losing its server is reported here; without a listener it would end the process.
  pool.on('error', () => {})
  let closed = false
  return {
    kind: 'postgres',
    query: async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[],
    exec: async (sql) => { await pool.query(sql) },
    batch: async (statements) => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        for (const [sql, params] of statements) await client.query(sql, params)
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    close: async () => {
      if (closed) return
      closed = true
      await pool.end()
    }
  }
}

class DbError extends Error {
  code: string | undefined
  constructor (message: string, code: string | undefined) {
    super(message)
    this.code = code
  }
}

/** The embedded database's file in DATA_DIR. */
export const SQLITE_FILE = 'calls.sqlite'
/** What versions before the SQLite store left in DATA_DIR: PGlite's folder (PostgreSQL as WebAssembly). */
export const PGLITE_DIR = 'calls.pglite'

/** The old embedded database's folder when DATA_DIR still holds one (it is not read: see pgliteNotice). */
export function leftoverPglite (dataDir: string): string | null {
  if (dataDir === '' || dataDir === ':memory:') return null
  const dir = resolve(dataDir, PGLITE_DIR)
  return existsSync(dir) ? dir : null
}

/** What to tell the owner at every start while the old folder is there: the history in it is not shown. */
export function pgliteNotice (dir: string): string {
  return `${dir} は以前の版の通話履歴（PGlite）です。この版は通話履歴を同じフォルダーの ${SQLITE_FILE} に保存し、古い履歴は読みません。` +
    '古い履歴が要るなら、以前の版（git で 1 つ前の版）を一度起動してコンソールか /api/calls.csv で書き出してください。書き出したら、または要らなければ、このフォルダーを消すとこの案内は出なくなります / ' +
    `${dir} holds the call history of an earlier version (PGlite). This version keeps the history in ${SQLITE_FILE} in the same folder and does not read the old one. ` +
    'If you need the old history, start the earlier version once and export it from the console or /api/calls.csv; then (or if you do not need it) delete this folder and this notice stops.'
}

async function openEmbedded (dataDir: string): Promise<Db> {
  let file = ':memory:'
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true })
    file = resolve(dataDir, SQLITE_FILE)
  }
  const worker = startWorker(import.meta.url, 'sqlite-worker', { workerData: { file } })
  const waiting = new Map<number, { resolve: (rows: unknown[]) => void, reject: (err: Error) => void }>()
  let next = 0
  let dead: Error | null = null
  const fail = (err: Error): void => {
    dead = err
    for (const w of waiting.values()) w.reject(err)
    waiting.clear()
  }
  worker.on('message', (m: WorkerReply) => {
    const w = waiting.get(m.id)
    if (w === undefined) return
    waiting.delete(m.id)
    if (waiting.size === 0) worker.unref()
    if (m.ok) w.resolve(m.rows ?? [])
    else w.reject(new DbError(m.message, m.code))
  })
  worker.on('error', fail)
  worker.on('exit', (code) => fail(new Error(`embedded database thread exited (${code})`)))
  // The thread keeps the process alive only while a request waits on it.
  worker.unref()
  const call = async (req: WithoutId<WorkerRequest>): Promise<unknown[]> => {
    if (dead !== null) throw dead
    const id = ++next
    return await new Promise<unknown[]>((resolve, reject) => {
      if (waiting.size === 0) worker.ref()
      waiting.set(id, { resolve, reject })
      worker.postMessage({ ...req, id })
    })
  }
  const db: Db = {
    kind: 'embedded',
    query: async <T>(sql: string, params: unknown[] = []) => await call({ op: 'query', sql, params }) as T[],
    exec: async (sql) => { await call({ op: 'exec', sql }) },
    batch: async (statements) => { await call({ op: 'batch', statements }) },
    close: async () => {
      if (dead === null) await call({ op: 'close' }).catch(() => {})
      await worker.terminate()
    }
  }
  // Fails here, not at the first write, when the folder cannot hold a database.
  await db.query('SELECT 1')
  return db
}
