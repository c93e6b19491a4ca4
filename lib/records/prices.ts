import type { Prices } from './record.js'

/**
 * List prices per model, USD, for the call record's cost estimate, as OpenAI's
 * model pages gave them on 2026-11-30 (developers.openai.com/api/docs/models/…).
 * Realtime models: per 1M tokens. `cachedInput` is one price for audio and
 * text alike (the record does not price them apart); where a page lists two,
 * the audio one is used, as a call's cache is mostly audio.
 */
export const REALTIME_PRICES: Readonly<Record<string, Prices>> = {
  'gpt-realtime-2.1': { audioInput: 32, audioOutput: 64, textInput: 4, textOutput: 24, cachedInput: 0.4 },
  'gpt-realtime-2.1-mini': { audioInput: 10, audioOutput: 20, textInput: 0.6, textOutput: 2.4, cachedInput: 0.3 },
  'gpt-realtime-2': { audioInput: 32, audioOutput: 64, textInput: 4, textOutput: 24, cachedInput: 0.4 },
  'gpt-realtime-1.5': { audioInput: 32, audioOutput: 64, textInput: 4, textOutput: 16, cachedInput: 0.4 },
  'gpt-realtime': { audioInput: 32, audioOutput: 64, textInput: 4, textOutput: 16, cachedInput: 0.4 },
  'gpt-realtime-2025-08-28': { audioInput: 32, audioOutput: 64, textInput: 4, textOutput: 16, cachedInput: 0.4 },
  'gpt-realtime-mini': { audioInput: 10, audioOutput: 20, textInput: 0.6, textOutput: 2.4, cachedInput: 0.3 }
}

/** Transcription models: USD per minute of caller audio. */
export const TRANSCRIPTION_PRICES_PER_MINUTE: Readonly<Record<string, number>> = {
  'gpt-transcribe': 0.0045,
  'gpt-live-transcribe': 0.017,
  'gpt-realtime-whisper': 0.017,
  // Shut down on 2027-02-26 (OpenAI's deprecations page); estimated per-minute list prices.
  'gpt-4o-transcribe': 0.006,
  'gpt-4o-mini-transcribe': 0.003,
  'whisper-1': 0.006
}

/** GPT-Live models: USD per minute of session, billed per second (OpenAI's gpt-live-1 model page). */
export const LIVE_PRICES_PER_MINUTE: Readonly<Record<string, number>> = {
  'gpt-live-1': 0.05
}

/**
 * Models GPT-Live delegates tools to (Responses): USD per 1M text tokens, list
 * prices as published for each model in 2026.
 */
export const DELEGATE_PRICES: Readonly<Record<string, { input: number, output: number, cachedInput: number }>> = {
  'gpt-5.4-mini': { input: 0.75, output: 4.5, cachedInput: 0.075 },
  'gpt-5.4-nano': { input: 0.2, output: 1.25, cachedInput: 0.02 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 }
}
const FALLBACK_LIVE = 'gpt-live-1'
const FALLBACK_DELEGATE = 'gpt-5.4-mini'
/**
 * Text models (the after-call summary, SUMMARY_MODEL): USD per 1M tokens, from
 * OpenAI's model pages (developers.openai.com/api/docs/models/…, read 2026-12-03).
 */
export const TEXT_PRICES: Readonly<Record<string, { input: number, cachedInput: number, output: number }>> = {
  'gpt-5.6-luna': { input: 0.2, cachedInput: 0.02, output: 1.2 },
  'gpt-5.4-nano': { input: 0.2, cachedInput: 0.02, output: 1.25 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 }
}
const FALLBACK_TEXT = 'gpt-5.6-luna'

/** A summary's estimated cost; models not in the table at the default model's prices. */
export function textCost (model: string, u: { inputTokens: number, cachedTokens: number, outputTokens: number }): number {
  const p = TEXT_PRICES[model] ?? TEXT_PRICES[FALLBACK_TEXT]!
  const cached = Math.min(u.cachedTokens, u.inputTokens)
  const usd = ((u.inputTokens - cached) * p.input + cached * p.cachedInput + u.outputTokens * p.output) / 1e6
  return Math.round(usd * 1e6) / 1e6
}

/** Models we have no price for are estimated at the default model's prices. */
const FALLBACK_MODEL = 'gpt-realtime-2.1'
const FALLBACK_TRANSCRIPTION = 'gpt-transcribe'

export interface PriceSettings {
  OPENAI_MODEL: string
  OPENAI_TRANSCRIPTION_MODEL: string
  /** 0 (the default) or unset = the table's price for the model. */
  PRICE_AUDIO_INPUT_PER_1M?: number
  PRICE_AUDIO_OUTPUT_PER_1M?: number
  PRICE_TEXT_INPUT_PER_1M?: number
  PRICE_TEXT_OUTPUT_PER_1M?: number
  PRICE_CACHED_INPUT_PER_1M?: number
  PRICE_TRANSCRIPTION_PER_MINUTE?: number
  /** The engine (lib/live/settings.ts); 'live' prices the session per minute plus the delegate's tokens. */
  OPENAI_ENGINE?: 'realtime' | 'live'
  OPENAI_LIVE_MODEL?: string
  OPENAI_LIVE_DELEGATE_MODEL?: string
  PRICE_LIVE_PER_MINUTE?: number
}

export interface CallPrices {
  tokens: Prices
  /** null when no transcription model is set. */
  transcription: { model: string, perMinute: number } | null
  /** False when the model is not in the table and no PRICE_* setting covers it. */
  known: boolean
}

/** The prices of the configured models, each overridden by its PRICE_* setting when that is above 0. */
export function pricesFor (s: PriceSettings): CallPrices {
  if (s.OPENAI_ENGINE === 'live') return livePrices(s)
  const listed = REALTIME_PRICES[s.OPENAI_MODEL]
  const base = listed ?? REALTIME_PRICES[FALLBACK_MODEL]!
  const pick = (v: number | undefined, d: number): number => typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d
  const tokens: Prices = {
    audioInput: pick(s.PRICE_AUDIO_INPUT_PER_1M, base.audioInput),
    audioOutput: pick(s.PRICE_AUDIO_OUTPUT_PER_1M, base.audioOutput),
    textInput: pick(s.PRICE_TEXT_INPUT_PER_1M, base.textInput),
    textOutput: pick(s.PRICE_TEXT_OUTPUT_PER_1M, base.textOutput),
    cachedInput: pick(s.PRICE_CACHED_INPUT_PER_1M, base.cachedInput)
  }
  const model = s.OPENAI_TRANSCRIPTION_MODEL
  const transcription = model === ''
    ? null
    : { model, perMinute: pick(s.PRICE_TRANSCRIPTION_PER_MINUTE, TRANSCRIPTION_PRICES_PER_MINUTE[model] ?? TRANSCRIPTION_PRICES_PER_MINUTE[FALLBACK_TRANSCRIPTION]!) }
  return { tokens, transcription, known: listed !== undefined }
}

const pick = (v: number | undefined, d: number): number => typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d

/**
 * GPT-Live: the session per minute (PRICE_LIVE_PER_MINUTE overrides it) plus
 * the delegate model's text tokens (PRICE_TEXT_*_PER_1M override those); no
 * audio tokens and no separate transcription (the session transcribes itself).
 */
function livePrices (s: PriceSettings): CallPrices {
  const model = s.OPENAI_LIVE_MODEL ?? FALLBACK_LIVE
  const delegate = s.OPENAI_LIVE_DELEGATE_MODEL ?? FALLBACK_DELEGATE
  const perMinute = LIVE_PRICES_PER_MINUTE[model]
  const tokens = DELEGATE_PRICES[delegate]
  const base = tokens ?? DELEGATE_PRICES[FALLBACK_DELEGATE]!
  return {
    tokens: {
      audioInput: 0,
      audioOutput: 0,
      textInput: pick(s.PRICE_TEXT_INPUT_PER_1M, base.input),
      textOutput: pick(s.PRICE_TEXT_OUTPUT_PER_1M, base.output),
      cachedInput: pick(s.PRICE_CACHED_INPUT_PER_1M, base.cachedInput),
      sessionPerMinute: pick(s.PRICE_LIVE_PER_MINUTE, perMinute ?? LIVE_PRICES_PER_MINUTE[FALLBACK_LIVE]!)
    },
    transcription: null,
    known: (perMinute !== undefined || pick(s.PRICE_LIVE_PER_MINUTE, 0) > 0) && tokens !== undefined
  }
}
