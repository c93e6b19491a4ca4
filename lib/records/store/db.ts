import { Worker } from 'node:worker_threads'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import pg from 'pg'
import type { WorkerReply, WorkerRequest } from './pglite-worker.js'

/**
 * The few things the call store asks of a database. The embedded one
 * (PGlite, PostgreSQL as WebAssembly) and a real PostgreSQL answer the same
 * SQL, so the store's queries are written once.
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
  /** postgres://… ; empty = the embedded database in `dataDir`. */
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

/** Runs from source (tsx) or from dist/: the worker is loaded the same way as this file. */
function startWorker (dir: string): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const entry = new URL('./pglite-worker.ts', import.meta.url).href
    // A worker does not inherit tsx's loader hooks on Node 20: it registers them itself first.
    return new Worker('import("tsx/esm/api").then(m => { m.register(); return import(require("node:worker_threads").workerData.entry) })',
      { eval: true, workerData: { dir, entry } })
  }
  return new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dir } })
}

class DbError extends Error {
  code: string | undefined
  constructor (message: string, code: string | undefined) {
    super(message)
    this.code = code
  }
}

async function openEmbedded (dataDir: string): Promise<Db> {
  const dir = dataDir.startsWith('memory://') ? dataDir : resolve(dataDir, 'calls.pglite')
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true })
  const worker = startWorker(dir)
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
