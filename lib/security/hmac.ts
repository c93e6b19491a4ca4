import { createHmac, timingSafeEqual } from 'node:crypto'
import { deriveTokenKey } from './tokens.js'

/**
 * Requests we send to the operator's own services (custom tools, call records)
 * carry `X-Signature: sha256=<hex>`: HMAC-SHA256 of the raw request body. The
 * receiver recomputes it over the bytes it received, before parsing them.
 */
export const SIGNATURE_HEADER = 'x-signature'

export function signBody (body: string | Buffer, key: Buffer): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`
}

/** Constant-time check of an X-Signature header against the raw body. */
export function verifyBodySignature (header: string | undefined, body: string | Buffer, key: Buffer): boolean {
  if (header === undefined) return false
  const given = Buffer.from(header.trim(), 'utf8')
  const expected = Buffer.from(signBody(body, key), 'utf8')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/**
 * The signing key: the secret itself when set (the receiver is given the same
 * string), else a key derived from MEDIA_TOKEN_SECRET or the OpenAI key, which
 * authenticates nothing to a receiver that cannot derive it too. The plugins
 * warn when they fall back.
 */
export function webhookKey (secret: string, mediaTokenSecret: string, openaiKey: string, purpose: string): Buffer {
  return secret !== '' ? Buffer.from(secret, 'utf8') : deriveTokenKey(mediaTokenSecret, openaiKey, purpose)
}

export interface SignedPostResult {
  status: number
  text: string
}

/** Larger replies are cut off here (a tool's reply is bounded further by MAX_OUTPUT_CHARS). */
const MAX_REPLY_BYTES = 256 * 1024

/** POSTs JSON text with its signature; rejects on network errors and on `signal`. */
export async function postSigned (url: string, body: string, key: Buffer, signal: AbortSignal, extraHeaders: Record<string, string> = {}): Promise<SignedPostResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'vonage-openai-realtime-bridge',
      [SIGNATURE_HEADER]: signBody(body, key),
      ...extraHeaders
    },
    body,
    signal,
    redirect: 'error'
  })
  let text = ''
  if (res.body !== null) {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.length
      if (size > MAX_REPLY_BYTES) break
      chunks.push(Buffer.from(chunk))
    }
    text = Buffer.concat(chunks).toString('utf8')
  }
  return { status: res.status, text }
}
