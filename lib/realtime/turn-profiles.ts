/**
 * Turn profiles: how long the engine waits before a caller's turn is over,
 * how loud speech must be, and how much speech over the assistant counts as
 * an interruption. docs/turn-taking.md explains and measures the numbers.
 */
export type TurnProfileName = 'standard' | 'patient'
export type TurnDetectionType = 'server_vad' | 'semantic_vad'
export type Eagerness = 'low' | 'medium' | 'high' | 'auto'

export interface TurnProfile {
  readonly name: TurnProfileName
  /** server_vad: activation threshold 0..1 (higher = louder speech needed). */
  readonly threshold: number
  /** server_vad: audio kept before detected speech. */
  readonly prefixPaddingMs: number
  /** server_vad: silence that ends the caller's turn. */
  readonly silenceDurationMs: number
  /** semantic_vad: how soon the model decides the caller has finished. */
  readonly eagerness: Eagerness
  /** Voiced speech over the assistant that makes an interruption (less = a backchannel). */
  readonly bargeInMinMs: number
  /** Voiced speech that is answered at once when the assistant is silent (less waits for its transcript). */
  readonly minUtteranceMs: number
  /** How long a short sound waits for its transcript before it is taken as a backchannel or noise. */
  readonly transcriptWaitMs: number
  /** A 20 ms frame at or above this level (dBFS) is voiced... */
  readonly voicedDbfs: number
  /** ...and this far above the line's noise floor. */
  readonly voicedOverFloorDb: number
}

export const TURN_PROFILES: Readonly<Record<TurnProfileName, TurnProfile>> = {
  // OpenAI's server_vad defaults (0.5 / 300 / 500), which the project shipped with.
  // 400 ms of voiced sound holds 「はい」「ええ」「うん」 (150–350 ms), and stops the
  // assistant 0.4 s into a real interruption (docs/turn-taking.md, measured).
  standard: {
    name: 'standard',
    threshold: 0.5,
    prefixPaddingMs: 300,
    silenceDurationMs: 500,
    eagerness: 'auto',
    bargeInMinMs: 400,
    minUtteranceMs: 200,
    transcriptWaitMs: 1500,
    voicedDbfs: -45,
    voicedOverFloorDb: 12
  },
  // Older callers speak slower, pause longer between phrases, use speakerphones and
  // say longer aizuchi (「はいはい」「そうですねえ」): a longer silence before their
  // turn ends, a higher threshold against room noise, and more speech before the
  // assistant gives way.
  patient: {
    name: 'patient',
    threshold: 0.6,
    prefixPaddingMs: 300,
    silenceDurationMs: 900,
    eagerness: 'low',
    bargeInMinMs: 600,
    minUtteranceMs: 250,
    transcriptWaitMs: 2000,
    voicedDbfs: -45,
    voicedOverFloorDb: 12
  }
}

export const BARGE_IN_MIN_MS_MIN = 20
export const BARGE_IN_MIN_MS_MAX = 3000

/** The profile with BARGE_IN_MIN_MS applied (0 keeps the profile's own). */
export function resolveTurnProfile (name: TurnProfileName, bargeInMinMs = 0): TurnProfile {
  const p = TURN_PROFILES[name]
  if (p === undefined) throw new Error(`TURN_PROFILE must be standard or patient, not ${String(name)}`)
  if (bargeInMinMs === 0) return p
  if (!Number.isInteger(bargeInMinMs) || bargeInMinMs < BARGE_IN_MIN_MS_MIN || bargeInMinMs > BARGE_IN_MIN_MS_MAX) {
    throw new Error(`BARGE_IN_MIN_MS must be 0 (the profile's) or ${BARGE_IN_MIN_MS_MIN}-${BARGE_IN_MIN_MS_MAX} ms, not ${bargeInMinMs}`)
  }
  return { ...p, bargeInMinMs }
}

/**
 * `audio.input.turn_detection` of the GA session.update. With `bridgeDecides`
 * the engine still reports speech start/stop (and commits the turn) but
 * neither cancels the answer at the first sound nor answers on its own: the
 * bridge's TurnTaker decides both. Without it the engine does both itself,
 * as before the bridge could decide.
 */
export function turnDetection (type: TurnDetectionType, p: TurnProfile, bridgeDecides: boolean): Record<string, unknown> {
  const auto = !bridgeDecides
  if (type === 'semantic_vad') return { type, eagerness: p.eagerness, create_response: auto, interrupt_response: auto }
  return { type, threshold: p.threshold, prefix_padding_ms: p.prefixPaddingMs, silence_duration_ms: p.silenceDurationMs, create_response: auto, interrupt_response: auto }
}
