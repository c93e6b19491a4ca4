import { performance } from 'node:perf_hooks'
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs'
import { access, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Rate } from '../audio/resampler.js'
import type { Log } from '../log/logger.js'
import type { Db } from '../records/store/db.js'
import { deleteAudio, putAudio } from '../records/store/audio-store.js'
import type { CallSession } from '../call/session.js'
import type { AudioTap } from '../call/audio-tap.js'
import { Tape } from './tape.js'
import { SpoolWriter, type Spool } from './spool.js'
import { EncoderThread } from './encoder.js'
import { MP3_MIME } from './mp3.js'

interface Job { callId: string, path: string, rate: Rate }

export interface RecordingsOptions {
  /** A private folder for the spool files (raw audio of calls in progress). */
  spoolDir: string
  rate: Rate
  /** PLAYBACK_LEAD_MS: how far ahead assistant audio is sent. */
  leadMs: number
  /** The call store's database (null while it is not open). */
  db: () => Db | null
  log: Log
}

/** A spool file's name: the call id, made safe for any file system, and the rate. */
function spoolName (callId: string, rate: Rate): string {
  return `${Buffer.from(callId).toString('base64url')}.${rate}.pcm`
}

/**
 * Call recordings from the tap to the store. While a call lasts its Tape
 * (tape.ts) writes both channels to a spool file (spool.ts, on a thread of
 * its own at the lowest priority); when it ends the file is encoded to MP3 on
 * the low-priority encoder thread and streamed into the call store
 * (audio-store.ts) piece by piece, then removed. One
 * recording is encoded at a time: on a busy machine they queue on disk, and
 * the calls' audio beat never waits for them.
 */
export class Recordings {
  readonly #o: RecordingsOptions
  readonly #encoder = new EncoderThread()
  readonly #spools = new SpoolWriter()
  readonly #queue: Job[] = []
  /** Calls deleted while their recording was still on its way: it is thrown away when it arrives. */
  readonly #forgotten = new Set<string>()
  #running: Promise<void> | null = null
  /** Calls that ended and whose spool is still being closed. */
  readonly #finishing = new Set<Promise<void>>()
  /** Spool files this run knows (calls in progress, queued, being stored): recover() leaves them alone. */
  readonly #known = new Set<string>()
  #closing = false
  /** Recordings stored, failed. */
  readonly counters = { stored: 0, failed: 0 }

  constructor (o: RecordingsOptions) {
    this.#o = o
    mkdirSync(o.spoolDir, { recursive: true, mode: 0o700 })
  }

  /** Spool files a previous run left (it stopped before encoding them): queued again. */
  recover (): number {
    let n = 0
    for (const name of readdirSync(this.#o.spoolDir)) {
      const m = /^([A-Za-z0-9_-]+)\.(8000|16000|24000)\.pcm$/.exec(name)
      if (m === null || this.#known.has(join(this.#o.spoolDir, name))) continue
      this.#enqueue({ callId: Buffer.from(m[1]!, 'base64url').toString(), path: join(this.#o.spoolDir, name), rate: Number(m[2]) as Rate })
      n++
    }
    return n
  }

  /** Records `session` from its first audio to its end. */
  watch (session: CallSession): void {
    const rate = this.#o.rate
    const spool = this.#spools.open(join(this.#o.spoolDir, spoolName(session.id, rate)))
    const tape = new Tape(rate, (pcm) => spool.append(pcm), this.#o.leadMs)
    session.audioTap = this.#guarded(session, tape)
    this.#known.add(spool.path)
    session.once('end', () => {
      try { tape.end(performance.now()) } catch (err) { this.#o.log.error({ callId: session.id, err }, 'recording: could not close the tape') }
      const finishing = this.#finish(session.id, tape, spool)
      this.#finishing.add(finishing)
      void finishing.finally(() => this.#finishing.delete(finishing))
    })
  }

  /** The recorder's own bugs stay here: an exception thrown into the audio path would break the call. */
  #guarded (session: CallSession, tape: Tape): AudioTap {
    const stop = (err: unknown): void => {
      session.audioTap = null
      this.counters.failed++
      this.#o.log.error({ callId: session.id, err }, 'recording stopped: the call goes on unrecorded from here')
    }
    return {
      caller: (pcm, rate, nowMs) => { try { tape.caller(pcm, rate, nowMs) } catch (err) { stop(err) } },
      assistant: (frame, rate, startMs) => { try { tape.assistant(frame, rate, startMs) } catch (err) { stop(err) } },
      cleared: (nowMs) => { try { tape.cleared(nowMs) } catch (err) { stop(err) } }
    }
  }

  async #finish (callId: string, tape: Tape, spool: Spool): Promise<void> {
    const whole = await spool.close()
    if (!whole || tape.written === 0) {
      if (spool.failed !== null) {
        this.counters.failed++
        this.#o.log.error({ callId, err: spool.failed }, 'recording lost: its spool file could not be written')
      }
      await unlink(spool.path).catch(() => {})
      this.#known.delete(spool.path)
      return
    }
    this.#enqueue({ callId, path: spool.path, rate: tape.rate })
  }

  #enqueue (job: Job): void {
    this.#known.add(job.path)
    this.#queue.push(job)
    this.#running ??= this.#drain().finally(() => { this.#running = null })
  }

  async #drain (): Promise<void> {
    while (this.#queue.length > 0 && !this.#closing) {
      for (let job = this.#queue.shift(); job !== undefined && !this.#closing; job = this.#queue.shift()) {
        await this.#store(job)
      }
      // Nothing more to encode: the thread goes, and its memory with it (a recording queued meanwhile goes round again).
      await this.#encoder.close()
    }
  }

  async #store (job: Job): Promise<void> {
    try {
      await this.#storeOnce(job)
    } finally {
      this.#known.delete(job.path)
    }
  }

  async #storeOnce (job: Job): Promise<void> {
    const db = this.#o.db()
    if (this.#forgotten.delete(job.callId)) { await unlink(job.path).catch(() => {}); return }
    if (db === null) {
      // Left on disk: stored once the store opens (recover()), or at the next start.
      this.counters.failed++
      this.#o.log.error({ callId: job.callId }, 'recording not stored yet: the call store is not open (kept on disk until it is)')
      return
    }
    // putAudio replaces what is stored: never with a file that is gone.
    if (!await access(job.path).then(() => true, () => false)) return
    const startedAt = performance.now()
    try {
      const stored = await putAudio(db, job.callId, 'recording', MP3_MIME, this.#encoder.encode(job.path, job.rate))
      if (this.#forgotten.delete(job.callId)) {
        await deleteAudio(db, job.callId, 'recording')
        this.#o.log.info({ recording: 'dropped' }, 'recording dropped: its call was deleted while it was being stored')
      } else {
        this.counters.stored++
        this.#o.log.info({ callId: job.callId, bytes: stored.size, ms: Math.round(performance.now() - startedAt) }, 'recording stored')
      }
    } catch (err) {
      this.counters.failed++
      this.#o.log.error({ callId: job.callId, err }, 'recording could not be stored')
    }
    await unlink(job.path).catch(() => {})
  }

  /** The call is being deleted: a recording still queued or being stored goes with it. */
  forget (callId: string): void {
    const queued = this.#queue.findIndex(j => j.callId === callId)
    if (queued >= 0) {
      const [job] = this.#queue.splice(queued, 1)
      try { unlinkSync(job!.path) } catch { /* already gone */ }
      this.#known.delete(job!.path)
      return
    }
    this.#forgotten.add(callId)
  }

  /** Recordings waiting to be stored (queued and in progress). */
  get pending (): number { return this.#queue.length + (this.#running === null ? 0 : 1) }

  /** Waits until every finished call's recording is stored (or `ms` passed); then stops. */
  async close (ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = { yes: false }
    const timeout = new Promise<void>(resolve => { timer = setTimeout(() => { late.yes = true; resolve() }, ms) })
    // Calls the shutdown just ended reach the queue once their spools are closed.
    while (!late.yes && (this.#finishing.size > 0 || this.#running !== null)) {
      const pending = [...this.#finishing, ...(this.#running === null ? [] : [this.#running])]
      await Promise.race([Promise.all(pending), timeout])
    }
    clearTimeout(timer)
    this.#closing = true
    await this.#spools.stop()
    await this.#encoder.close()
  }
}
