import { createHash } from 'node:crypto'
import { verifySignature } from '@vonage/jwt'

/**
 * Vonage's signed-webhook JWT (HS256, account signature secret). Its documented
 * claims are iat, jti, iss, payload_hash, api_key and application_id. A token
 * is accepted for this long after its iat, whatever its exp says, and only
 * once (its jti is remembered for that long).
 */
export const SIGNATURE_MAX_AGE_SECONDS = 300
/** Tolerated clock difference between Vonage and us for iat in the future. */
export const CLOCK_SKEW_SECONDS = 60

export interface VonageClaims {
  iat: number
  jti: string
  exp?: number
  payload_hash?: string
  application_id?: string
  [claim: string]: unknown
}

export type SignatureReason = 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'no-jti' | 'replayed' | 'other-application' | 'payload-mismatch'
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
 * Checks `Authorization: Bearer <jwt>`: HS256 signed with `secret`, issued
 * within the last SIGNATURE_MAX_AGE_SECONDS, with a jti, and (when
 * `applicationId` is given and the token names one) for our application,
 * since one signature secret signs the webhooks of every application of the
 * account. Replays are the caller's to refuse (see ReplayGuard).
 */
export function verifyVonageToken (authorization: string | undefined, secret: string, applicationId = '', nowSeconds = Date.now() / 1000): SignatureCheck {
  if (authorization === undefined || authorization === '') return { ok: false, reason: 'missing' }
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim())
  if (match === null) return { ok: false, reason: 'malformed' }
  const token = match[1]!
  const parts = token.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'malformed' }
  const header = decodePart(parts[0]!)
  const claims = decodePart(parts[1]!)
  if (header === null || claims === null) return { ok: false, reason: 'malformed' }
  // verifySignature also accepts RS256; only the shared-secret form is a webhook signature.
  if (header.alg !== 'HS256') return { ok: false, reason: 'bad-signature' }
  // verifySignature checks the signature and, when present, exp and nbf.
  if (!verifySignature(token, secret)) {
    return { ok: false, reason: typeof claims.exp === 'number' && claims.exp <= nowSeconds ? 'expired' : 'bad-signature' }
  }
  // A far exp must not stretch a captured token's life: iat alone decides freshness.
  const iat = claims.iat
  if (typeof iat !== 'number' || iat + SIGNATURE_MAX_AGE_SECONDS < nowSeconds || iat > nowSeconds + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'expired' }
  if (typeof claims.jti !== 'string' || claims.jti === '') return { ok: false, reason: 'no-jti' }
  if (applicationId !== '' && typeof claims.application_id === 'string' && claims.application_id !== applicationId) {
    return { ok: false, reason: 'other-application' }
  }
  return { ok: true, claims: claims as VonageClaims }
}

/** When a verified token stops being accepted anyway, in ms: how long its jti must be remembered. */
export function tokenAcceptedUntilMs (claims: VonageClaims): number {
  return (claims.iat + SIGNATURE_MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS) * 1000
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
  const want = expectedHash(claims)
  if (want === null) return false
  if (sha256Hex(rawBody ?? '') === want) return true
  return parsedBody !== undefined && sha256Hex(JSON.stringify(parsedBody)) === want
}

/**
 * A GET webhook's payload_hash covers its query: Vonage hashes the query
 * parameters as one compact JSON object, in the order they appear in the URL
 * (Vonage API Support, "How do I verify that the Voice API Webhook request and
 * its payload has not been tampered during transit?"). A repeated name cannot
 * be expressed that way and is refused.
 */
export function queryHashMatches (claims: VonageClaims, url: string): boolean {
  const want = expectedHash(claims)
  if (want === null) return false
  const q = url.indexOf('?')
  const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
  const object: Record<string, string> = {}
  for (const [name, value] of params) {
    if (Object.hasOwn(object, name)) return false
    object[name] = value
  }
  return sha256Hex(JSON.stringify(object)) === want
}

function expectedHash (claims: VonageClaims): string | null {
  const h = claims.payload_hash
  return typeof h === 'string' && h !== '' ? h.toLowerCase() : null
}

/** Where the owner finds the secret; said by the log line, the refusal and the doctor alike. */
export const WHERE_THE_SECRET_IS_JA = 'Vonage ダッシュボード → Settings（API 設定）→ Signed webhooks の「Signature secret」'
export const WHERE_THE_SECRET_IS_EN = 'Vonage Dashboard → Settings (API Settings) → Signed webhooks → "Signature secret"'
