import { networkFailure, retryAfterMs, retryableStatus, type Channel, type OutgoingMessage, type SendOutcome } from './channel.js'

/** Slack's limit for a message's text (longer is truncated by Slack anyway). */
const SLACK_TEXT_MAX = 3000

/**
 * A Slack incoming webhook: POST {text}. Slack has no idempotency key, so a
 * crash between Slack's 200 and our mark can repeat one message after a
 * restart (at least once, never lost).
 */
export class SlackChannel implements Channel {
  readonly name = 'slack' as const
  readonly #url: string

  constructor (url: string) { this.#url = url }

  async send (m: OutgoingMessage, signal: AbortSignal): Promise<SendOutcome> {
    let res: Response
    try {
      res = await fetch(this.#url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: m.text.slice(0, SLACK_TEXT_MAX) }), signal })
    } catch (err) {
      return networkFailure(err, signal)
    }
    const body = (await res.text().catch(() => '')).slice(0, 200)
    if (res.ok) return { ok: true }
    // Slack answers errors as plain text: invalid_token, channel_not_found, no_service…
    return { ok: false, retryable: retryableStatus(res.status), error: `HTTP ${res.status}${body !== '' ? `: ${body}` : ''}`, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) }
  }
}
