import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { mediaNcco, talk, BUSY_MESSAGE, CLOSING_MESSAGE, UNAVAILABLE_MESSAGE, type Rate } from '../lib/vonage/ncco.js'
import { deriveTokenKey } from '../lib/security/tokens.js'
import { decodeOutboundContext, OUTBOUND_CONTEXT_PURPOSE } from '../lib/vonage/outbound-context.js'
import { maskNumber } from '../lib/log/logger.js'
import type { CallContext } from '../lib/realtime/session-update.js'

type Params = Record<string, unknown>

/** Vonage sends webhooks as GET with a query or POST with JSON, as the application is set. */
function params (request: FastifyRequest): Params {
  const query = (request.query ?? {}) as Params
  const body = request.body !== null && typeof request.body === 'object' ? request.body as Params : {}
  return { ...query, ...body }
}

const str = (v: unknown): string => typeof v === 'string' ? v : typeof v === 'number' ? String(v) : ''

/** Terminal states of a call leg: its session, if any, is over. */
const ENDED = new Set(['completed', 'busy', 'cancelled', 'failed', 'rejected', 'timeout', 'unanswered'])

export default async function nccoRoutes (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const contextKey = deriveTokenKey(cfg.MEDIA_TOKEN_SECRET, cfg.OPENAI_API_KEY, OUTBOUND_CONTEXT_PURPOSE)

  function publicHost (request: FastifyRequest): string {
    // Without SERVER_URL, the host Vonage called us on is the one it can reach.
    return cfg.publicHost !== '' ? cfg.publicHost : request.host
  }

  async function answer (request: FastifyRequest, reply: FastifyReply, direction: 'inbound' | 'outbound'): Promise<unknown> {
    const p = params(request)
    const uuid = str(p.uuid)
    if (uuid === '') return await reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'uuid is required (Vonage sends it with every answer webhook)' })
    const call: CallContext = { direction, from: str(p.from), to: str(p.to) }
    if (direction === 'outbound') {
      const ctx = str(p.ctx)
      if (ctx !== '') {
        const extra = decodeOutboundContext(ctx, contextKey)
        if (extra === null) request.log.warn({ uuid }, 'outbound context is invalid or expired: continuing without it')
        else if (Object.keys(extra).length > 0) call.extra = extra
      }
    }
    const admission = fastify.calls.admission()
    const session = admission === 'ok' ? fastify.bridge.startCall(uuid, call, { greetEarly: cfg.VONAGE_SIGNATURE_SECRET !== '' }) : null
    if (session === null) {
      request.log.warn({ uuid, admission, calls: fastify.calls.size, max: fastify.calls.max }, 'call refused: at capacity or shutting down')
      return [talk(admission === 'draining' ? CLOSING_MESSAGE : BUSY_MESSAGE, cfg.GREETING_LANGUAGE)]
    }
    request.log.info({ uuid, direction, from: maskNumber(call.from), to: maskNumber(call.to) }, 'call answered')
    return mediaNcco({
      publicHost: publicHost(request),
      callId: uuid,
      token: fastify.bridge.issueToken(uuid, call),
      rate: cfg.VONAGE_AUDIO_RATE as Rate,
      greeting: cfg.GREETING_TEXT,
      language: cfg.GREETING_LANGUAGE,
      signedHandshake: cfg.VONAGE_SIGNATURE_SECRET !== ''
    })
  }

  const verify = fastify.verifyVonageWebhook
  for (const method of ['GET', 'POST'] as const) {
    fastify.route({ method, url: '/incoming-call', preHandler: verify, handler: async (req, reply) => await answer(req, reply, 'inbound') })
    fastify.route({ method, url: '/answer', preHandler: verify, handler: async (req, reply) => await answer(req, reply, 'outbound') })
    fastify.route({
      method,
      url: '/event',
      preHandler: verify,
      handler: async (request, reply) => {
        const p = params(request)
        const status = str(p.status)
        const uuid = str(p.uuid)
        const q = (request.query ?? {}) as Params
        const mediaLeg = str(q.leg) === 'media'
        request.log.info({ uuid, status, direction: str(p.direction), leg: mediaLeg ? 'media' : 'call' }, 'vonage event')
        if (mediaLeg && (status === 'failed' || status === 'unanswered' || status === 'rejected' || status === 'timeout')) {
          // Our WebSocket could not be reached: say so instead of leaving the caller in silence.
          fastify.bridge.endCall(str(q.call), 'ended')
          return [talk(UNAVAILABLE_MESSAGE, cfg.GREETING_LANGUAGE)]
        }
        if (!mediaLeg && ENDED.has(status)) fastify.bridge.endCall(uuid, 'caller-hangup')
        return await reply.code(204).send()
      }
    })
  }
}
