import { networkFailure, retryAfterMs, retryableStatus, type Channel, type OutgoingMessage, type SendOutcome } from './channel.js'

/** LINE's limit for one text message. */
export const LINE_TEXT_MAX = 5000

/**
 * LINE Messaging API push (POST /v2/bot/message/push). Every try of a message
 * carries the same X-Line-Retry-Key, so LINE delivers it once however often it
 * is sent; a 409 for that key means an earlier try was already accepted.
 */
export class LineChannel implements Channel {
  readonly name = 'line' as const
  readonly #base: string
  readonly #token: string
  readonly #to: string

  constructor (o: { baseUrl: string, token: string, to: string }) {
    this.#base = o.baseUrl.replace(/\/+$/, '')
    this.#token = o.token
    this.#to = o.to
  }

  async send (m: OutgoingMessage, signal: AbortSignal): Promise<SendOutcome> {
    let res: Response
    try {
      res = await fetch(`${this.#base}/v2/bot/message/push`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json', 'x-line-retry-key': m.retryKey },
        body: JSON.stringify({ to: this.#to, messages: [{ type: 'text', text: m.text.slice(0, LINE_TEXT_MAX) }] }),
        signal
      })
    } catch (err) {
      return networkFailure(err, signal)
    }
    const body = await res.text().catch(() => '')
    if (res.ok) return { ok: true }
    if (res.status === 409) return { ok: true, note: 'already accepted (retry key)' }
    let message = ''
    try { message = String((JSON.parse(body) as { message?: string }).message ?? '') } catch {}
    return { ok: false, retryable: retryableStatus(res.status), error: `HTTP ${res.status}${message !== '' ? `: ${message.slice(0, 200)}` : ''}`, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) }
  }

  /** The bot's own info (GET /v2/bot/info): checks the token, sends nothing. */
  async check (signal: AbortSignal): Promise<{ ok: true, name: string } | { ok: false, error: string }> {
    try {
      const res = await fetch(`${this.#base}/v2/bot/info`, { headers: { authorization: `Bearer ${this.#token}` }, signal })
      const body = await res.json().catch(() => ({})) as { displayName?: string, message?: string }
      return res.ok ? { ok: true, name: String(body.displayName ?? '') } : { ok: false, error: `HTTP ${res.status}${body.message !== undefined ? `: ${body.message}` : ''}` }
    } catch (err) {
      const f = networkFailure(err, signal)
      return { ok: false, error: f.ok ? '' : f.error }
    }
  }
}
