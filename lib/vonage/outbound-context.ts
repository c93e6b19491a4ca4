import { signToken, verifyToken } from '../security/tokens.js'

/**
 * The `context` of POST /connect travels to /answer inside the answer URL, so
 * any instance can serve the answer without shared state. It is signed, not
 * encrypted: whoever sees the URL (Vonage, our request logs) can read it.
 */

/** Long enough for a call that rings, goes to a retry or sits in a queue before it is answered. */
export const OUTBOUND_CONTEXT_TTL_SECONDS = 600

/** Serialized size limit: the token rides in a URL and ends up in the model's instructions. */
export const OUTBOUND_CONTEXT_MAX_BYTES = 1024

/** Token purpose for `deriveTokenKey(config.MEDIA_TOKEN_SECRET, config.OPENAI_API_KEY, OUTBOUND_CONTEXT_PURPOSE)`. */
export const OUTBOUND_CONTEXT_PURPOSE = 'outbound-context'

export function encodeOutboundContext (context: Record<string, unknown>, key: Buffer, ttlSeconds: number, nowSeconds = Date.now() / 1000): string {
  return signToken({ exp: Math.floor(nowSeconds + ttlSeconds), ctx: context }, key)
}

/** The context, or null when the token is forged, expired or not an outbound-context token. */
export function decodeOutboundContext (token: string, key: Buffer, nowSeconds = Date.now() / 1000): Record<string, unknown> | null {
  const result = verifyToken<{ exp: number, ctx?: unknown }>(token, key, nowSeconds)
  if (!result.ok) return null
  const ctx = result.payload.ctx
  return ctx !== null && typeof ctx === 'object' && !Array.isArray(ctx) ? ctx as Record<string, unknown> : null
}
