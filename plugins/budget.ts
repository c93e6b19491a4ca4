import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { CallSession, CallStats } from '../lib/call/session.js'
import { estimateCost } from '../lib/records/record.js'
import { DailyBudget } from '../lib/budget/daily-budget.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * DAILY_BUDGET_USD against the day's estimated spend (day in TIMEZONE).
     * Emits 'reached' ({ day, spentUsd, budgetUsd }) once a day: the owner is told.
     */
    budget: DailyBudget
  }
}

/** After a call ends: longer than the call store's flush, so its cost is in the sum. */
const RECHECK_AFTER_END_MS = 1000

async function budgetPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const prices = fastify.callRecords.prices
  const budget = new DailyBudget({
    budgetUsd: cfg.DAILY_BUDGET_USD,
    timeZone: cfg.TIMEZONE,
    db: () => fastify.callStore.db(),
    live: () => {
      let usd = 0
      for (const s of fastify.bridge.sessions.values()) usd += estimateCost(s.stats.usage, prices).total
      return usd
    },
    log: fastify.log.child({ component: 'budget' })
  })
  const timers = new Set<NodeJS.Timeout>()
  fastify.bridge.onSession.add((session: CallSession) => {
    session.once('end', (stats: CallStats) => {
      budget.callEnded(estimateCost(stats.usage, prices).total)
      if (budget.budgetUsd <= 0) return
      // The owner hears of it when the call that spent the budget ends, not at the next call; once its row is written.
      const timer = setTimeout(() => {
        timers.delete(timer)
        budget.reached().catch(() => {})
      }, RECHECK_AFTER_END_MS)
      timer.unref()
      timers.add(timer)
    })
  })
  fastify.addHook('onClose', async () => { for (const t of timers) clearTimeout(t) })
  fastify.decorate('budget', budget)
}

export default fp(budgetPlugin, { name: 'budget', dependencies: ['config', 'bridge', 'call-records', 'call-store'] })
