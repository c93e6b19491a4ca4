import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { payloadHashMatches, verifyVonageToken } from '../lib/vonage/webhook-signature.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preHandler for Vonage webhooks: with VONAGE_SIGNATURE_SECRET set, a request
     * passes only with a valid, fresh signature whose payload_hash matches the
     * body (POST and other methods with a body); otherwise 401. Unset: every request passes.
     */
    verifyVonageWebhook: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
    /**
     * Signature and freshness only, for the media WebSocket handshake (Vonage
     * sends the same JWT when the endpoint has `authorization: {type: 'vonage'}`).
     * True when VONAGE_SIGNATURE_SECRET is unset: there is nothing to check against.
     */
    verifyVonageJwt: (authorizationHeader: string | undefined) => boolean
  }
  interface FastifyRequest {
    /** The JSON body as received, before parsing (set for application/json only). */
    rawBody?: string
  }
}

async function webhookAuthPlugin (fastify: FastifyInstance): Promise<void> {
  const secret = fastify.config.VONAGE_SIGNATURE_SECRET
  const applicationId = fastify.config.VONAGE_APPLICATION_ID

  // payload_hash covers the bytes Vonage sent, which JSON.parse throws away;
  // keep them, and leave parsing (and its 400s) to Fastify's own JSON parser.
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig
  const parseJson = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error')
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser<string>('application/json', { parseAs: 'string' }, function (request, body, done) {
    request.rawBody = body
    parseJson.call(fastify, request, body, done)
  })

  if (secret === '') {
    fastify.log.warn('webhooks are unauthenticated: VONAGE_SIGNATURE_SECRET is not set, so anyone who knows the URLs can post to /incoming-call, /answer and /event')
  }

  fastify.decorate('verifyVonageJwt', function verifyVonageJwt (authorizationHeader: string | undefined): boolean {
    if (secret === '') return true
    return verifyVonageToken(authorizationHeader, secret, applicationId).ok
  })

  fastify.decorate('verifyVonageWebhook', async function verifyVonageWebhook (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (secret === '') return
    const check = verifyVonageToken(request.headers.authorization, secret, applicationId)
    let reason = check.ok ? null : check.reason
    // A body-less POST is checked too (against the hash of ''), or a captured
    // token could be replayed with the body stripped.
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
    if (check.ok && hasBody && !payloadHashMatches(check.claims, request.rawBody, request.body)) reason = 'payload-mismatch'
    if (reason === null) return
    request.log.warn({ reason, url: request.routeOptions.url }, 'webhook refused: missing or invalid Vonage signature')
    return await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'missing or invalid Vonage signature' })
  })
}

export default fp(webhookAuthPlugin, { name: 'webhook-auth', dependencies: ['config'] })
