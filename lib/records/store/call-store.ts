import type { Db } from './db.js'
import { maskNumber } from '../../log/logger.js'

export interface CallStart {
  id: string
  startedAt: Date
  direction: string
  from: string
  to: string
  persona: string | null
  model: string | null
}

export interface CallEnd {
  id: string
  endedAt: Date
  outcome: string
  endReason: string
  durationMs: number
  usage: object
  costUsd: number
  timeToFirstAudioMs: number | null
  lateFrames: number
  bargeIns: number
  backchannels: number
  callerAudioMs: number
  assistantAudioMs: number
  upstreamErrors: number
}

export interface LineRow { callId: string, seq: number, role: string, text: string, atMs: number }
export interface ToolRow { callId: string, seq: number, name: string, ok: boolean, latencyMs: number, result: string | null }

export interface StoreCounters {
  /** Statements committed. */
  written: number
  /** Statements lost to a failed write. */
  failed: number
  /** Statements refused because the queue was full. */
  dropped: number
  batches: number
}

export interface WriterOptions {
  storeFullNumbers: boolean
  storeTranscripts: boolean
  /** Statements held while the database is slow or away; more are dropped. */
  maxQueue?: number
  onProblem: (what: 'write-failed' | 'queue-full', err?: unknown) => void
  /** Where queued statements are kept until committed, so a killed process loses none (the embedded store's folder). */
  journal?: { append: (s: Statement) => void, clear: () => void }
}

export type Statement = [string, unknown[]]

export const MAX_QUEUE = 10_000
/** Statements per transaction: one flush of a busy server stays short. */
export const MAX_BATCH = 500
const MAX_TEXT_CHARS = 4000
const MAX_STRAIGHT_FAILURES = 3

/**
 * Writes calls as they happen without ever making a call wait: each method
 * only appends a statement to an in-memory queue, and flush() (on a timer,
 * off the audio beat) sends what is queued in one transaction. A database
 * that is slow, away or failing costs the calls nothing: statements wait in a
 * bounded queue, and what cannot be written is counted and dropped.
 */
export class CallWriter {
  readonly counters: StoreCounters = { written: 0, failed: 0, dropped: 0, batches: 0 }
  readonly #o: WriterOptions
  readonly #maxQueue: number
  #queue: Statement[] = []
  #db: Db | null = null
  #flushing: Promise<void> | null = null

  constructor (o: WriterOptions) {
    this.#o = o
    this.#maxQueue = o.maxQueue ?? MAX_QUEUE
  }

  get queued (): number { return this.#queue.length }

  /**
   * Statements a killed process left in the journal go first. They are in the
   * journal already; every statement is written with ON CONFLICT DO NOTHING or
   * as an UPDATE, so one written twice changes nothing.
   */
  restore (statements: Statement[]): void {
    this.#queue.unshift(...statements.slice(0, this.#maxQueue))
  }

  /** From now on flush() writes to this database (null: hold statements). */
  attach (db: Db | null): void { this.#db = db }

  callStarted (c: CallStart): void {
    const full = this.#o.storeFullNumbers
    this.#push(['INSERT INTO calls (id, started_at, direction, from_masked, to_masked, from_full, to_full, persona, model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING',
      [c.id, c.startedAt.toISOString(), c.direction, maskNumber(c.from), maskNumber(c.to), full && c.from !== '' ? c.from : null, full && c.to !== '' ? c.to : null, c.persona, c.model]])
  }

  line (l: LineRow): void {
    if (!this.#o.storeTranscripts) return
    this.#push(['INSERT INTO call_lines (call_id, seq, role, text, at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (call_id, seq) DO NOTHING',
      [l.callId, l.seq, l.role, l.text.slice(0, MAX_TEXT_CHARS), Math.max(0, Math.round(l.atMs))]])
  }

  tool (t: ToolRow): void {
    this.#push(['INSERT INTO call_tools (call_id, seq, name, ok, latency_ms, result) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (call_id, seq) DO NOTHING',
      [t.callId, t.seq, t.name, t.ok, Math.max(0, Math.round(t.latencyMs)), t.result?.slice(0, 500) ?? null]])
  }

  callEnded (e: CallEnd): void {
    this.#push([`UPDATE calls SET ended_at = $2, outcome = $3, end_reason = $4, duration_ms = $5, usage = $6, cost_usd = $7,
      time_to_first_audio_ms = $8, late_frames = $9, barge_ins = $10, backchannels = $11, caller_audio_ms = $12,
      assistant_audio_ms = $13, upstream_errors = $14 WHERE id = $1`,
    [e.id, e.endedAt.toISOString(), e.outcome, e.endReason, Math.round(e.durationMs), JSON.stringify(e.usage), e.costUsd,
      e.timeToFirstAudioMs === null ? null : Math.round(e.timeToFirstAudioMs), e.lateFrames, e.bargeIns, e.backchannels,
      Math.round(e.callerAudioMs), Math.round(e.assistantAudioMs), e.upstreamErrors]])
  }

  /** The warm transfers of a call (lib/transfer), as JSON text: who was rung, how it went, what they heard. */
  callTransfers (callId: string, transfers: unknown[]): void {
    this.#push(['UPDATE calls SET transfers = $2 WHERE id = $1', [callId, JSON.stringify(transfers).slice(0, 20_000)]])
  }

  /** Writes what is queued (in batches of MAX_BATCH); one flush at a time. */
  async flush (): Promise<void> {
    if (this.#flushing !== null) return await this.#flushing
    this.#flushing = this.#drain().finally(() => { this.#flushing = null })
    return await this.#flushing
  }

  async #drain (): Promise<void> {
    while (this.#db !== null && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH)
      try {
        await this.#db.batch(batch)
        this.counters.written += batch.length
        this.counters.batches++
        // Nothing queued since (this runs in the same tick as the check): all the journal holds is committed.
        if (this.#queue.length === 0) this.#journalCleared()
      } catch (err) {
        this.#o.onProblem('write-failed', err)
        // One bad statement (e.g. a line whose call row was lost) must not take its batch with it;
        // a database that is gone fails the first few at once and the rest are dropped.
        if (!await this.#oneByOne(this.#db, batch)) return
        // What failed alone is counted and given up: the journal keeps no statement that can never be written.
        if (this.#queue.length === 0) this.#journalCleared()
      }
    }
  }

  /** Writes each statement alone; false (and the rest counted as failed) after MAX_STRAIGHT_FAILURES in a row. */
  async #oneByOne (db: Db, batch: Statement[]): Promise<boolean> {
    let straight = 0
    for (let i = 0; i < batch.length; i++) {
      try {
        await db.batch([batch[i]!])
        this.counters.written++
        straight = 0
      } catch {
        this.counters.failed++
        if (++straight >= MAX_STRAIGHT_FAILURES) {
          this.counters.failed += batch.length - i - 1
          return false
        }
      }
    }
    return true
  }

  #push (s: Statement): void {
    if (this.#queue.length >= this.#maxQueue) {
      this.counters.dropped++
      this.#o.onProblem('queue-full')
      return
    }
    this.#queue.push(s)
    try {
      this.#o.journal?.append(s)
    } catch (err) {
      // A full disk: the statement still waits in memory for the database.
      this.#o.onProblem('write-failed', err)
    }
  }

  #journalCleared (): void {
    try { this.#o.journal?.clear() } catch (err) { this.#o.onProblem('write-failed', err) }
  }
}

/** Deletes calls (with their lines and tools) that started more than `days` days ago. */
export async function purgeOlderThan (db: Db, days: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString()
  // Counted, then deleted: a DELETE … RETURNING inside WITH is PostgreSQL's alone.
  const rows = await db.query<{ n: number }>('SELECT count(*) AS n FROM calls WHERE started_at < $1', [cutoff])
  // The owner's messages about those calls (they quote the summary) go with them; lines, tools and voicemails cascade.
  await db.batch([['DELETE FROM calls WHERE started_at < $1', [cutoff]], ['DELETE FROM notifications WHERE created_at < $1', [cutoff]]])
  return Number(rows[0]?.n ?? 0)
}
