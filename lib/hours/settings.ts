import type { RawConfig } from '../config/schema.js'
import { parseBusinessHours, parseClosedDates } from './schedule.js'

/**
 * Business hours (issue #23). TIMEZONE is the owner's calendar for anything
 * that counts days or hours (other rooms may read it too: keep it here).
 */
export const hoursSettings = {
  BUSINESS_HOURS: { type: 'string', default: '', description: 'when staff can take transferred calls, e.g. "mon-fri 09:00-12:00 13:00-18:00, sat 10:00-14:00" (days: mon…sun, mon-fri, mon/wed/fri, daily); empty = always open' },
  CLOSED_ON_HOLIDAYS: { type: 'boolean', default: true, description: 'closed on Japanese public holidays (@holiday-jp/holiday_jp): true or false' },
  CLOSED_DATES: { type: 'string', default: '', description: 'the owner\'s own closures, comma-separated: MM-DD every year, YYYY-MM-DD once, FROM..TO a span, e.g. "12-29..01-03, 08-13..08-16, 2026-05-07"' },
  TIMEZONE: { type: 'string', default: 'Asia/Tokyo', description: 'IANA time zone of the business hours, the calendar and the daily budget\'s day, e.g. Asia/Tokyo' }
} as const

/** Problems JSON schema cannot see: each names the setting and what to write. */
export function checkHoursSettings (raw: RawConfig): string[] {
  const r = raw as unknown as Record<string, unknown>
  const problems: string[] = []
  const hours = parseBusinessHours(String(r.BUSINESS_HOURS ?? ''))
  if (!hours.ok) problems.push(`BUSINESS_HOURS: ${hours.problem}`)
  const closed = parseClosedDates(String(r.CLOSED_DATES ?? ''))
  if (!closed.ok) problems.push(`CLOSED_DATES: ${closed.problem}`)
  const zone = String(r.TIMEZONE ?? 'Asia/Tokyo')
  try {
    // eslint-disable-next-line no-new
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
  } catch {
    problems.push(`TIMEZONE is not a time zone this server knows ("${zone}") — use an IANA name such as Asia/Tokyo`)
  }
  return problems
}
