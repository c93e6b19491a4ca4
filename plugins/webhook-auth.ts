import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { payloadHashMatches, queryHashMatches, tokenAcceptedUntilMs, verifyVonageToken, type SignatureReason } from '../lib/vonage/webhook-signature.js'
import { ReplayGuard } from '../lib/security/replay-guard.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preHandler for Vonage webhooks. With VONAGE_SIGNATURE_SECRET set, a
     * request passes only with a valid signature issued in the last 300 s,
     * never seen before (jti), whose payload_hash matches the body (POST) or
     * the query (GET). No signature at all → 503, so Vonage retries a callback
     * it failed to sign; a bad one → 401. Unset: every request passes.
     */
    verifyVonageWebhook: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
    /**
     * The same JWT on the media WebSocket handshake (the endpoint's
     * `authorization: {type: 'vonage'}`): signature, freshness and single use.
     * True when VONAGE_SIGNATURE_SECRET is unset: there is nothing to check against.
     */
    verifyVonageJwt: (authorizationHeader: string | undefined) => boolean
    /** Signature and freshness only, with no side effect (rate-limit exemption). */
    hasVonageSignature: (request: FastifyRequest) => boolean
  }
  interface FastifyRequest {
    /** The JSON body as received, before parsing (set for application/json only). */
    rawBody?: string
    /** True once verifyVonageWebhook accepted this request's signature. */
    vonageVerified: boolean
  }
}

export const UNSIGNED_WARNING = 'VONAGE_SIGNATURE_SECRET が未設定です。URL を知っている人なら誰でも /incoming-call・/answer・/event を呼べ、通話ごとに OpenAI の料金がかかります。公開する前に Vonage ダッシュボード（API 設定）の署名シークレットを設定してください（docs/security.md）。 / ' +
  'VONAGE_SIGNATURE_SECRET is not set: anyone who knows the URLs can post to /incoming-call, /answer and /event, and each call costs OpenAI time. Before exposing this server, set it to the signature secret shown in the Vonage Dashboard (API settings); see docs/security.md.'

const FIX_SECRET = 'check that VONAGE_SIGNATURE_SECRET is the signature secret shown in the Vonage Dashboard (API settings) and that the server clock is right'
const HINTS: Record<Exclude<SignatureReason, 'missing'>, string> = {
  malformed: 'the Authorization header is not "Bearer <JWT>"',
  'bad-signature': `the signature does not verify: ${FIX_SECRET}`,
  expired: `the token was issued more than 300 s ago or in the future: ${FIX_SECRET}`,
  'no-jti': 'the token has no jti claim',
  replayed: 'this token was already used (each signed request is accepted once)',
  'other-application': 'the token is for another application of the account: check VONAGE_APPLICATION_ID',
  'payload-mismatch': 'payload_hash does not match what was received'
}
const GET_HINT = 'payload_hash does not match the query. If your application sends GET webhooks, set answer_method and event_method to POST (npm run change-url does)'

async function webhookAuthPlugin (fastify: FastifyInstance): Promise<void> {
  const secret = fastify.config.VONAGE_SIGNATURE_SECRET
  const applicationId = fastify.config.VONAGE_APPLICATION_ID
  const seen = new ReplayGuard()

  // payload_hash covers the bytes Vonage sent, which JSON.parse throws away;
  // keep them, and leave parsing (and its 400s) to Fastify's own JSON parser.
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig
  const parseJson = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error')
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser<string>('application/json', { parseAs: 'string' }, function (request, body, done) {
    request.rawBody = body
    parseJson.call(fastify, request, body, done)
  })
  fastify.decorateRequest('vonageVerified', false)

  if (secret === '') fastify.log.warn(UNSIGNED_WARNING)

  fastify.decorate('hasVonageSignature', function hasVonageSignature (request: FastifyRequest): boolean {
    return secret !== '' && verifyVonageToken(request.headers.authorization, secret, applicationId).ok
  })

  fastify.decorate('verifyVonageJwt', function verifyVonageJwt (authorizationHeader: string | undefined): boolean {
    if (secret === '') return true
    const check = verifyVonageToken(authorizationHeader, secret, applicationId)
    return check.ok && seen.use(check.claims.jti, tokenAcceptedUntilMs(check.claims))
  })

  fastify.decorate('verifyVonageWebhook', async function verifyVonageWebhook (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (secret === '') return
    const check = verifyVonageToken(request.headers.authorization, secret, applicationId)
    const isGet = request.method === 'GET' || request.method === 'HEAD'
    let reason: SignatureReason | null = check.ok ? null : check.reason
    if (check.ok) {
      // A body-less POST is checked too (against the hash of ''), or a captured
      // token could be replayed with the body stripped.
      const matches = isGet ? queryHashMatches(check.claims, request.url) : payloadHashMatches(check.claims, request.rawBody, request.body)
      if (!matches) reason = 'payload-mismatch'
      else if (!seen.use(check.claims.jti, tokenAcceptedUntilMs(check.claims))) reason = 'replayed'
    }
    if (reason === null) {
      request.vonageVerified = true
      return
    }
    const url = request.routeOptions.url
    if (reason === 'missing') {
      request.log.warn({ reason, url }, 'webhook refused: unsigned while VONAGE_SIGNATURE_SECRET is set (503, Vonage retries)')
      return await reply.code(503).send({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'unsigned webhook refused: VONAGE_SIGNATURE_SECRET is set, so every webhook must carry Vonage\'s signature (Authorization: Bearer <JWT>). Vonage retries a callback it failed to sign; if every one fails, turn on signed callbacks for the application or unset VONAGE_SIGNATURE_SECRET'
      })
    }
    request.log.warn({ reason, url, method: request.method }, 'webhook refused: invalid Vonage signature')
    return await reply.code(401).send({
      statusCode: 401,
      error: 'Unauthorized',
      message: `invalid Vonage signature: ${reason === 'payload-mismatch' && isGet ? GET_HINT : HINTS[reason]}`
    })
  })
}

export default fp(webhookAuthPlugin, { name: 'webhook-auth', dependencies: ['config'] })
