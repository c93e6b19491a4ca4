import { maskNumber } from '../log/logger.js'
import { TURN_PROFILES, resolveTurnProfile, turnDetection as turnDetectionFor, type TurnProfile } from './turn-profiles.js'
import type { AppConfig } from '../config/schema.js'
import type { SessionUpdateEvent } from './client-events.js'

/** What the model is told about the call it is on. */
export interface CallContext {
  direction: 'inbound' | 'outbound' | 'softphone'
  from?: string
  to?: string
  /** Caller-supplied context of an outbound call (POST /connect `context`). */
  extra?: Record<string, unknown>
  /** Lines the bridge adds to the model's instructions for this call (e.g. business hours, lib/hours). */
  notes?: string[]
}

/** An outbound call: the model placed it, so it does not thank the other party for calling. */
export const OUTBOUND_INSTRUCTIONS = '- こちらから相手に電話をかけています。相手が出たら、まず名乗ってから用件を簡潔に伝えてください。「お電話ありがとうございます」とは言わないでください。 / ' +
  'We placed this call: the other party picked up. Introduce yourself and say why you are calling; do not thank them for calling.'

export interface SessionSettings {
  persona: string
  voice: string
  turnDetection: 'server_vad' | 'semantic_vad'
  transcriptionModel: string
  transcriptionLanguage: string
  noiseReduction: 'near_field' | 'far_field' | 'off'
  tools?: unknown[]
  /** TURN_PROFILE with BARGE_IN_MIN_MS applied (default: standard). */
  turnProfile?: TurnProfile
  /** The bridge's TurnTaker decides interruptions and answers: the engine does neither on its own. */
  bridgeDecides?: boolean
  /** session.reasoning.effort of reasoning-capable models (gpt-realtime-2 family); '' or unset = not sent. */
  reasoningEffort?: string
}

/**
 * A call's session settings from the app's: what plugins/bridge.ts sends and
 * the doctor checks (lib/doctor/session.ts), built in one place so they agree.
 * The bridge decides turns (lib/call/turn-wiring.ts). Throws on a
 * BARGE_IN_MIN_MS the profile cannot take.
 */
export function callSessionSettings (c: AppConfig, persona: string, tools: unknown[]): SessionSettings {
  return {
    persona,
    voice: c.OPENAI_VOICE,
    turnDetection: c.OPENAI_TURN_DETECTION,
    transcriptionModel: c.OPENAI_TRANSCRIPTION_MODEL,
    transcriptionLanguage: c.TRANSCRIPTION_LANGUAGE,
    noiseReduction: c.OPENAI_NOISE_REDUCTION,
    tools,
    turnProfile: resolveTurnProfile(c.TURN_PROFILE, c.BARGE_IN_MIN_MS),
    bridgeDecides: true,
    reasoningEffort: c.OPENAI_REASONING_EFFORT
  }
}

/** Call facts appended to the persona so the model can use them, without phone numbers in full. */
export function describeCall (c: CallContext): string {
  const lines = ['', '# この通話について / About this call']
  const dir = { inbound: '着信（相手からの電話）/ inbound', outbound: '発信（こちらからの電話）/ outbound', softphone: 'ブラウザのテスト通話 / browser test call' }[c.direction]
  lines.push(`- 種類 / direction: ${dir}`)
  // On our outbound calls `from` is our own number and `to` the person we called.
  const outbound = c.direction === 'outbound'
  if (c.from !== undefined && c.from !== '') lines.push(`- ${outbound ? 'こちらの番号 / our number' : '発信者番号 / caller'}: 末尾 ${maskNumber(c.from).slice(-4)}`)
  if (c.to !== undefined && c.to !== '') lines.push(`- ${outbound ? '相手の番号 / the other party' : '着信番号 / called'}: 末尾 ${maskNumber(c.to).slice(-4)}`)
  if (c.direction === 'outbound') lines.push(OUTBOUND_INSTRUCTIONS)
  if (c.extra !== undefined && Object.keys(c.extra).length > 0) lines.push(`- ${c.direction === 'outbound' ? 'この電話の用件' : '用件などの情報'} / context: ${JSON.stringify(c.extra)}`)
  for (const note of c.notes ?? []) lines.push(note)
  return lines.join('\n')
}

/**
 * Models that take the `languages` list of hints instead of the legacy `language`
 * (official schema, AudioTranscription.languages: "Supported by gpt-transcribe
 * and gpt-live-transcribe"); dated snapshots share their model's name as prefix.
 */
const LANGUAGES_MODELS = ['gpt-transcribe', 'gpt-live-transcribe']

/** `audio.input.transcription` for the model: `languages: [lang]` on the new models, `language` on the older ones. */
export function transcription (model: string, language: string): Record<string, unknown> {
  const listsLanguages = LANGUAGES_MODELS.some(m => model === m || model.startsWith(`${m}-`))
  return listsLanguages ? { model, languages: [language] } : { model, language }
}

/** The GA `session.update` for a phone call: 24 kHz PCM both ways, VAD, transcription. */
export function sessionUpdate (s: SessionSettings, call: CallContext): SessionUpdateEvent {
  const turnDetection = turnDetectionFor(s.turnDetection, s.turnProfile ?? TURN_PROFILES.standard, s.bridgeDecides === true)
  const input: Record<string, unknown> = {
    format: { type: 'audio/pcm', rate: 24000 },
    turn_detection: turnDetection
  }
  // Off is the API's default (null); the official schema types the field as an object only, so off leaves it out.
  if (s.noiseReduction !== 'off') input.noise_reduction = { type: s.noiseReduction }
  if (s.transcriptionModel !== '') input.transcription = transcription(s.transcriptionModel, s.transcriptionLanguage)
  const session: Record<string, unknown> = {
    type: 'realtime',
    instructions: s.persona + describeCall(call),
    output_modalities: ['audio'],
    audio: {
      input,
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: s.voice }
    }
  }
  if (s.reasoningEffort !== undefined && s.reasoningEffort !== '') session.reasoning = { effort: s.reasoningEffort }
  if (s.tools !== undefined && s.tools.length > 0) {
    session.tools = s.tools
    session.tool_choice = 'auto'
  }
  return { type: 'session.update', session }
}
