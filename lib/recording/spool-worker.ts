/**
 * The spool writer thread: appends calls' raw audio to their spool files
 * while the calls last. It runs at the lowest priority, so the kernel's work
 * for those writes (a few hundred a second at 200 calls) waits for the
 * calls' 20 ms audio beat on the main thread instead of taking turns with it.
 * Pieces arrive transferred, not copied; `written` (shared with the main
 * thread) says how far the disk has kept up.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { workerData } from 'node:worker_threads'
import { lowPriorityPort } from '../threads/worker-port.js'

export type SpoolRequest =
  | { op: 'append', id: number, path: string, bytes: ArrayBuffer }
  | { op: 'close', id: number }

/** What became of a spool, answered to its close. */
export interface SpoolReply { id: number, bytes: number, error: string | null }

const port = lowPriorityPort('spool-worker')
/** `written[0]`: units of `unitBytes` the thread has taken care of in all (wrapping), shared with the main thread. */
const { written, unitBytes } = workerData as { written: Int32Array, unitBytes: number }

interface File { fd: number, bytes: number, error: string | null }
const files = new Map<number, File>()
/** Bytes written that have not made a whole unit of the shared counter yet. */
let remainder = 0

function append (file: File, bytes: Uint8Array): void {
  if (file.error !== null) return
  try {
    for (let off = 0; off < bytes.length;) off += writeSync(file.fd, bytes, off)
    file.bytes += bytes.length
  } catch (err) {
    file.error = (err as Error).message
  }
}

port.on('message', (m: SpoolRequest) => {
  if (m.op === 'append') {
    let file = files.get(m.id)
    if (file === undefined) {
      // Private: the caller's voice is personal data (0600); 'wx': never another call's file.
      try { file = { fd: openSync(m.path, 'wx', 0o600), bytes: 0, error: null } } catch (err) { file = { fd: -1, bytes: 0, error: (err as Error).message } }
      files.set(m.id, file)
    }
    append(file, new Uint8Array(m.bytes))
    remainder += m.bytes.byteLength
    // Freed now, not at this thread's next collection: a few seconds of every call's audio would wait for it.
    ;(m.bytes as ArrayBuffer & { transfer: (length: number) => ArrayBuffer }).transfer(0)
    Atomics.add(written, 0, Math.floor(remainder / unitBytes))
    remainder %= unitBytes
    return
  }
  const file = files.get(m.id)
  files.delete(m.id)
  if (file !== undefined && file.fd >= 0) {
    try { closeSync(file.fd) } catch (err) { file.error ??= (err as Error).message }
  }
  port.postMessage({ id: m.id, bytes: file?.bytes ?? 0, error: file?.error ?? null } satisfies SpoolReply)
})
