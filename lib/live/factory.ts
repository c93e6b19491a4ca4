import type { AppConfig } from '../config/schema.js'
import type { CallContext } from '../realtime/session-update.js'
import type { EngineRate } from '../realtime/engine.js'
import type { Rate } from '../audio/resampler.js'
import { LiveEngine } from './live-engine.js'
import { liveEndpoint } from './endpoint.js'
import { sessionStart, type LiveSessionSettings } from './client-events.js'

/** GPT-Live takes 16 or 24 kHz PCM: Vonage's rate itself, or 16 kHz for an 8 kHz line (then resampled). */
export function liveRate (vonageRate: Rate): EngineRate {
  return vonageRate === 24000 ? 24000 : 16000
}

/** A call's session.start settings from the app's: what the bridge sends and the doctor checks. */
export function liveSessionSettings (c: AppConfig, persona: string, tools: unknown[]): LiveSessionSettings {
  return {
    model: c.OPENAI_LIVE_MODEL,
    persona,
    voice: c.OPENAI_VOICE,
    rate: liveRate(c.VONAGE_AUDIO_RATE),
    delegateModel: c.OPENAI_LIVE_DELEGATE_MODEL,
    tools
  }
}

export interface LiveEngineFor {
  config: AppConfig
  persona: string
  tools: unknown[]
  call: CallContext
  beforeMessage?: () => void
  onClosed?: (e: { reason: string, seconds: number | null }) => void
}

/** The GPT-Live engine of one call (OPENAI_ENGINE=live). */
export function createLiveEngine (o: LiveEngineFor): LiveEngine {
  return new LiveEngine({
    endpoint: liveEndpoint(o.config),
    rate: liveRate(o.config.VONAGE_AUDIO_RATE),
    beforeMessage: o.beforeMessage,
    onClosed: o.onClosed,
    sessionStart: () => sessionStart(liveSessionSettings(o.config, o.persona, o.tools), o.call)
  })
}
