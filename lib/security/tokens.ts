import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Compact HMAC-SHA256 tokens: base64url(JSON payload) "." base64url(mac).
 * Stateless on purpose, so that any instance behind the host can check a token
 * another instance issued, with nothing shared but the key.
 */
export interface TokenPayload {
  /** Expiry, seconds since the epoch. */
  exp: number
  [key: string]: unknown
}

export type VerifyResult<T> = { ok: true, payload: T } | { ok: false, reason: 'malformed' | 'bad-signature' | 'expired' }

function mac (key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest()
}

export function signToken (payload: TokenPayload, key: Buffer): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
  return `${body}.${mac(key, body).toString('base64url')}`
}

export function verifyToken<T extends TokenPayload> (token: string, key: Buffer, nowSeconds = Date.now() / 1000): VerifyResult<T> {
  const dot = token.indexOf('.')
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' }
  const body = token.slice(0, dot)
  const given = Buffer.from(token.slice(dot + 1), 'base64url')
  const expected = mac(key, body)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' }
  let payload: T
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if (typeof payload?.exp !== 'number') return { ok: false, reason: 'malformed' }
  if (payload.exp < nowSeconds) return { ok: false, reason: 'expired' }
  return { ok: true, payload }
}

/**
 * MEDIA_TOKEN_SECRET when set; otherwise a key derived from the OpenAI key,
 * which every instance of one deployment shares, so no extra setting is needed
 * and the OpenAI key itself never signs anything.
 */
export function deriveTokenKey (explicitSecret: string, fallbackSecret: string, purpose: string): Buffer {
  const root = explicitSecret !== '' ? explicitSecret : fallbackSecret
  return createHmac('sha256', root).update(`vonage-openai-bridge/${purpose}/v1`).digest()
}
