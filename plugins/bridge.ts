import fp from 'fastify-plugin'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { CallSession } from '../lib/call/session.js'
import type { CallStats } from '../lib/call/stats.js'
import { Pacer } from '../lib/call/pacer.js'
import { realtimeEndpoint } from '../lib/realtime/endpoint.js'
import { RealtimeEngine } from '../lib/realtime/realtime-engine.js'
import { callSessionSettings, sessionUpdate, type CallContext } from '../lib/realtime/session-update.js'
import { readWavPcm16 } from '../lib/audio/wav.js'
import { createResampler } from '../lib/audio/resampler.js'
import type { Rate } from '../lib/vonage/ncco.js'
import { resolveTurnProfile } from '../lib/realtime/turn-profiles.js'
import { Backchannels, parseWordList } from '../lib/call/backchannels.js'
import { ConfigError } from '../lib/config/schema.js'
import { createLiveEngine, liveRate } from '../lib/live/factory.js'
import type { SpeechEngine } from '../lib/realtime/engine.js'

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

/** The apology, at the rate the engine speaks (24 kHz Realtime, Vonage's for GPT-Live). */
function loadApology (wanted: Rate): Int16Array {
  // Works from source (tsx) and from dist/ alike.
  let file: Buffer
  try {
    file = readFileSync(APOLOGY)
  } catch {
    file = readFileSync(new URL('../../assets/apology-ja-24k.wav', import.meta.url))
  }
  const { rate, samples } = readWavPcm16(file)
  if (rate === wanted) return samples
  return createResampler(rate as Rate, wanted).process(samples).slice()
}

async function bridgePlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const endpoint = realtimeEndpoint(config)
  if (endpoint.provider === 'azure-preview') {
    fastify.log.warn('OPENAI_API_VERSION selects Azure OpenAI\'s preview Realtime endpoint, deprecated since 2026-04-30: remove it to use the GA /openai/v1 endpoint')
  }
  const live = config.OPENAI_ENGINE === 'live'
  // GPT-Live speaks at Vonage's rate (lib/live/), the Realtime API at 24 kHz.
  const apology = loadApology(live ? liveRate(config.VONAGE_AUDIO_RATE) : 24000)
  if (live) fastify.log.info({ model: config.OPENAI_LIVE_MODEL, delegate: config.OPENAI_LIVE_DELEGATE_MODEL }, 'speech engine: GPT-Live (docs/engines.md)')
  let turnProfile
  try {
    turnProfile = resolveTurnProfile(config.TURN_PROFILE, config.BARGE_IN_MIN_MS)
  } catch (err) {
    throw new ConfigError([(err as Error).message])
  }
  // The bridge decides what interrupts and when to answer (lib/call/turn-wiring.ts, docs/turn-taking.md).
  const turns = {
    profile: turnProfile,
    backchannels: new Backchannels(parseWordList(config.BACKCHANNEL_WORDS)),
    transcripts: config.OPENAI_TRANSCRIPTION_MODEL !== '',
    idleMs: config.IDLE_PROMPT_SECONDS * 1000
  }
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
      const engine: SpeechEngine = live
        ? createLiveEngine({
          config,
          persona: fastify.persona.text,
          tools: bridge.tools,
          call,
          beforeMessage: () => pacer.poll(),
          onClosed: ({ reason, seconds }) => log.info({ reason, seconds }, 'GPT-Live session closed')
        })
        : new RealtimeEngine({
          endpoint,
          beforeMessage: () => pacer.poll(),
          sessionUpdate: () => sessionUpdate(callSessionSettings(config, fastify.persona.text, bridge.tools), call)
        })
      const session = new CallSession({
        id,
        call,
        rate: config.VONAGE_AUDIO_RATE,
        // Both engines keep PLAYBACK_LEAD_MS (100 ms) queued at Vonage. GPT-Live streams in real time, so that lead is
        // all that covers unevenness in its stream: at 40 ms the bench's fake peer alone left late beats at 200 calls.
        leadMs: config.PLAYBACK_LEAD_MS,
        engine,
        pacer,
        log,
        apology,
        greetEarly: opts.greetEarly,
        mediaWaitMs: config.MEDIA_WAIT_SECONDS * 1000,
        maxCallMs: config.MAX_CALL_SECONDS * 1000,
        // GPT-Live takes turns itself: no turn-taking decider and no barge-in for it (docs/engines.md).
        turns: live ? undefined : turns
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
    }
  }
  fastify.decorate('bridge', bridge)

  fastify.addHook('onClose', async () => {
    for (const s of sessions.values()) s.end('shutdown')
  })
}

export default fp(bridgePlugin, { name: 'bridge', dependencies: ['config', 'external', 'calls'] })
