import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { payloadHashMatches, queryHashMatches, tokenAcceptedUntilMs, verifyVonageToken, WHERE_THE_SECRET_IS_EN, WHERE_THE_SECRET_IS_JA, type SignatureReason } from '../lib/vonage/webhook-signature.js'
import { ReplayGuard } from '../lib/security/replay-guard.js'
import { NOT_READY_MESSAGE, talk } from '../lib/vonage/ncco.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preHandler for Vonage webhooks. With VONAGE_SIGNATURE_SECRET set, a
     * request passes only with a valid signature issued in the last 300 s,
     * never seen before (jti), whose payload_hash matches the body (POST) or
     * the query (GET). No signature at all → 503, so Vonage retries a callback
     * it failed to sign; a bad one → 401. Unset: every request is refused
     * (an answer webhook gets a spoken apology and nothing else, an event 403),
     * unless ALLOW_UNSIGNED_WEBHOOKS=true lets them all through.
     */
    verifyVonageWebhook: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
    /**
     * The same JWT on the media WebSocket handshake (the endpoint's
     * `authorization: {type: 'vonage'}`): signature, freshness and single use.
     * True when VONAGE_SIGNATURE_SECRET is unset: there is nothing to check
     * against (the token itself came from an answer webhook that passed).
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

export const UNSIGNED_WARNING = 'ALLOW_UNSIGNED_WEBHOOKS=true: VONAGE_SIGNATURE_SECRET なしで署名のない Webhook を受け付けます。URL を知っている人なら誰でも /incoming-call・/answer・/event を呼べ、通話ごとに OpenAI の料金がかかります。実験が終わったら ' + WHERE_THE_SECRET_IS_JA + ' を VONAGE_SIGNATURE_SECRET に設定してください（docs/security.md）。 / ' +
  'ALLOW_UNSIGNED_WEBHOOKS=true: unsigned webhooks are accepted without VONAGE_SIGNATURE_SECRET. Anyone who knows the URLs can post to /incoming-call, /answer and /event, and each call costs OpenAI time. After the experiment, set VONAGE_SIGNATURE_SECRET to the ' + WHERE_THE_SECRET_IS_EN + '; see docs/security.md.'

export const NO_SECRET_REFUSAL = 'VONAGE_SIGNATURE_SECRET が未設定のため、Vonage の Webhook を断っています（通話はつながりません）。' + WHERE_THE_SECRET_IS_JA + ' を VONAGE_SIGNATURE_SECRET に設定して再起動してください。 / ' +
  'Vonage webhooks are refused (calls do not connect): VONAGE_SIGNATURE_SECRET is not set. Copy the ' + WHERE_THE_SECRET_IS_EN + ' into VONAGE_SIGNATURE_SECRET and restart (ALLOW_UNSIGNED_WEBHOOKS=true accepts unsigned webhooks, for experiments only).'

/** One refusal log line per this many ms (with the count since the last), so an anonymous flood cannot flood the log. */
const REFUSAL_LOG_EVERY_MS = 60_000
const ANSWER_ROUTES = new Set(['/incoming-call', '/answer'])

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
  const allowUnsigned = secret === '' && fastify.config.ALLOW_UNSIGNED_WEBHOOKS
  const seen = new ReplayGuard()
  let lastRefusalLog = -Infinity
  let refusedSinceLog = 0

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

  if (allowUnsigned) fastify.log.warn(UNSIGNED_WARNING)
  else if (secret === '') fastify.log.error(NO_SECRET_REFUSAL)

  /**
   * No secret, no opt-out: nothing can tell Vonage from a stranger. The refusal
   * is for good (it is the configuration, not a glitch), so it is no 5xx, which
   * Vonage would retry: an answer webhook gets a 200 NCCO that only apologises
   * (the caller hears why the call ends rather than silence; no media token, no
   * model session), any other webhook a 403.
   */
  async function refuseForNoSecret (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    refusedSinceLog++
    const now = performance.now()
    if (now - lastRefusalLog >= REFUSAL_LOG_EVERY_MS) {
      request.log.error({ url: request.routeOptions.url, refused: refusedSinceLog }, NO_SECRET_REFUSAL)
      lastRefusalLog = now
      refusedSinceLog = 0
    }
    if (ANSWER_ROUTES.has(request.routeOptions.url ?? '')) {
      return await reply.code(200).send([talk(NOT_READY_MESSAGE, fastify.config.GREETING_LANGUAGE)])
    }
    return await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: NO_SECRET_REFUSAL })
  }

  fastify.decorate('hasVonageSignature', function hasVonageSignature (request: FastifyRequest): boolean {
    return secret !== '' && verifyVonageToken(request.headers.authorization, secret, applicationId).ok
  })

  fastify.decorate('verifyVonageJwt', function verifyVonageJwt (authorizationHeader: string | undefined): boolean {
    if (secret === '') return true
    const check = verifyVonageToken(authorizationHeader, secret, applicationId)
    return check.ok && seen.use(check.claims.jti, tokenAcceptedUntilMs(check.claims))
  })

  fastify.decorate('verifyVonageWebhook', async function verifyVonageWebhook (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (allowUnsigned) return
    if (secret === '') return await refuseForNoSecret(request, reply)
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
