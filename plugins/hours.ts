import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { BusinessHours } from '../lib/hours/business-hours.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** BUSINESS_HOURS, holidays and CLOSED_DATES in TIMEZONE: checked at the answer webhook and before ringing staff. */
    hours: BusinessHours
  }
}

async function hoursPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  // The settings were checked with the config (lib/hours/settings.ts), so this does not throw.
  const hours = new BusinessHours({
    businessHours: cfg.BUSINESS_HOURS,
    closedOnHolidays: cfg.CLOSED_ON_HOLIDAYS,
    closedDates: cfg.CLOSED_DATES,
    timeZone: cfg.TIMEZONE
  })
  if (hours.limited) fastify.log.info({ hours: hours.words(), timeZone: cfg.TIMEZONE }, 'business hours: staff are rung only within them')
  fastify.decorate('hours', hours)
}

export default fp(hoursPlugin, { name: 'hours', dependencies: ['config'] })
