import { EventEmitter } from 'node:events'
import type { Db } from '../records/store/db.js'
import { localDay } from './day.js'
import { status, storedSpend, type BudgetStatus } from './spend.js'
import type { BudgetReached } from './message.js'

export interface DailyBudgetOptions {
  budgetUsd: number
  timeZone: string
  /** The call store, when there is one open. */
  db: () => Db | null
  /** Estimated cost of the calls in progress (their usage so far). */
  live: () => number
  log: { warn: (o: object, msg: string) => void, info: (o: object, msg: string) => void }
}

/** The stored spend is read at most this often: answer webhooks must stay fast on a busy day. */
export const SPEND_CACHE_MS = 5000

/**
 * The day's estimated spend against DAILY_BUDGET_USD: the stored calls of the
 * day (cost_usd), plus the calls in progress. Without a call store, the calls
 * this process saw end today. Emits 'reached' once a day, the first time a
 * check finds the budget spent.
 */
export class DailyBudget extends EventEmitter<{ reached: [BudgetReached] }> {
  readonly budgetUsd: number
  readonly timeZone: string
  readonly #o: DailyBudgetOptions
  #cache: { day: string, at: number, spent: number } | null = null
  /** Calls ended in this process, by day: the tally when no store is open. */
  #ended = { day: '', spent: 0 }
  #toldDay = ''

  constructor (o: DailyBudgetOptions) {
    super()
    this.#o = o
    this.budgetUsd = o.budgetUsd
    this.timeZone = o.timeZone
  }

  /** A call ended costing `usd` (kept for the no-store tally; the store has its own row). */
  callEnded (usd: number, now = new Date()): void {
    const day = localDay(this.timeZone, now).day
    if (this.#ended.day !== day) this.#ended = { day, spent: 0 }
    this.#ended.spent += usd
    // The next check reads the store again: this call's row is on its way there.
    this.#cache = null
  }

  async status (now = new Date()): Promise<BudgetStatus> {
    const day = localDay(this.timeZone, now)
    let stored: number
    const db = this.#o.db()
    if (db === null) {
      stored = this.#ended.day === day.day ? this.#ended.spent : 0
    } else if (this.#cache !== null && this.#cache.day === day.day && now.getTime() - this.#cache.at < SPEND_CACHE_MS) {
      stored = this.#cache.spent
    } else {
      try {
        stored = await storedSpend(db, day)
        this.#cache = { day: day.day, at: now.getTime(), spent: stored }
      } catch (err) {
        this.#o.log.warn({ err }, 'daily budget: the call store could not be read; counting the calls this server saw end today')
        stored = this.#ended.day === day.day ? this.#ended.spent : 0
      }
    }
    return status(day.day, stored + this.#o.live(), this.budgetUsd)
  }

  /** True once the day's budget is spent (always false with no budget); tells the owner once a day. */
  async reached (now = new Date()): Promise<boolean> {
    if (this.budgetUsd <= 0) return false
    const s = await this.status(now)
    if (!s.reached) return false
    if (this.#toldDay !== s.day) {
      this.#toldDay = s.day
      this.#o.log.info({ day: s.day, spentUsd: s.spentUsd, budgetUsd: s.budgetUsd }, 'daily budget reached: new calls go to voicemail until the day ends')
      this.emit('reached', { day: s.day, spentUsd: s.spentUsd, budgetUsd: s.budgetUsd })
    }
    return true
  }
}
