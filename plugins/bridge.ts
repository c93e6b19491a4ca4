import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { CallSession } from '../lib/call/session.js'
import type { CallStats } from '../lib/call/stats.js'
import { Pacer } from '../lib/call/pacer.js'
import { realtimeEndpoint } from '../lib/realtime/endpoint.js'
import { RealtimeEngine } from '../lib/realtime/realtime-engine.js'
import { sessionUpdate, type CallContext } from '../lib/realtime/session-update.js'
import { deriveTokenKey, signToken, verifyToken, type TokenPayload, type VerifyResult } from '../lib/security/tokens.js'
import { readWavPcm16 } from '../lib/audio/wav.js'
import { createResampler } from '../lib/audio/resampler.js'
import type { Rate } from '../lib/vonage/ncco.js'

/** What a media URL token says: which call, and enough about it to rebuild the session on any instance. */
export interface MediaToken extends TokenPayload {
  /** Call (leg) uuid from the answer webhook, or a softphone call id. */
  c: string
  d: CallContext['direction']
  f?: string
  t?: string
  x?: Record<string, unknown>
}

export interface Bridge {
  pacer: Pacer
  sessions: Map<string, CallSession>
  /**
   * Opens the model's socket for a call and sends session.update; null when
   * the call is not admitted. The greeting is asked for at once only with
   * `greetEarly` (the answer webhook's signature was verified), otherwise
   * once the media socket attaches: an unproven webhook costs no speech.
   */
  startCall: (id: string, call: CallContext, opts: { greetEarly: boolean }) => CallSession | null
  endCall: (id: string, reason: 'caller-hangup' | 'ended') => void
  issueToken: (id: string, call: CallContext) => string
  verifyToken: (token: string) => VerifyResult<MediaToken>
  /** Extensions (tools, transcripts, softphone) hook every new session here. */
  onSession: Set<(session: CallSession) => void>
  /** The model's tools, merged into every session.update. */
  tools: unknown[]
}

declare module 'fastify' {
  interface FastifyInstance {
    bridge: Bridge
  }
}

const APOLOGY = new URL('../assets/apology-ja-24k.wav', import.meta.url)

function loadApology (): Int16Array {
  // Works from source (tsx) and from dist/ alike.
  let file: Buffer
  try {
    file = readFileSync(APOLOGY)
  } catch {
    file = readFileSync(new URL('../../assets/apology-ja-24k.wav', import.meta.url))
  }
  const { rate, samples } = readWavPcm16(file)
  if (rate === 24000) return samples
  return createResampler(rate as Rate, 24000).process(samples).slice()
}

async function bridgePlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  await fastify.register(websocket, {
    // Oversized messages are ours to count and drop; ws would close the call over them.
    options: { maxPayload: 1024 * 1024, perMessageDeflate: false },
    // A broken frame from a caller is their problem, not ours: one warn line, no stack (a token holder must not flood the logs).
    errorHandler (err: Error & { code?: string }, socket, request) {
      request.log.warn({ code: err.code, reason: err.message.slice(0, 200) }, 'media socket error: closing it')
      socket.terminate()
    }
  })

  const endpoint = realtimeEndpoint(config)
  if (endpoint.provider === 'azure-preview') {
    fastify.log.warn('OPENAI_API_VERSION selects Azure OpenAI\'s preview Realtime endpoint, deprecated since 2026-04-30: remove it to use the GA /openai/v1 endpoint')
  }
  const tokenKey = deriveTokenKey(config.MEDIA_TOKEN_SECRET, config.OPENAI_API_KEY, 'media')
  const apology = loadApology()
  const pacer = new Pacer()
  const sessions = new Map<string, CallSession>()
  const onSession = new Set<(session: CallSession) => void>()

  const bridge: Bridge = {
    pacer,
    sessions,
    onSession,
    tools: [],
    startCall (id, call, opts) {
      const existing = sessions.get(id)
      if (existing !== undefined && !existing.ended) return existing
      if (fastify.calls.admission() !== 'ok') return null
      const log = fastify.log.child({ callId: id })
      const engine = new RealtimeEngine({
        endpoint,
        beforeMessage: () => pacer.poll(),
        sessionUpdate: () => sessionUpdate({
          persona: fastify.persona.text,
          voice: config.OPENAI_VOICE,
          turnDetection: config.OPENAI_TURN_DETECTION as 'server_vad' | 'semantic_vad',
          transcriptionModel: config.OPENAI_TRANSCRIPTION_MODEL,
          transcriptionLanguage: config.TRANSCRIPTION_LANGUAGE,
          noiseReduction: config.OPENAI_NOISE_REDUCTION as 'near_field' | 'far_field' | 'off',
          tools: bridge.tools
        }, call)
      })
      const session = new CallSession({
        id,
        call,
        rate: config.VONAGE_AUDIO_RATE as Rate,
        leadMs: config.PLAYBACK_LEAD_MS,
        engine,
        pacer,
        log,
        apology,
        greetEarly: opts.greetEarly,
        mediaWaitMs: config.MEDIA_WAIT_SECONDS * 1000,
        maxCallMs: config.MAX_CALL_SECONDS * 1000
      })
      sessions.set(id, session)
      fastify.calls.add(session)
      session.once('end', (stats: CallStats) => {
        if (sessions.get(id) === session) sessions.delete(id)
        fastify.calls.delete(id)
        log.info({ call: stats }, 'call ended')
      })
      for (const hook of onSession) hook(session)
      return session
    },
    endCall (id, reason) {
      sessions.get(id)?.end(reason)
    },
    issueToken (id, call) {
      const payload: MediaToken = { exp: Math.floor(Date.now() / 1000) + config.MEDIA_TOKEN_TTL_SECONDS, c: id, d: call.direction }
      if (call.from !== undefined) payload.f = call.from
      if (call.to !== undefined) payload.t = call.to
      if (call.extra !== undefined) payload.x = call.extra
      return signToken(payload, tokenKey)
    },
    verifyToken: (token) => verifyToken<MediaToken>(token, tokenKey)
  }
  fastify.decorate('bridge', bridge)

  fastify.addHook('onClose', async () => {
    for (const s of sessions.values()) s.end('shutdown')
  })
}

export default fp(bridgePlugin, { name: 'bridge', dependencies: ['config', 'calls'] })
