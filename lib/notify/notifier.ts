import { randomUUID } from 'node:crypto'
import type { Log } from '../log/logger.js'
import { maskNumber } from '../log/logger.js'
import type { Channel, ChannelName, SendOutcome } from './channels/channel.js'
import type { Outbox, OutboxRow } from './outbox.js'

/** What other parts tell the owner about: a call's summary, a voicemail, the day's budget. */
export type NotifyKind = 'call' | 'voicemail' | 'budget'

export interface NotifyRequest {
  /** With `kind`, the message's identity: sending it again is a no-op. */
  callId: string
  kind: NotifyKind
  /** The email's subject (the chat channels show only `text`). */
  subject?: string
  /** May hold `{number}`: the full number at send time (masked with NOTIFY_FULL_NUMBERS=false), masked in the store. */
  text: string
  number?: string
}

export interface NotifierOptions {
  channels: Channel[]
  outbox: () => Promise<Outbox>
  log: Pick<Log, 'info' | 'warn' | 'debug'>
  maxAttempts: number
  baseDelayMs: number
  fullNumbers: boolean
  /** One try's time limit. */
  timeoutMs?: number
}

export type ChannelStatus = 'pending' | 'retrying' | 'sent' | 'failed'

export interface NotificationStatus {
  kind: string
  channel: ChannelName
  status: ChannelStatus
  attempts: number
  lastError: string | null
  updatedAt: string
}

const MAX_DELAY_MS = 5 * 60_000
const MAX_RETRY_AFTER_MS = 15 * 60_000
const ATTEMPT_TIMEOUT_MS = 15_000
const NUMBER_SLOT = /\{number\}/g

/** The caller's number as the owner dials it back: Japanese numbers in domestic form (0…), others with +. */
export function displayNumber (raw: string): string {
  const digits = raw.replace(/\D/g, '')
  if (digits === '') return raw
  if (digits.startsWith('81') && digits.length >= 11) return `0${digits.slice(2)}`
  return `+${digits}`
}

export function statusOf (r: OutboxRow): ChannelStatus {
  if (r.status === 'sent' || r.status === 'failed') return r.status
  return r.attempts > 0 ? 'retrying' : 'pending'
}

/**
 * Tells the owner, once per (call, kind, channel). Each message is written to
 * the outbox before it is sent and marked 'sending' before every try, so a
 * restart resumes whatever was pending or cut off; LINE's retry key makes the
 * resumed try of an already accepted push a 409, not a second message.
 * 429, 5xx and network errors are retried with exponential backoff (a
 * Retry-After wins) up to maxAttempts; then the row is marked failed and the
 * failure is logged once.
 */
export class Notifier {
  readonly #o: NotifierOptions
  readonly #channels: Map<ChannelName, Channel>
  /** Full numbers of messages sent by this process: the store keeps masked ones only. */
  readonly #numbers = new Map<string, { masked: string, full: string }>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #running = new Map<string, Promise<void>>()
  readonly #controllers = new Set<AbortController>()
  /** No new tries (close() began). */
  #stopping = false
  /** Results of tries cut off by close() are not recorded. */
  #closing = false

  constructor (o: NotifierOptions) {
    this.#o = o
    this.#channels = new Map(o.channels.map(c => [c.name, c]))
  }

  get channels (): ChannelName[] { return [...this.#channels.keys()] }
  get enabled (): boolean { return this.#channels.size > 0 }
  /** Sends in flight or waiting for a retry. */
  get busy (): number { return this.#running.size + this.#timers.size }

  /** Queues the message for every configured channel (durably when the store is on) and starts sending. */
  async send (req: NotifyRequest): Promise<NotificationStatus[]> {
    if (!this.enabled) return []
    const now = new Date().toISOString()
    const masked = req.number !== undefined ? maskNumber(displayNumber(req.number)) : ''
    const fill = (s: string): string => s.replace(NUMBER_SLOT, masked)
    const rows: OutboxRow[] = [...this.#channels.keys()].map(channel => ({ callId: req.callId, kind: req.kind, channel, status: 'pending', attempts: 0, retryKey: randomUUID(), subject: fill(req.subject ?? ''), body: fill(req.text), lastError: null, nextAt: now, createdAt: now, updatedAt: now }))
    const outbox = await this.#o.outbox()
    const stored = await outbox.add(rows)
    if (req.number !== undefined && masked !== '') {
      this.#numbers.set(`${req.callId}\u0000${req.kind}`, { masked, full: this.#o.fullNumbers ? displayNumber(req.number) : masked })
    }
    // While shutting down the rows are only written: the next start sends them (#schedule refuses).
    for (const row of stored) if (row.status === 'pending' || row.status === 'sending') this.#schedule(outbox, row, 0)
    return stored.map(r => this.#status(r))
  }

  /** Resumes what a previous run left pending or cut off mid-send. */
  async resume (): Promise<number> {
    const outbox = await this.#o.outbox()
    let n = 0
    for (const row of await outbox.unfinished()) {
      if (!this.#channels.has(row.channel)) continue
      const wait = Math.max(0, Date.parse(row.nextAt) - Date.now())
      this.#schedule(outbox, row, row.status === 'sending' ? 0 : wait)
      n++
    }
    return n
  }

  async statusFor (callId: string): Promise<NotificationStatus[]> {
    return (await (await this.#o.outbox()).forCall(callId)).map(r => this.#status(r))
  }

  async failedSince (since: string, limit = 20): Promise<Array<NotificationStatus & { callId: string }>> {
    return (await (await this.#o.outbox()).failedSince(since, limit)).map(r => ({ callId: r.callId, ...this.#status(r) }))
  }

  #status (r: OutboxRow): NotificationStatus {
    return { kind: r.kind, channel: r.channel, status: statusOf(r), attempts: r.attempts, lastError: r.lastError, updatedAt: r.updatedAt }
  }

  #schedule (outbox: Outbox, row: OutboxRow, delayMs: number): void {
    const k = `${row.callId}\u0000${row.kind}\u0000${row.channel}`
    if (this.#running.has(k) || this.#timers.has(k) || this.#stopping) return
    const run = (): void => {
      this.#timers.delete(k)
      const p = this.#attempt(outbox, row).catch((err: unknown): null => {
        this.#o.log.warn({ err, callId: row.callId, channel: row.channel }, 'notification: could not record a try')
        return null
      }).then(retryIn => {
        this.#running.delete(k)
        if (retryIn !== null) this.#schedule(outbox, row, retryIn)
      })
      this.#running.set(k, p)
    }
    if (delayMs <= 0) { run(); return }
    const timer = setTimeout(run, delayMs)
    timer.unref()
    this.#timers.set(k, timer)
  }

  /** One try; the delay before the next one, or null when there is none. */
  async #attempt (outbox: Outbox, row: OutboxRow): Promise<number | null> {
    const channel = this.#channels.get(row.channel)
    if (channel === undefined) return null
    row.attempts++
    row.status = 'sending'
    row.updatedAt = new Date().toISOString()
    // Written before the send: a crash from here on leaves a 'sending' row the next start resumes.
    await outbox.save(row)
    const controller = new AbortController()
    this.#controllers.add(controller)
    const timer = setTimeout(() => controller.abort(), this.#o.timeoutMs ?? ATTEMPT_TIMEOUT_MS)
    timer.unref()
    let outcome: SendOutcome
    try {
      const n = this.#numbers.get(`${row.callId}\u0000${row.kind}`)
      const fill = (s: string): string => n === undefined ? s : s.split(n.masked).join(n.full)
      outcome = await channel.send({ callId: row.callId, kind: row.kind, subject: fill(row.subject), text: fill(row.body), retryKey: row.retryKey }, controller.signal)
    } catch (err) {
      outcome = { ok: false, retryable: true, error: `unexpected: ${(err as Error).message}` }
    } finally {
      clearTimeout(timer)
      this.#controllers.delete(controller)
    }
    // Shutting down: the row stays 'sending', as after a crash, and the next start sends it again.
    if (this.#closing) return null
    row.updatedAt = new Date().toISOString()
    if (outcome.ok) {
      row.status = 'sent'
      row.lastError = null
      await outbox.save(row)
      this.#o.log.info({ callId: row.callId, kind: row.kind, channel: row.channel, attempts: row.attempts, note: outcome.note }, 'notification sent')
      return null
    }
    row.lastError = outcome.error
    if (outcome.retryable && row.attempts < this.#o.maxAttempts) {
      const backoff = Math.min(MAX_DELAY_MS, this.#o.baseDelayMs * 2 ** (row.attempts - 1)) * (0.8 + Math.random() * 0.4)
      const delay = outcome.retryAfterMs !== undefined ? Math.min(MAX_RETRY_AFTER_MS, Math.max(outcome.retryAfterMs, 0)) : backoff
      row.status = 'pending'
      row.nextAt = new Date(Date.now() + delay).toISOString()
      await outbox.save(row)
      this.#o.log.debug({ callId: row.callId, channel: row.channel, attempts: row.attempts, error: outcome.error, retryInMs: Math.round(delay) }, 'notification failed: retrying')
      return delay
    }
    row.status = 'failed'
    await outbox.save(row)
    this.#o.log.warn({ callId: row.callId, kind: row.kind, channel: row.channel, attempts: row.attempts, error: outcome.error }, 'notification not delivered: marked failed (shown in the console)')
    return null
  }

  /** Stops retrying; tries in flight are cut off after `graceMs` and left for the next start. */
  async close (graceMs = 3000): Promise<void> {
    this.#stopping = true
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    const running = [...this.#running.values()]
    if (running.length > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.allSettled(running), new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs); timer.unref() })])
      clearTimeout(timer)
    }
    this.#closing = true
    for (const c of this.#controllers) c.abort()
    await Promise.allSettled([...this.#running.values()])
  }
}
