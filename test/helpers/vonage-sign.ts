import { createHash, createHmac, randomUUID } from 'node:crypto'

/** Signs like Vonage does (HS256 over base64url JSON), independently of @vonage/jwt. */
export function signJwt (claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const head = `${enc(header)}.${enc(claims)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** Vonage's documented claims for a request carrying `payload` (the compact JSON body, or the query as one JSON object). */
export function vonageClaims (payload: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iat: nowSeconds(), jti: randomUUID(), iss: 'Vonage', api_key: 'abcd1234', payload_hash: sha256(payload), ...extra }
}

/** Authorization header for a POST webhook with body `body`. */
export function bearerFor (body: string, secret: string, extra: Record<string, unknown> = {}): string {
  return `Bearer ${signJwt(vonageClaims(body, extra), secret)}`
}

/** Authorization header for a GET webhook: the query parameters, in URL order, as compact JSON. */
export function bearerForQuery (query: Record<string, string>, secret: string, extra: Record<string, unknown> = {}): string {
  return bearerFor(JSON.stringify(query), secret, extra)
}

/**
 * The signature secret the test servers run with (the rig's apps and the spawned
 * servers alike): the app refuses unsigned webhooks, so tests sign like Vonage.
 */
export const TEST_SIGNATURE_SECRET = 'rig-signature-secret-0123456789'

/** Headers of a JSON webhook Vonage signed: POST `body` with these. */
export function vonageHeaders (body: string, secret = TEST_SIGNATURE_SECRET): Record<string, string> {
  return { 'content-type': 'application/json', authorization: bearerFor(body, secret) }
}

/** The media WebSocket handshake's Authorization, as Vonage sends it for an endpoint with authorization {type: 'vonage'}. */
export function handshakeHeaders (secret = TEST_SIGNATURE_SECRET): Record<string, string> {
  return { authorization: `Bearer ${signJwt(vonageClaims(''), secret)}` }
}
