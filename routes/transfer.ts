import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { WarmTransfer } from '../lib/transfer/warm-transfer.js'
import { FLY_REPLAY_HEADER, FLY_REPLAY_SRC_HEADER, flyReplayValue, placement } from '../lib/security/fly-replay.js'
import { staffGoodbyeNcco, staffJoinNcco, DECLINED_MESSAGE, NO_KEY_MESSAGE } from '../lib/transfer/ncco.js'

type Params = Record<string, unknown>

const str = (v: unknown): string => typeof v === 'string' ? v : typeof v === 'number' ? String(v) : ''

/** Statuses of the staff leg that mean nobody will take the call. */
const NOT_REACHED = new Set(['timeout', 'unanswered', 'busy', 'rejected', 'failed', 'cancelled'])

export const CALLER_GONE_MESSAGE = 'お客様との通話はすでに終了しています。失礼いたします。'

/**
 * The staff leg's webhooks (warm transfer, plugins/transfer.ts). Each URL
 * carries the transfer's unguessable token, and each request must also pass
 * the Vonage signature check like every other webhook: a stranger who knows
 * the host cannot press "1" and join a caller.
 */
export default async function transferRoutes (fastify: FastifyInstance): Promise<void> {
  const language = fastify.config.GREETING_LANGUAGE

  /** The transfer this request is about, bound by its token and by the staff leg's uuid; null after replying 404. */
  async function find (request: FastifyRequest, reply: FastifyReply): Promise<{ t: WarmTransfer, body: Params } | null> {
    const { token } = request.params as { token: string }
    const t = fastify.transfers.byToken.get(token)
    const body = request.body !== null && typeof request.body === 'object' ? request.body as Params : {}
    if (t === undefined || !t.owns(str(body.uuid))) {
      request.log.warn({ url: request.routeOptions.url }, 'transfer webhook for no transfer in progress: refused')
      await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'no transfer in progress at this address' })
      return null
    }
    return { t, body }
  }

  const verify = fastify.verifyVonageWebhook
  const machineId = fastify.mediaTokens.machineId

  /** The machine holding the transfer (?m=) gets the request, through Fly's proxy, before any signature is used up. */
  async function routeToHolder (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const where = placement(str((request.query as Params | undefined)?.m), machineId, request.headers[FLY_REPLAY_SRC_HEADER] !== undefined)
    if (where.where !== 'replay') return
    return await reply.code(409).header(FLY_REPLAY_HEADER, flyReplayValue(where.instance))
      .send({ statusCode: 409, error: 'Conflict', message: `this transfer is held by machine ${where.instance}` })
  }

  fastify.post('/transfer/:token/event', { preValidation: routeToHolder, preHandler: verify }, async (request, reply) => {
    const found = await find(request, reply)
    if (found === null) return reply
    const { t, body } = found
    const status = str(body.status)
    const log = request.log.child({ callId: t.callId })
    log.info({ status, leg: 'staff' }, 'vonage event')
    if (status === 'answered') t.answered()
    else if (status === 'machine') {
      // A voicemail picked up: it must not hear the briefing nor keep the line.
      if (t.decide({ state: 'no-answer', detail: 'machine' })) void fastify.transfers.hangUpStaff(t, log)
    } else if (NOT_REACHED.has(status)) t.decide({ state: 'no-answer', detail: status })
    else if (status === 'completed') t.decide({ state: 'declined', detail: 'hung-up' })
    return await reply.code(204).send()
  })

  fastify.post('/transfer/:token/input', { preValidation: routeToHolder, preHandler: verify }, async (request, reply) => {
    const found = await find(request, reply)
    if (found === null) return reply
    const { t, body } = found
    const dtmf = (body.dtmf ?? {}) as { digits?: unknown, timed_out?: unknown }
    const digit = str(dtmf.digits).slice(0, 1)
    const log = request.log.child({ callId: t.callId })
    if (t.decision !== null) return staffGoodbyeNcco(CALLER_GONE_MESSAGE, language)
    if (digit === '1') {
      if (!t.decide({ state: 'accepted', detail: 'key-1' })) return staffGoodbyeNcco(CALLER_GONE_MESSAGE, language)
      log.info({ leg: 'staff' }, 'transfer: the staff pressed 1: joining the caller')
      return staffJoinNcco(t.room, language)
    }
    if (digit === '') {
      t.decide({ state: 'no-answer', detail: 'no-key' })
      return staffGoodbyeNcco(NO_KEY_MESSAGE, language)
    }
    t.decide({ state: 'declined', detail: digit === '2' ? 'key-2' : 'other-key' })
    log.info({ leg: 'staff' }, 'transfer: the staff declined')
    return staffGoodbyeNcco(DECLINED_MESSAGE, language)
  })
}
