import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { mediaNcco, talk, BUSY_MESSAGE, CLOSING_MESSAGE, UNAVAILABLE_MESSAGE, type Ncco } from '../lib/vonage/ncco.js'
import { deriveTokenKey } from '../lib/security/tokens.js'
import { FLY_REPLAY_HEADER, FLY_REPLAY_SRC_HEADER, flyReplayValue, placement } from '../lib/security/fly-replay.js'
import { decodeOutboundContext, OUTBOUND_CONTEXT_PURPOSE } from '../lib/vonage/outbound-context.js'
import { maskNumber } from '../lib/log/logger.js'
import type { CallContext } from '../lib/realtime/session-update.js'
import { waitPrepared } from '../lib/voicemail/prepared.js'
import type { VoicemailReason } from '../lib/voicemail/message.js'

/** How long the answer webhook waits for the model session to open or be refused (Vonage allows 5 s). */
export const PREPARE_WAIT_MS = 1500

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

/** What the model is asked to do when machine detection says voicemail answered (machine_detection=continue). */
export const VOICEMAIL_INSTRUCTIONS = '留守番電話につながりました。質問はせず、だれが何の用件で電話したかを短く伝言として残し、最後に挨拶して終えてください。 / ' +
  'An answering machine picked up. Ask nothing: leave a short message saying who is calling and why, then say goodbye.'

interface SpeakingSession {
  engine?: { startResponse?: (opts?: { instructions?: string }) => boolean }
}

export default async function nccoRoutes (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const contextKey = deriveTokenKey(cfg.MEDIA_TOKEN_SECRET, cfg.OPENAI_API_KEY, OUTBOUND_CONTEXT_PURPOSE)
  const machineId = fastify.mediaTokens.machineId

  function publicHost (request: FastifyRequest): string {
    // Without SERVER_URL, the host Vonage called us on is the one it can reach.
    return cfg.publicHost !== '' ? cfg.publicHost : request.host
  }

  /**
   * /answer and /event URLs of outbound calls name the machine that placed the
   * call (?m=); Fly's proxy takes them there, before any signature is checked
   * or remembered, so the holder sees each signed request exactly once.
   */
  async function routeToHolder (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const named = str((request.query as Params | undefined)?.m)
    const where = placement(named, machineId, request.headers[FLY_REPLAY_SRC_HEADER] !== undefined)
    if (where.where !== 'replay') return
    request.log.info({ holder: where.instance, url: request.routeOptions.url }, 'webhook for a call held elsewhere: fly-replay')
    return await reply.code(409).header(FLY_REPLAY_HEADER, flyReplayValue(where.instance))
      .send({ statusCode: 409, error: 'Conflict', message: `this call is held by machine ${where.instance}` })
  }

  /** The NCCO's media-leg event URL names this machine too, so a failed WebSocket is reported where the call lives. */
  function withMachine (ncco: Ncco): Ncco {
    if (machineId === '') return ncco
    for (const action of ncco) {
      if (action.action === 'connect') action.eventUrl = action.eventUrl.map(u => `${u}&m=${encodeURIComponent(machineId)}`)
    }
    return ncco
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
    // Business hours at the answer webhook: the model knows them, and after hours that no one can be rung.
    const hours = fastify.hours.instructions()
    if (hours.length > 0) call.notes = hours
    const admission = fastify.calls.admission()
    if (admission === 'ok' && await fastify.budget.reached()) {
      // No model session at all: the day's budget is spent.
      request.log.info({ uuid, from: maskNumber(call.from) }, 'daily budget reached: the call goes to voicemail without a model session')
      return voicemailOnly(request, uuid, call, 'budget')
    }
    // Only a request Vonage signed may have the greeting prepared before the caller is connected.
    const session = admission === 'ok' ? fastify.bridge.startCall(uuid, call, { greetEarly: request.vonageVerified }) : null
    let prepared: Awaited<ReturnType<typeof waitPrepared>> = 'pending'
    if (session !== null && fastify.voicemail.available) {
      fastify.voicemail.hold(uuid)
      try {
        prepared = await waitPrepared(session, PREPARE_WAIT_MS)
      } finally {
        fastify.voicemail.release(uuid)
      }
    }
    if (session !== null && prepared === 'failed') {
      // The model refused while the call was being prepared: the caller leaves a message instead of hearing silence.
      request.log.warn({ uuid }, 'the model could not be reached: the call goes to voicemail')
      session.notes.outcome = 'voicemail'
      session.end('upstream-failed')
      return fastify.voicemail.offer(uuid, call, 'unavailable', publicHost(request))
    }
    if (session === null) {
      request.log.warn({ uuid, admission, calls: fastify.calls.size, max: fastify.calls.max }, 'call refused: at capacity or shutting down')
      return [talk(admission === 'draining' ? CLOSING_MESSAGE : BUSY_MESSAGE, cfg.GREETING_LANGUAGE)]
    }
    request.log.info({ uuid, direction, from: maskNumber(call.from), to: maskNumber(call.to), signed: request.vonageVerified }, 'call answered')
    return withMachine(mediaNcco({
      publicHost: publicHost(request),
      callId: uuid,
      token: fastify.mediaTokens.issue(uuid),
      rate: cfg.VONAGE_AUDIO_RATE,
      // The person we call did not call us: never the inbound greeting.
      greeting: direction === 'outbound' ? cfg.OUTBOUND_GREETING_TEXT : cfg.GREETING_TEXT,
      // Before the AI says a word, and for outbound calls (/answer) as for inbound ones.
      notice: cfg.RECORDING === 'on' ? cfg.RECORDING_NOTICE : '',
      language: cfg.GREETING_LANGUAGE,
      signedHandshake: cfg.VONAGE_SIGNATURE_SECRET !== ''
    }))
  }

  /** The apology and the voicemail's record, or the apology alone when voicemail is off; the call gets its row either way. */
  function voicemailOnly (request: FastifyRequest, uuid: string, call: CallContext, reason: VoicemailReason): unknown {
    const now = new Date()
    const writer = fastify.callStore.writer
    writer.callStarted({ id: uuid, startedAt: now, direction: call.direction, from: call.from ?? '', to: call.to ?? '', persona: null, model: null })
    const outcome = fastify.voicemail.available ? 'voicemail' : 'budget-reached'
    const zero = { durationMs: 0, costUsd: 0, lateFrames: 0, bargeIns: 0, backchannels: 0, callerAudioMs: 0, assistantAudioMs: 0, upstreamErrors: 0 }
    writer.callEnded({ ...zero, id: uuid, endedAt: now, outcome, endReason: reason, usage: {}, timeToFirstAudioMs: null })
    if (!fastify.voicemail.available) return [talk(UNAVAILABLE_MESSAGE, cfg.GREETING_LANGUAGE)]
    return fastify.voicemail.offer(uuid, call, reason, publicHost(request))
  }

  function onMachine (request: FastifyRequest, uuid: string, mode: string): void {
    if (mode !== 'continue') {
      // machine_detection=hangup: Vonage ends the call itself and reports it completed.
      request.log.info({ uuid }, 'answering machine: Vonage hangs up (machine detection: hangup)')
      return
    }
    const session = fastify.bridge.sessions.get(uuid)
    if (session === undefined) return
    const engine = (session as unknown as SpeakingSession).engine
    if (typeof engine?.startResponse === 'function' && engine.startResponse({ instructions: VOICEMAIL_INSTRUCTIONS })) {
      request.log.info({ uuid }, 'answering machine: the assistant leaves a message (machine detection: continue)')
      return
    }
    request.log.info({ uuid }, 'answering machine: ending the call (machine detection: continue, no way to leave a message)')
    fastify.bridge.endCall(uuid, 'ended')
  }

  // Registered here, not globally: answer webhooks open model sessions. A
  // valid Vonage signature is exempt, so Vonage's few addresses never hit it.
  const answerLimit = fastify.rateLimit({
    max: cfg.ANSWER_RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    allowList: (request) => fastify.hasVonageSignature(request)
  })

  const verify = fastify.verifyVonageWebhook
  for (const method of ['GET', 'POST'] as const) {
    fastify.route({ method, url: '/incoming-call', onRequest: answerLimit, preHandler: verify, handler: async (req, reply) => await answer(req, reply, 'inbound') })
    fastify.route({ method, url: '/answer', onRequest: answerLimit, preValidation: routeToHolder, preHandler: verify, handler: async (req, reply) => await answer(req, reply, 'outbound') })
    fastify.route({
      method,
      url: '/event',
      preValidation: routeToHolder,
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
          const callId = str(q.call)
          const session = fastify.bridge.sessions.get(callId)
          if (fastify.voicemail.available && session !== undefined && !session.ended) {
            session.notes.outcome = 'voicemail'
            const ncco = fastify.voicemail.offer(callId, session.call, 'unavailable', publicHost(request))
            session.end('ended')
            return ncco
          }
          fastify.bridge.endCall(callId, 'ended')
          return [talk(UNAVAILABLE_MESSAGE, cfg.GREETING_LANGUAGE)]
        }
        if (!mediaLeg && status === 'machine') onMachine(request, uuid, str(q.md))
        if (!mediaLeg && ENDED.has(status)) fastify.bridge.endCall(uuid, 'caller-hangup')
        return await reply.code(204).send()
      }
    })
  }
}
