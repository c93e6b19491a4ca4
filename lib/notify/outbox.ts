import type { Db } from '../records/store/db.js'
import type { ChannelName } from './channels/channel.js'

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed'

/** One message to one channel: the unit of retry, idempotency and status. */
export interface OutboxRow {
  callId: string
  kind: string
  channel: ChannelName
  status: OutboxStatus
  attempts: number
  retryKey: string
  subject: string
  body: string
  lastError: string | null
  /** ISO time of the next try (pending rows). */
  nextAt: string
  createdAt: string
  updatedAt: string
}

/**
 * Where the rows live. `add` inserts only rows whose (callId, kind, channel)
 * is new and returns the rows as stored, so sending the same message twice
 * finds the first one (with its status and retry key).
 */
export interface Outbox {
  readonly durable: boolean
  add: (rows: OutboxRow[]) => Promise<OutboxRow[]>
  save: (row: OutboxRow) => Promise<void>
  /** Rows not yet sent or failed, oldest first: what a restart resumes. */
  unfinished: () => Promise<OutboxRow[]>
  forCall: (callId: string) => Promise<OutboxRow[]>
  /** Rows that failed since `since` (ISO), newest first. */
  failedSince: (since: string, limit: number) => Promise<OutboxRow[]>
  purge: (before: string) => Promise<void>
}

const key = (r: Pick<OutboxRow, 'callId' | 'kind' | 'channel'>): string => `${r.callId}\u0000${r.kind}\u0000${r.channel}`

/** Without a call store: the same behaviour for as long as the process lives. */
export class MemoryOutbox implements Outbox {
  readonly durable = false
  readonly #rows = new Map<string, OutboxRow>()

  async add (rows: OutboxRow[]): Promise<OutboxRow[]> {
    return rows.map(r => {
      const k = key(r)
      if (!this.#rows.has(k)) this.#rows.set(k, { ...r })
      return { ...this.#rows.get(k)! }
    })
  }

  async save (row: OutboxRow): Promise<void> { this.#rows.set(key(row), { ...row }) }
  async unfinished (): Promise<OutboxRow[]> { return [...this.#rows.values()].filter(r => r.status === 'pending' || r.status === 'sending').map(r => ({ ...r })) }
  async forCall (callId: string): Promise<OutboxRow[]> { return [...this.#rows.values()].filter(r => r.callId === callId).map(r => ({ ...r })) }
  async failedSince (since: string, limit: number): Promise<OutboxRow[]> {
    return [...this.#rows.values()].filter(r => r.status === 'failed' && r.updatedAt >= since).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, limit).map(r => ({ ...r }))
  }

  async purge (before: string): Promise<void> {
    for (const [k, r] of this.#rows) if (r.createdAt < before) this.#rows.delete(k)
  }
}

type Row = Record<string, unknown>
const COLUMNS = 'call_id, kind, channel, status, attempts, retry_key, subject, body, last_error, next_at, created_at, updated_at'

function fromRow (r: Row): OutboxRow {
  return {
    callId: String(r.call_id),
    kind: String(r.kind),
    channel: String(r.channel) as ChannelName,
    status: String(r.status) as OutboxStatus,
    attempts: Number(r.attempts),
    retryKey: String(r.retry_key),
    subject: String(r.subject),
    body: String(r.body),
    lastError: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
    nextAt: String(r.next_at),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at)
  }
}

/** In the call store (migration 2): survives a restart, shared by every machine on one PostgreSQL. */
export class DbOutbox implements Outbox {
  readonly durable = true
  constructor (readonly db: Db) {}

  async add (rows: OutboxRow[]): Promise<OutboxRow[]> {
    if (rows.length === 0) return []
    await this.db.batch(rows.map(r => [
      `INSERT INTO notifications (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (call_id, kind, channel) DO NOTHING`,
      [r.callId, r.kind, r.channel, r.status, r.attempts, r.retryKey, r.subject, r.body, r.lastError, r.nextAt, r.createdAt, r.updatedAt]
    ]))
    const stored = await this.db.query(`SELECT ${COLUMNS} FROM notifications WHERE call_id = $1 AND kind = $2`, [rows[0]!.callId, rows[0]!.kind])
    const byKey = new Map(stored.map(fromRow).map(r => [key(r), r]))
    return rows.map(r => byKey.get(key(r)) ?? r)
  }

  async save (r: OutboxRow): Promise<void> {
    await this.db.query('UPDATE notifications SET status = $4, attempts = $5, last_error = $6, next_at = $7, updated_at = $8 WHERE call_id = $1 AND kind = $2 AND channel = $3',
      [r.callId, r.kind, r.channel, r.status, r.attempts, r.lastError, r.nextAt, r.updatedAt])
  }

  async unfinished (): Promise<OutboxRow[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM notifications WHERE status = 'pending' OR status = 'sending' ORDER BY created_at`)).map(fromRow)
  }

  async forCall (callId: string): Promise<OutboxRow[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM notifications WHERE call_id = $1 ORDER BY created_at, kind, channel`, [callId])).map(fromRow)
  }

  async failedSince (since: string, limit: number): Promise<OutboxRow[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM notifications WHERE status = 'failed' AND updated_at >= $1 ORDER BY updated_at DESC LIMIT ${Math.max(1, Math.floor(limit))}`, [since])).map(fromRow)
  }

  async purge (before: string): Promise<void> {
    await this.db.query('DELETE FROM notifications WHERE created_at < $1', [before])
  }
}
