/**
 * What a call session needs of a speech-to-speech engine. The session talks
 * to this, never to Realtime events, so that a second engine (OpenAI's
 * GPT-Live in lib/live/: Vonage's PCM, turns decided by the engine, no
 * truncate) sits beside the Realtime one (OPENAI_ENGINE).
 *
 * This is the contract between lib/call and lib/realtime: add to it, and
 * change both sides together.
 */
import type { EventEmitter } from 'node:events'

/** PCM rates an engine may speak: 16-bit little-endian mono. */
export type EngineRate = 16000 | 24000

export interface EngineUsage {
  inputTokens: number
  outputTokens: number
  inputAudioTokens: number
  inputTextTokens: number
  inputCachedTokens: number
  outputAudioTokens: number
  outputTextTokens: number
  /** Cached input split by modality, when the engine reports it (0 otherwise). */
  inputCachedAudioTokens: number
  inputCachedTextTokens: number
}

/** Why an engine stopped: each cause names what the operator should check. */
export type EngineFailure =
  | 'unreachable' // DNS, refused, TLS: check OPENAI_BASE_URL / network
  | 'unauthorized' // 401/403 at the handshake: check OPENAI_API_KEY
  | 'handshake' // any other refused handshake (404 unknown model, 429, 5xx)
  | 'config-refused' // the engine answered our session configuration with an error
  | 'closed' // the engine closed a live session
  | 'stalled' // nothing from the engine for too long while it owed us a response
  | 'too-large' // a message over the size limit

export interface EngineEventMap {
  /** The engine accepted the session configuration (Realtime: session.updated). */
  ready: []
  /** The caller started speaking (engine-side VAD). */
  'speech-started': [{ audioStartMs: number, itemId: string, eventId: string }]
  /** The caller's turn was committed as `itemId` (its transcript follows). */
  'caller-item': [{ itemId: string }]
  /** The caller stopped speaking; server VAD commits the turn as `itemId` ('' when the engine does not say). */
  'speech-stopped': [{ audioEndMs: number, itemId: string }]
  /** A response (the assistant's turn) began. */
  'response-started': [{ responseId: string }]
  /** Assistant audio at `outputRate`, base64, as the engine sent it (bytes or string). */
  audio: [{ responseId: string, itemId: string, base64: Buffer | string, message: Buffer | null }]
  'audio-done': [{ itemId: string }]
  /** An assistant message of `responseId` took its place in the conversation. */
  'assistant-item': [{ responseId: string, itemId: string }]
  /** `reason`: why it stopped early ('turn_detected', …), '' otherwise; `spoke`: it held an assistant message. */
  'response-done': [{ responseId: string, status: string, reason: string, spoke: boolean, usage: EngineUsage | null }]
  /** A startResponse() the engine refused; `busy`: another response was in progress. */
  'response-refused': [{ busy: boolean }]
  /** Words as they stream in (the final text follows in *-transcript). */
  'transcript-delta': [{ role: 'caller' | 'assistant', itemId: string, text: string }]
  /** The caller's words for one turn, once final. */
  'caller-transcript': [{ itemId: string, text: string }]
  /** The assistant's words for one item, once final. */
  'assistant-transcript': [{ itemId: string, text: string }]
  'tool-call': [{ callId: string, name: string, arguments: string, responseId: string }]
  /** Cumulative seconds of session the engine bills by (GPT-Live's session.usage.updated): a total, not an increment. */
  'session-usage': [{ seconds: number }]
  /** A non-fatal error the engine reported; the session goes on. */
  warning: [{ type: string, code: string, message: string }]
  /** The engine is gone; the session apologises and ends. */
  failed: [{ cause: EngineFailure, detail: string }]
}

export interface SpeechEngine extends EventEmitter<EngineEventMap> {
  readonly inputRate: EngineRate
  readonly outputRate: EngineRate
  /**
   * False for engines that cannot cut an item at what the caller heard and
   * decide turns themselves (GPT-Live): the session then runs no barge-in and
   * no turn-taking of its own, and keeps Vonage's buffer near zero instead.
   */
  readonly canTruncate: boolean
  /** Opens the connection and sends the session configuration. */
  connect: () => void
  /** Caller audio at `inputRate` (16-bit LE mono). */
  appendAudio: (pcm: Uint8Array) => void
  /**
   * Asks the engine to speak now (the greeting, a check-in), optionally with
   * one-off instructions. `noTools`: the model may only speak, not call a
   * tool (a filler while a tool runs).
   */
  startResponse: (opts?: { instructions?: string, noTools?: boolean }) => boolean
  cancelResponse: () => void
  /** The caller heard `heardMs` of `itemId` and no more. */
  truncate: (itemId: string, heardMs: number) => void
  /** Removes the caller's committed turn `itemId` from the conversation (a backchannel or noise), so it is never answered. */
  discardInput: (itemId: string) => void
  /** A user message in text (a key press, a note from the bridge). */
  addUserText: (text: string) => boolean
  /** A tool's result; `respond` asks the engine to answer with it. */
  sendToolResult: (callId: string, output: string, respond: boolean) => boolean
  /**
   * The pacer's beat, after the caller audio of the beat went up: an engine
   * whose input clock must keep running (GPT-Live) fills a gap in the
   * caller's frames with silence here. Only called while media is attached.
   */
  beat: (nowMs: number) => void
  /** Closes the connection (idempotent). */
  close: () => void
}
