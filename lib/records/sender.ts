import { postSigned } from '../security/hmac.js'
import type { Log } from '../log/logger.js'

export type SenderLogger = Pick<Log, 'info' | 'warn' | 'debug'>

export interface RecordSenderOptions {
  url: string
  key: Buffer
  /** Retries after the first attempt. */
  retries: number
  timeoutMs: number
  log: SenderLogger
  /** First backoff; doubled each retry (±20 % jitter), capped at maxDelayMs. */
  baseDelayMs?: number
  maxDelayMs?: number
}

interface Job {
  id: string
  body: string
  attempt: number
  timer: NodeJS.Timeout | null
  controller: AbortController | null
  running: Promise<void> | null
}

/** 408, 425, 429 and 5xx are worth another try; other statuses mean the receiver refused the record. */
function retryable (status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500
}

/**
 * Delivers call records to CALL_RECORD_WEBHOOK_URL in the background: a call
 * never waits for it. Failed deliveries are retried with exponential backoff
 * a bounded number of times; every timer is unref'd so none keeps the process
 * alive; close() gives pending records one last immediate try, then abandons
 * what has not arrived, saying so in the log.
 */
export class RecordSender {
  readonly #o: RecordSenderOptions
  readonly #jobs = new Set<Job>()
  #closing = false

  constructor (o: RecordSenderOptions) {
    this.#o = o
  }

  /** Records not yet delivered or given up. */
  get pending (): number { return this.#jobs.size }

  send (id: string, record: unknown): void {
    const job: Job = { id, body: JSON.stringify(record), attempt: 0, timer: null, controller: null, running: null }
    this.#jobs.add(job)
    this.#run(job)
  }

  #run (job: Job): void {
    job.timer = null
    job.running = this.#attempt(job).finally(() => { job.running = null })
  }

  async #attempt (job: Job): Promise<void> {
    job.attempt++
    const controller = new AbortController()
    job.controller = controller
    const timer = setTimeout(() => controller.abort(new Error('timeout')), this.#o.timeoutMs)
    timer.unref()
    let failure: string
    let again = true
    try {
      const res = await postSigned(this.#o.url, job.body, this.#o.key, controller.signal, { 'x-delivery-attempt': String(job.attempt) })
      if (res.status >= 200 && res.status <= 299) {
        this.#jobs.delete(job)
        this.#o.log.debug({ callId: job.id, attempt: job.attempt }, 'call record delivered')
        return
      }
      failure = `HTTP ${res.status}`
      again = retryable(res.status)
    } catch (err) {
      failure = controller.signal.aborted ? 'timeout or shutdown' : (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    } finally {
      clearTimeout(timer)
      job.controller = null
    }
    if (again && !this.#closing && job.attempt <= this.#o.retries) {
      const base = this.#o.baseDelayMs ?? 1000
      const delay = Math.min(this.#o.maxDelayMs ?? 30_000, base * 2 ** (job.attempt - 1)) * (0.8 + Math.random() * 0.4)
      this.#o.log.info({ callId: job.id, attempt: job.attempt, failure, retryInMs: Math.round(delay) }, 'call record webhook failed: retrying')
      job.timer = setTimeout(() => this.#run(job), delay)
      job.timer.unref()
      return
    }
    this.#jobs.delete(job)
    this.#o.log.warn({ callId: job.id, attempts: job.attempt, failure }, 'call record not delivered to CALL_RECORD_WEBHOOK_URL: giving up (it is in the log)')
  }

  /**
   * Shutdown: records waiting for a retry get one last try now; whatever is
   * still in flight after `graceMs` is aborted. Resolves when nothing is left.
   */
  async close (graceMs = 3000): Promise<void> {
    this.#closing = true
    for (const job of this.#jobs) {
      if (job.timer !== null) {
        clearTimeout(job.timer)
        this.#run(job)
      }
    }
    const running = [...this.#jobs].map(j => j.running).filter((p): p is Promise<void> => p !== null)
    if (running.length === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled(running),
      new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs); timer.unref() })
    ])
    clearTimeout(timer)
    if (this.#jobs.size > 0) {
      for (const job of this.#jobs) job.controller?.abort(new Error('shutdown'))
      await Promise.allSettled([...this.#jobs].map(j => j.running))
    }
  }
}
