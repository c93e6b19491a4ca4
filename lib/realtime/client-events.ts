/**
 * The GA client events this bridge sends, narrowed from the official schemas
 * (test/fixtures/openai-realtime/realtime-schemas.json). Every builder's
 * output is validated against those schemas by
 * test/unit/realtime/events-schema.test.ts.
 */
export interface SessionUpdateEvent { type: 'session.update', session: Record<string, unknown> }
export interface AudioAppendEvent { type: 'input_audio_buffer.append', audio: string }
export interface ResponseCreateEvent {
  type: 'response.create'
  event_id: string
  response?: { instructions?: string, tool_choice?: 'none' }
}
export interface ItemDeleteEvent { type: 'conversation.item.delete', item_id: string }
export interface ResponseCancelEvent { type: 'response.cancel' }
export interface ItemTruncateEvent { type: 'conversation.item.truncate', item_id: string, content_index: 0, audio_end_ms: number }
export interface UserTextItemEvent {
  type: 'conversation.item.create'
  item: { type: 'message', role: 'user', content: Array<{ type: 'input_text', text: string }> }
}
export interface FunctionOutputEvent {
  type: 'conversation.item.create'
  item: { type: 'function_call_output', call_id: string, output: string }
}

export type ClientEvent = SessionUpdateEvent | AudioAppendEvent | ResponseCreateEvent | ResponseCancelEvent | ItemTruncateEvent | ItemDeleteEvent | UserTextItemEvent | FunctionOutputEvent

/** The bytes every append starts with: its base64 follows, then APPEND_TAIL. */
export const APPEND_HEAD = Buffer.from('{"type":"input_audio_buffer.append","audio":"')
export const APPEND_TAIL = Buffer.from('"}')

/**
 * `noTools`: tool_choice "none", so a filler said while a tool runs cannot
 * call a second tool. It stays in the conversation (not out of band,
 * `conversation: "none"`): the caller heard it, so the model should know it
 * was said, and a barge-in can truncate it like any answer. (The official
 * schema's oneOf for `conversation` also rejects "none" as written.)
 */
export function responseCreate (eventId: string, instructions?: string, noTools = false): ResponseCreateEvent {
  const response: NonNullable<ResponseCreateEvent['response']> = {}
  if (instructions !== undefined) response.instructions = instructions
  if (noTools) response.tool_choice = 'none'
  return Object.keys(response).length === 0 ? { type: 'response.create', event_id: eventId } : { type: 'response.create', event_id: eventId, response }
}

export function itemDelete (itemId: string): ItemDeleteEvent {
  return { type: 'conversation.item.delete', item_id: itemId }
}

export function truncate (itemId: string, audioEndMs: number): ItemTruncateEvent {
  return { type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs }
}

export function userText (text: string): UserTextItemEvent {
  return { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } }
}

export function functionOutput (callId: string, output: string): FunctionOutputEvent {
  return { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } }
}
