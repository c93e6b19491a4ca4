import type { RawConfig } from '../config/schema.js'

/**
 * The speech engine behind the phone line (issue #25): the Realtime API (the
 * default) or GPT-Live. Same form as lib/config/schema.ts; spread into its
 * `properties`.
 */
export const liveSettings = {
  OPENAI_ENGINE: { type: 'string', enum: ['realtime', 'live'], default: 'realtime', description: 'speech engine: realtime (the Realtime API, OPENAI_MODEL) or live (GPT-Live, OPENAI_LIVE_MODEL; docs/engines.md)' },
  OPENAI_LIVE_MODEL: { type: 'string', minLength: 1, default: 'gpt-live-1', description: 'GPT-Live model used when OPENAI_ENGINE=live, e.g. gpt-live-1' },
  OPENAI_LIVE_DELEGATE_MODEL: { type: 'string', minLength: 1, default: 'gpt-5.4-mini', description: 'Responses model GPT-Live hands tool calls to (end_call, transfer_call, TOOLS_FILE), e.g. gpt-5.4-mini or gpt-5.4-nano' },
  PRICE_LIVE_PER_MINUTE: { type: 'number', minimum: 0, default: 0, description: 'USD per minute of GPT-Live session for the call record\'s cost estimate; 0 = the list price of OPENAI_LIVE_MODEL (lib/records/prices.ts)' }
} as const

/** What JSON schema cannot say about the engine settings. */
export function checkLiveSettings (raw: RawConfig): string[] {
  const problems: string[] = []
  if (raw.OPENAI_ENGINE === 'live' && raw.OPENAI_API_VERSION !== '') {
    problems.push('OPENAI_ENGINE=live cannot use OPENAI_API_VERSION (Azure\'s preview Realtime endpoint has no GPT-Live) — remove OPENAI_API_VERSION, or set OPENAI_ENGINE=realtime')
  }
  if (raw.OPENAI_ENGINE === 'live' && /^gpt-realtime/.test(raw.OPENAI_LIVE_MODEL)) {
    problems.push(`OPENAI_LIVE_MODEL is a Realtime model ("${raw.OPENAI_LIVE_MODEL}") — GPT-Live needs a gpt-live model such as gpt-live-1; a Realtime model goes in OPENAI_MODEL with OPENAI_ENGINE=realtime`)
  }
  return problems
}
