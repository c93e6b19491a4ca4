import { createHash } from 'node:crypto'
import { verifySignature } from '@vonage/jwt'

/**
 * Vonage's signed-webhook JWT (HS256, account signature secret). Its documented
 * claims are iat, jti, iss, payload_hash, api_key and application_id: no exp.
 * Without a freshness rule a captured request could be replayed forever, so a
 * token without exp counts as expired this long after its iat.
 */
export const SIGNATURE_MAX_AGE_SECONDS = 300
/** Tolerated clock difference between Vonage and us for iat in the future. */
const CLOCK_SKEW_SECONDS = 60

export interface VonageClaims {
  iat?: number
  exp?: number
  payload_hash?: string
  application_id?: string
  [claim: string]: unknown
}

export type SignatureReason = 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'other-application' | 'payload-mismatch'
export type SignatureCheck = { ok: true, claims: VonageClaims } | { ok: false, reason: SignatureReason }

function decodePart (part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

/**
 * Checks `Authorization: Bearer <jwt>`: HS256 signed with `secret`, fresh, and
 * (when `applicationId` is given and the token names one) for our application,
 * since one signature secret signs the webhooks of every application of the account.
 */
export function verifyVonageToken (authorization: string | undefined, secret: string, applicationId = '', nowSeconds = Date.now() / 1000): SignatureCheck {
  if (authorization === undefined || authorization === '') return { ok: false, reason: 'missing' }
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim())
  if (match === null) return { ok: false, reason: 'malformed' }
  const token = match[1]!
  const parts = token.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'malformed' }
  const header = decodePart(parts[0]!)
  const claims = decodePart(parts[1]!) as VonageClaims | null
  if (header === null || claims === null) return { ok: false, reason: 'malformed' }
  // verifySignature also accepts RS256; only the shared-secret form is a webhook signature.
  if (header.alg !== 'HS256') return { ok: false, reason: 'bad-signature' }
  // verifySignature checks the signature and, when present, exp and nbf.
  if (!verifySignature(token, secret)) {
    return { ok: false, reason: typeof claims.exp === 'number' && claims.exp <= nowSeconds ? 'expired' : 'bad-signature' }
  }
  if (typeof claims.exp !== 'number') {
    if (typeof claims.iat !== 'number') return { ok: false, reason: 'expired' }
    if (claims.iat + SIGNATURE_MAX_AGE_SECONDS < nowSeconds || claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'expired' }
  }
  if (applicationId !== '' && typeof claims.application_id === 'string' && claims.application_id !== applicationId) {
    return { ok: false, reason: 'other-application' }
  }
  return { ok: true, claims }
}

export function sha256Hex (text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/**
 * Vonage hashes the body as it serialized it (compact JSON). We compare with
 * the bytes received and, failing that, with our own compact serialization,
 * so a proxy that re-indents the JSON does not break verification while any
 * change of content still does.
 */
export function payloadHashMatches (claims: VonageClaims, rawBody: string | undefined, parsedBody: unknown): boolean {
  const expected = claims.payload_hash
  if (typeof expected !== 'string' || expected === '') return false
  const want = expected.toLowerCase()
  if (sha256Hex(rawBody ?? '') === want) return true
  return parsedBody !== undefined && sha256Hex(JSON.stringify(parsedBody)) === want
}
