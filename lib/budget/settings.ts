import type { RawConfig } from '../config/schema.js'

/**
 * Settings of the daily budget. TIMEZONE is shared with business hours
 * (lib/hours): whichever file the merge keeps, the name, default and meaning
 * are the same.
 */
export const budgetSettings = {
  DAILY_BUDGET_USD: { type: 'number', minimum: 0, default: 0, description: 'estimated OpenAI spend (USD) a day may reach; once reached, new calls go straight to the apology and voicemail, with no model session; 0 = no budget' },
  TIMEZONE: { type: 'string', default: 'Asia/Tokyo', description: 'IANA time zone of the business (its day for the budget, its hours), e.g. Asia/Tokyo' }
} as const

export function isTimeZone (tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz }).format(0)
    return true
  } catch {
    return false
  }
}

export function checkBudgetSettings (raw: RawConfig): string[] {
  const problems: string[] = []
  const tz = (raw as unknown as { TIMEZONE: string }).TIMEZONE
  if (!isTimeZone(tz)) problems.push(`TIMEZONE is not a known time zone ("${tz}") — expected an IANA name such as Asia/Tokyo`)
  return problems
}
