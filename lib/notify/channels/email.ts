import nodemailer, { type Transporter } from 'nodemailer'
import type { Channel, OutgoingMessage, SendOutcome } from './channel.js'

const CONNECT_TIMEOUT_MS = 10_000
/** Network trouble nodemailer reports by code: another try may get through. */
const TRANSIENT = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET'])

/**
 * Email over SMTP (nodemailer). SMTP has no idempotency key: every try of a
 * message carries the same Message-ID, so a mail client shows a rare repeat
 * (a crash between the server's 250 and our mark) as one message.
 */
export class EmailChannel implements Channel {
  readonly name = 'email' as const
  readonly #transport: Transporter
  readonly #from: string
  readonly #to: string[]

  constructor (o: { smtpUrl: string, from: string, to: string[] }) {
    this.#transport = nodemailer.createTransport(o.smtpUrl, { connectionTimeout: CONNECT_TIMEOUT_MS, greetingTimeout: CONNECT_TIMEOUT_MS, socketTimeout: 30_000 } as object)
    this.#from = o.from
    this.#to = o.to
  }

  async send (m: OutgoingMessage, signal: AbortSignal): Promise<SendOutcome> {
    if (signal.aborted) return { ok: false, retryable: true, error: 'timeout' }
    const domain = this.#from.split('@')[1] ?? 'localhost'
    try {
      const sent = this.#transport.sendMail({ from: this.#from, to: this.#to, subject: m.subject, text: m.text, messageId: `<${m.retryKey}@${domain}>` })
      const aborted = new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), { once: true }))
      await Promise.race([sent, aborted])
      return { ok: true }
    } catch (err) {
      const e = err as { code?: string, responseCode?: number, response?: string }
      // 4xx replies are the server's "try again later"; 5xx and bad logins will not change.
      if (typeof e.responseCode === 'number') return { ok: false, retryable: e.responseCode < 500, error: `SMTP ${e.responseCode}${e.response !== undefined ? `: ${e.response.slice(0, 200)}` : ''}` }
      return { ok: false, retryable: e.code !== undefined && TRANSIENT.has(e.code), error: `SMTP ${e.code ?? 'error'}` }
    }
  }

  /** Connects and logs in (EHLO, STARTTLS, AUTH), sends nothing. */
  async check (): Promise<{ ok: true } | { ok: false, error: string }> {
    try {
      await this.#transport.verify()
      return { ok: true }
    } catch (err) {
      const e = err as { code?: string, responseCode?: number }
      return { ok: false, error: `SMTP ${e.responseCode ?? e.code ?? 'error'}` }
    }
  }

  close (): void { this.#transport.close() }
}
