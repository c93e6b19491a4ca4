import type { Worker } from 'node:worker_threads'
import { startWorker } from '../threads/start-worker.js'
import type { SpoolReply, SpoolRequest } from './spool-worker.js'

/**
 * Raw audio handed to the writer thread and not written yet, across all
 * calls, past which new pieces are refused (a disk that stalls, a core so
 * busy the lowest priority never runs): those recordings are given up rather
 * than the server's memory. About 2.5 s of 200 calls at 16 kHz.
 */
export const MAX_BACKLOG_BYTES = 32 * 1024 * 1024
/** The shared progress counter's unit: an Int32 of KiB wraps only after 2 TiB, and differences survive the wrap. */
const UNIT_BYTES = 1024

/**
 * The main thread's side of the spool writer thread (spool-worker.ts): pieces
 * of calls' audio go to it transferred (no copy), it writes them at the
 * lowest priority, and a counter in shared memory tells how far behind it is
 * without a message back per piece. Started on the first piece; close()
 * stops it.
 */
export class SpoolWriter {
  #worker: Worker | null = null
  readonly #written = new Int32Array(new SharedArrayBuffer(4))
  /** Bytes handed over in all. */
  #sent = 0
  #next = 0
  readonly #closing = new Map<number, (reply: SpoolReply) => void>()

  /** A spool for one call's audio, written to `path` (created on the first piece, 0600). */
  open (path: string): Spool {
    return new Spool(this, ++this.#next, path)
  }

  /** Bytes handed over and not written yet. */
  get backlogBytes (): number {
    return ((Math.floor(this.#sent / UNIT_BYTES) - Atomics.load(this.#written, 0)) | 0) * UNIT_BYTES
  }

  /** Hands `pcm` over (it must own its whole ArrayBuffer: it moves to the thread); false when the thread is too far behind. */
  append (id: number, path: string, pcm: Uint8Array): boolean {
    if (this.backlogBytes + pcm.byteLength > MAX_BACKLOG_BYTES) return false
    const bytes = pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm.buffer as ArrayBuffer : pcm.slice().buffer
    this.#sent += bytes.byteLength
    this.#start().postMessage({ op: 'append', id, path, bytes } satisfies SpoolRequest, [bytes])
    return true
  }

  /** Closes spool `id` once every piece before is written; answers what was written and the first error. */
  async close (id: number): Promise<SpoolReply> {
    const worker = this.#worker
    if (worker === null) return { id, bytes: 0, error: 'the spool writer stopped before this spool was closed' }
    return await new Promise(resolve => {
      if (this.#closing.size === 0) worker.ref()
      this.#closing.set(id, resolve)
      worker.postMessage({ op: 'close', id } satisfies SpoolRequest)
    })
  }

  /** Stops the thread (spools not closed yet are answered with an error). */
  async stop (): Promise<void> {
    const worker = this.#worker
    this.#worker = null
    if (worker !== null) await worker.terminate()
  }

  #start (): Worker {
    if (this.#worker !== null) return this.#worker
    const worker = startWorker(import.meta.url, 'spool-worker', {
      workerData: { written: this.#written, unitBytes: UNIT_BYTES },
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 }
    })
    const answer = (reply: SpoolReply): void => {
      const resolve = this.#closing.get(reply.id)
      if (resolve === undefined) return
      this.#closing.delete(reply.id)
      if (this.#closing.size === 0) worker.unref()
      resolve(reply)
    }
    const gone = (why: string): void => {
      if (this.#worker === worker) this.#worker = null
      // What it had not written is lost: its spools fail; a new thread serves new pieces (and their own files).
      Atomics.store(this.#written, 0, Math.floor(this.#sent / UNIT_BYTES) | 0)
      for (const id of [...this.#closing.keys()]) answer({ id, bytes: 0, error: why })
    }
    worker.on('message', answer)
    worker.on('error', (err) => gone(`the spool writer failed: ${err.message}`))
    worker.on('exit', (code) => gone(`the spool writer exited (${code})`))
    worker.unref()
    this.#worker = worker
    return worker
  }
}

/**
 * One call's raw audio on its way to disk while the call lasts: each piece
 * goes to the writer thread, never written on the audio beat. A spool that
 * fails stops taking pieces and says so (`failed`); the call goes on.
 */
export class Spool {
  readonly path: string
  readonly #writer: SpoolWriter
  readonly #id: number
  /** Bytes written (known at close()). */
  bytes = 0
  #handed = 0
  failed: Error | null = null

  constructor (writer: SpoolWriter, id: number, path: string) {
    this.#writer = writer
    this.#id = id
    this.path = path
  }

  append (pcm: Uint8Array): void {
    if (this.failed !== null) return
    // Counted first: handing over detaches the piece's memory.
    const length = pcm.byteLength
    if (!this.#writer.append(this.#id, this.path, pcm)) { this.failed = new Error('the disk does not keep up with the recording'); return }
    this.#handed += length
  }

  /** Waits for every piece to be written, closes the file; answers whether it holds the whole recording. */
  async close (): Promise<boolean> {
    if (this.#handed === 0) return false
    const reply = await this.#writer.close(this.#id)
    this.bytes = reply.bytes
    if (reply.error !== null) this.failed ??= new Error(reply.error)
    return this.failed === null && this.bytes > 0
  }
}
