/**
 * The embedded database's thread. PGlite runs PostgreSQL compiled to
 * WebAssembly on the thread that calls it: compiling it takes seconds and
 * every query runs to completion synchronously, so it lives here, away from
 * the 20 ms audio beat of the main thread.
 */
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

export type WorkerRequest =
  | { id: number, op: 'query', sql: string, params: unknown[] }
  | { id: number, op: 'exec', sql: string }
  | { id: number, op: 'batch', statements: Array<[string, unknown[]]> }
  | { id: number, op: 'close' }

export type WorkerReply = { id: number, ok: true, rows?: unknown[] } | { id: number, ok: false, message: string, code?: string }

const port = parentPort
if (port === null) throw new Error('pglite-worker runs as a worker thread')
// On a machine with one core (a small Fly VM, or the benchmark's pinned core) this thread and the audio beat
// take turns on it, and a batch of writes would hold the beat up by whole scheduler slices. Lowest priority for
// this thread alone: on Linux setpriority(PRIO_PROCESS, 0) applies to the calling thread, not the process
// (setpriority(2), NOTES). The store can wait; the audio cannot.
try { setPriority(19) } catch { /* not allowed here: the store still works, at the same priority */ }
const db = new PGlite((workerData as { dir: string }).dir)

port.on('message', (m: WorkerRequest) => {
  run(m).then(
    (rows) => port.postMessage({ id: m.id, ok: true, rows } satisfies WorkerReply),
    (err: unknown) => port.postMessage({ id: m.id, ok: false, message: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code } satisfies WorkerReply)
  )
})

async function run (m: WorkerRequest): Promise<unknown[] | undefined> {
  switch (m.op) {
    case 'query':
      return (await db.query(m.sql, m.params)).rows
    case 'exec':
      await db.exec(m.sql)
      return undefined
    case 'batch':
      await db.transaction(async (tx) => {
        for (const [sql, params] of m.statements) await tx.query(sql, params)
      })
      return undefined
    case 'close':
      await db.close()
      return undefined
  }
}
