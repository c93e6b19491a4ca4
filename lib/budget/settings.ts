/**
 * Settings of the daily budget. Its day is the owner's calendar day in TIMEZONE,
 * the one setting it shares with business hours (lib/hours/settings.ts holds it).
 */
export const budgetSettings = {
  DAILY_BUDGET_USD: { type: 'number', minimum: 0, default: 0, description: 'estimated OpenAI spend (USD) a day may reach; once reached, new calls go straight to the apology and voicemail, with no model session; 0 = no budget' }
} as const
