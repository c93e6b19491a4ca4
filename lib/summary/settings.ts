import type { RawConfig } from '../config/schema.js'

/** The after-call summary's settings (spread into lib/config/schema.ts). */
export const summarySettings = {
  SUMMARY_MODEL: { type: 'string', default: 'gpt-5.6-luna', description: 'model that writes the Japanese after-call summary with the Responses API at OPENAI_BASE_URL (Azure: the deployment name); empty = no summaries' },
  SUMMARY_TIMEOUT_MS: { type: 'integer', minimum: 1000, maximum: 120000, default: 30000, description: 'how long the summary request may take, in ms; the call record and the notification go out without a summary after it' }
} as const

const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/

export function checkSummarySettings (raw: RawConfig): string[] {
  const problems: string[] = []
  if (raw.SUMMARY_MODEL !== '' && !MODEL_RE.test(raw.SUMMARY_MODEL)) problems.push(`SUMMARY_MODEL is malformed ("${raw.SUMMARY_MODEL}") — expected a model id such as gpt-5.6-luna (or empty for no summaries)`)
  return problems
}
