/**
 * The GPT-Live client events this bridge sends, typed against the official
 * `openai` package (resources/live/live.d.ts). Types only: the server never
 * loads the package at run time.
 */
import type {
  FunctionTool,
  InstructionsAppendEvent,
  ResponseCreateEvent,
  ResponseItemCreateEvent,
  SessionCloseEvent,
  SessionStartEvent
} from 'openai/resources/live/live'
import { describeCall, type CallContext } from '../realtime/session-update.js'

export type LiveClientEvent = SessionStartEvent | InstructionsAppendEvent | ResponseItemCreateEvent | ResponseCreateEvent | SessionCloseEvent

/** GPT-Live's PCM rates; Vonage's own (16 kHz by default) goes straight through. */
export type LiveRate = 16000 | 24000

export interface LiveSessionSettings {
  model: string
  persona: string
  voice: string
  rate: LiveRate
  delegateModel: string
  /** The same function tools the Realtime engine offers (end_call, transfer_call, TOOLS_FILE webhooks). */
  tools: unknown[]
}

/**
 * A phone line speaks first. The Realtime engine is asked for the greeting
 * with response.create; GPT-Live takes no such request, so the frontend
 * instructions say it.
 */
export const PHONE_LINE_NOTE = '\n\n# 電話について / On the phone\n- 通話がつながったら、あなたから先にあいさつしてください。(When the call connects, greet the caller first.)\n' +
  '- 通話を終えるとき、転送するときは、必ずツールに任せてください。(To hang up or transfer, always delegate it to the tools.)'

/** Keeps only the fields of a function tool GPT-Live's delegation takes. */
function functionTool (t: unknown): FunctionTool | null {
  if (t === null || typeof t !== 'object') return null
  const o = t as Record<string, unknown>
  if (o.type !== 'function' || typeof o.name !== 'string') return null
  const tool: FunctionTool = { type: 'function', name: o.name }
  if (typeof o.description === 'string') tool.description = o.description
  if (o.parameters !== null && typeof o.parameters === 'object') tool.parameters = o.parameters as Record<string, unknown>
  return tool
}

/** The first event of every session: model, persona and call facts, Vonage's PCM rate, the voice, the tools by Responses delegation. */
export function sessionStart (s: LiveSessionSettings, call: CallContext): SessionStartEvent {
  const instructions = s.persona + describeCall(call)
  const tools = s.tools.map(functionTool).filter((t): t is FunctionTool => t !== null)
  return {
    type: 'session.start',
    event_id: 'start',
    session: {
      model: s.model,
      instructions: instructions + PHONE_LINE_NOTE,
      audio: { format: { type: 'audio/pcm', rate: s.rate }, output: { voice: s.voice } },
      delegation: {
        type: 'responses',
        responses: { model: s.delegateModel, instructions, tools, tool_choice: 'auto' }
      }
    }
  }
}

/** The bytes every append starts with: its base64 follows, then APPEND_TAIL. */
export const APPEND_HEAD = Buffer.from('{"type":"session.input_audio.append","audio":"')
export const APPEND_TAIL = Buffer.from('"}')

export function functionOutput (callId: string, output: string): ResponseItemCreateEvent {
  return { type: 'response.item.create', item: { type: 'function_call_output', call_id: callId, output } }
}

export function responseCreate (eventId: string): ResponseCreateEvent {
  return { type: 'response.create', event_id: eventId }
}

/** Japanese runs near one token a character: this stays under the 500-token limit of an append. */
const MAX_APPEND_CHARS = 400

/** Standing context for the model (a key press, "say goodbye now"), cut short of the append's 500-token limit. */
export function instructionsAppend (content: string, eventId: string): InstructionsAppendEvent {
  return { type: 'session.instructions.append', content: content.slice(0, MAX_APPEND_CHARS), delegation_id: null, event_id: eventId }
}

export function sessionClose (): SessionCloseEvent {
  return { type: 'session.close', event_id: 'close' }
}
