import type { RawConfig } from '../config/schema.js'

/** Outbound calls (issue #23): what the person we call hears before the assistant. */
export const outboundSettings = {
  OUTBOUND_GREETING_TEXT: { type: 'string', default: '', description: 'what Vonage says when the person we called picks up, before the assistant (e.g. the business name); empty = none, the assistant speaks first. Never the inbound GREETING_TEXT' }
} as const

export function checkOutboundSettings (_raw: RawConfig): string[] {
  return []
}
