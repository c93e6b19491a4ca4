import fp from 'fastify-plugin'
import { EventEmitter } from 'node:events'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Auth } from '@vonage/auth'
import type { CallSession } from '../lib/call/session.js'
import type { CallContext } from '../lib/realtime/session-update.js'
import { deriveTokenKey } from '../lib/security/tokens.js'
import { loadPrivateKey } from '../lib/vonage/private-key.js'
import { maskNumber } from '../lib/log/logger.js'
import { voicemailNcco, type RecordAction } from '../lib/voicemail/ncco.js'
import type { TalkAction } from '../lib/vonage/ncco.js'
import { PendingVoicemails, recordingToken, recordingTokenValid, type PendingVoicemail } from '../lib/voicemail/pending.js'
import type { VoicemailReason, VoicemailStored } from '../lib/voicemail/message.js'
import { receiveRecording, type RecordingEvent } from '../lib/voicemail/receive.js'
import { transcriptionEndpoint } from '../lib/voicemail/transcribe.js'
import { getVoicemail } from '../lib/voicemail/store.js'
import { FLY_REPLAY_HEADER, FLY_REPLAY_SRC_HEADER, flyReplayValue, placement } from '../lib/security/fly-replay.js'

export type VoicemailNcco = Array<TalkAction | RecordAction>

/**
 * Where a caller the AI cannot answer leaves a message. Emits 'stored' once a
 * message is kept (audio, transcript) with the caller's full number, for the
 * owner's notification.
 */
export class VoicemailDesk extends EventEmitter<{ stored: [VoicemailStored] }> {
  /** Settings that voicemail needs but lacks (empty: it is on). */
  readonly missing: string[]
  readonly #ncco: (callId: string, host: string) => VoicemailNcco
  readonly #pending: PendingVoicemails
  readonly #key: Buffer
  /** Calls whose answer webhook is still waiting on the model: a failure there is answered with the NCCO, not a transfer. */
  readonly #answering = new Set<string>()

  constructor (o: { missing: string[], key: Buffer, pending: PendingVoicemails, ncco: (callId: string, host: string) => VoicemailNcco }) {
    super()
    this.missing = o.missing
    this.#ncco = o.ncco
    this.#pending = o.pending
    this.#key = o.key
  }

  get available (): boolean { return this.missing.length === 0 }

  /** The [talk, record, talk] NCCO for this call; remembers the call until its recording arrives. */
  offer (callId: string, call: CallContext, reason: VoicemailReason, host: string): VoicemailNcco {
    this.#pending.add({ callId, direction: call.direction, from: call.from ?? '', to: call.to ?? '', reason, startedAt: new Date().toISOString(), at: Date.now() })
    return this.#ncco(callId, host)
  }

  /** The answer webhook handles this call's model failure itself until release(). */
  hold (callId: string): void { this.#answering.add(callId) }
  release (callId: string): void { this.#answering.delete(callId) }
  held (callId: string): boolean { return this.#answering.has(callId) }

  pending (callId: string): PendingVoicemail | undefined { return this.#pending.get(callId) }
  forget (callId: string): void { this.#pending.delete(callId) }
  tokenValid (callId: string, token: string): boolean { return recordingTokenValid(this.#key, callId, token) }
}

declare module 'fastify' {
  interface FastifyInstance {
    voicemail: VoicemailDesk
  }
}

const TOKEN_PURPOSE = 'voicemail-recording'

async function voicemailPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const log = fastify.log.child({ component: 'voicemail' })
  const key = deriveTokenKey(cfg.MEDIA_TOKEN_SECRET, cfg.OPENAI_API_KEY, TOKEN_PURPOSE)
  const machineId = cfg.FLY_MACHINE_ID
  const missing: string[] = []
  if (cfg.VOICEMAIL === 'on') {
    // Downloading the recording and moving a live call both need the application's key.
    if (fastify.vonage.voice === null) missing.push(...fastify.vonage.missing.filter(m => m !== 'SERVER_URL'))
    if (!fastify.callStore.enabled) missing.push('DATA_DIR or DATABASE_URL')
  } else {
    missing.push('VOICEMAIL=on')
  }
  if (cfg.VOICEMAIL === 'on' && missing.length > 0) log.warn({ missing }, `voicemail is off: set ${missing.join(', ')} so that callers the AI cannot answer can leave a message`)

  const pk = loadPrivateKey(cfg.VONAGE_PRIVATE_KEY, cfg.VONAGE_PRIVATE_KEY_PATH)
  const auth = missing.length === 0 && pk.ok ? new Auth({ applicationId: cfg.VONAGE_APPLICATION_ID, privateKey: pk.pem }) : null

  const desk = new VoicemailDesk({
    missing,
    key,
    pending: new PendingVoicemails(),
    ncco: (callId, host) => voicemailNcco({
      language: cfg.GREETING_LANGUAGE,
      // m= names this machine: the call's number waits here for its recording (Fly replays the event to it).
      eventUrl: `https://${host}/voicemail/recording?call=${encodeURIComponent(callId)}&t=${recordingToken(key, callId)}${machineId !== '' ? `&m=${encodeURIComponent(machineId)}` : ''}`,
      maxSeconds: cfg.VOICEMAIL_MAX_SECONDS,
      silenceSeconds: cfg.VOICEMAIL_SILENCE_SECONDS
    })
  })
  fastify.decorate('voicemail', desk)

  /** A model that fails once the call is up (or after the answer webhook stopped waiting): the live call is moved to voicemail. */
  fastify.bridge.onSession.add((session: CallSession) => {
    // The browser softphone is not a Vonage call: nothing to transfer.
    if (!desk.available || cfg.publicHost === '' || session.call.direction === 'softphone') return
    session.engine.once('failed', ({ cause }) => {
      if (session.ended || desk.held(session.id)) return
      const voice = fastify.vonage.voice
      if (voice === null) return
      const ncco = desk.offer(session.id, session.call, session.mediaAttached ? 'failed' : 'unavailable', cfg.publicHost)
      voice.transferCallWithNCCO(session.id, ncco as unknown as Parameters<typeof voice.transferCallWithNCCO>[1]).then(() => {
        log.info({ callId: session.id, cause }, 'the model failed: the call was moved to voicemail')
        session.notes.outcome = 'voicemail'
        session.end('upstream-failed')
      }, (err: unknown) => {
        desk.forget(session.id)
        log.error({ callId: session.id, cause, err: { message: (err as Error).message } }, 'the model failed and the call could not be moved to voicemail: apologising and ending it')
      })
    })
  })

  const webhook = async (body: RecordingEvent, callId: string): Promise<void> => {
    const p = desk.pending(callId)
    const db = await fastify.callStore.opened
    if (p === undefined && db !== null && await getVoicemail(db, callId) !== null) {
      // Already kept and told (a repeated event): the owner must not get the message twice.
      log.info({ callId }, 'recording event for a voicemail already stored: ignored')
      return
    }
    const stored = await receiveRecording({
      callId,
      event: body,
      pending: p,
      db,
      apiHost: cfg.VONAGE_API_HOST,
      bearer: async () => auth === null ? '' : await auth.createBearerHeader(),
      transcription: { ...transcriptionEndpoint(cfg), model: cfg.VOICEMAIL_TRANSCRIPTION_MODEL !== '' ? cfg.VOICEMAIL_TRANSCRIPTION_MODEL : cfg.OPENAI_TRANSCRIPTION_MODEL, language: cfg.TRANSCRIPTION_LANGUAGE },
      log
    })
    if (stored === null) return
    desk.forget(callId)
    log.info({ callId, from: maskNumber(stored.from), durationSec: stored.durationSec, transcribed: stored.transcript !== '' }, 'voicemail stored')
    desk.emit('stored', stored)
  }

  /** Before the signature is checked or remembered: the machine that sent the call to voicemail holds its number. */
  async function routeToHolder (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const named = (request.query as Record<string, unknown>).m
    const where = placement(typeof named === 'string' ? named : '', machineId, request.headers[FLY_REPLAY_SRC_HEADER] !== undefined)
    if (where.where !== 'replay') return
    return await reply.code(409).header(FLY_REPLAY_HEADER, flyReplayValue(where.instance))
      .send({ statusCode: 409, error: 'Conflict', message: `this voicemail is held by machine ${where.instance}` })
  }

  fastify.post('/voicemail/recording', { preValidation: routeToHolder, preHandler: fastify.verifyVonageWebhook }, async (request, reply) => {
    const q = request.query as Record<string, unknown>
    const callId = typeof q.call === 'string' ? q.call : ''
    const token = typeof q.t === 'string' ? q.t : ''
    if (callId === '' || !desk.tokenValid(callId, token)) {
      request.log.warn({ url: '/voicemail/recording' }, 'recording webhook refused: no valid per-call token')
      return await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'this recording URL was not issued for this call' })
    }
    if (!desk.available) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'voicemail is off on this server' })
    const body = (request.body ?? {}) as RecordingEvent
    // Vonage only needs to know we have it; the download and transcription take seconds.
    webhook(body, callId).catch((err: unknown) => log.error({ callId, err }, 'voicemail could not be stored'))
    return await reply.code(204).send()
  })
}

export default fp(voicemailPlugin, { name: 'voicemail', dependencies: ['config', 'vonage', 'webhook-auth', 'bridge', 'call-store'] })
