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
  fastify.bridge.onSession.add((session: CallSession) => {
    session.once('end', (stats: CallStats) => { budget.callEnded(estimateCost(stats.usage, prices).total) })
  })
  fastify.decorate('budget', budget)
}

export default fp(budgetPlugin, { name: 'budget', dependencies: ['config', 'bridge', 'call-records', 'call-store'] })
