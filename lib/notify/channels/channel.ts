/** One way of telling the owner (LINE, Slack, email). */
export type ChannelName = 'line' | 'slack' | 'email'

export interface OutgoingMessage {
  callId: string
  kind: string
  subject: string
  text: string
  /** Kept for every try of this message: LINE's X-Line-Retry-Key, the email's Message-ID. */
  retryKey: string
}

export type SendOutcome =
  | { ok: true, note?: string }
  | { ok: false, retryable: boolean, error: string, retryAfterMs?: number }

export interface Channel {
  readonly name: ChannelName
  send: (m: OutgoingMessage, signal: AbortSignal) => Promise<SendOutcome>
}

/** Worth another try: rate limited, the server's trouble, or a timeout. */
export function retryableStatus (status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500
}

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs (header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** A failed fetch, named without its URL (the Slack webhook's path is a secret). */
export function networkFailure (err: unknown, signal: AbortSignal): SendOutcome {
  if (signal.aborted) return { ok: false, retryable: true, error: 'timeout' }
  const e = err as { cause?: { code?: string }, code?: string, message?: string }
  return { ok: false, retryable: true, error: `network error: ${e.cause?.code ?? e.code ?? 'unknown'}` }
}
