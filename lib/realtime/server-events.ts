/**
 * Realtime server events, parsed. Audio deltas are most of the traffic and
 * nearly all of their bytes are base64, so they are picked apart in the
 * received bytes instead of JSON.parse building a second copy of the audio.
 * The ids come out as strings of their own: a slice of the whole message
 * would keep its kilobytes of base64 alive for as long as the audio is queued.
 *
 * The other events are narrowed to the fields the engine reads
 * (SERVER_EVENT_FIELDS, checked against the official schemas by
 * test/unit/realtime/events-schema.test.ts). They come off the network, so
 * every field is still read with a type check.
 */
export type UpstreamEvent =
  /** `delta`: the base64 as received (bytes of the message), or as a string when JSON.parse had to read the event. */
  | { type: 'response.output_audio.delta', responseId: string, itemId: string, delta: Buffer | string }
  | { type: 'other', event: ServerEvent }

/** A server event as JSON.parse gave it: only `type` is known to be a string. */
export interface ServerEvent { type: string, event_id?: unknown, [key: string]: unknown }

/** Top-level fields the engine reads, per event type. */
export const SERVER_EVENT_FIELDS = {
  'session.updated': ['session'],
  error: ['error'],
  'input_audio_buffer.speech_started': ['audio_start_ms', 'item_id'],
  'input_audio_buffer.speech_stopped': ['audio_end_ms', 'item_id'],
  'input_audio_buffer.committed': ['item_id'],
  'response.created': ['response'],
  'response.output_item.added': ['response_id', 'item'],
  'response.output_audio.delta': ['response_id', 'item_id', 'delta'],
  'response.output_audio.done': ['item_id'],
  'response.output_audio_transcript.delta': ['item_id', 'delta'],
  'response.output_audio_transcript.done': ['item_id', 'transcript'],
  'conversation.item.input_audio_transcription.delta': ['item_id', 'delta'],
  'conversation.item.input_audio_transcription.completed': ['item_id', 'transcript'],
  'response.function_call_arguments.done': ['call_id', 'name', 'arguments'],
  'response.done': ['response']
} as const

/** A string field of an untrusted object, '' when absent or not a string. */
export const str = (v: unknown): string => typeof v === 'string' ? v : ''
export const num = (v: unknown): number => typeof v === 'number' && Number.isFinite(v) ? v : 0
export const obj = (v: unknown): Record<string, unknown> => v !== null && typeof v === 'object' ? v as Record<string, unknown> : {}

const DELTA_TYPE = Buffer.from('"type":"response.output_audio.delta"')
export const DELTA = Buffer.from('"delta":"')
const RESPONSE_ID = Buffer.from('"response_id":"')
const ITEM_ID = Buffer.from('"item_id":"')
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Where the string value of `key` lies in `data`: [start, end), or null. */
function field (data: Buffer, key: Buffer): [number, number] | null {
  const at = data.indexOf(key)
  if (at < 0) return null
  const start = at + key.length
  const end = data.indexOf(QUOTE, start)
  return end < 0 ? null : [start, end]
}

function escaped (data: Buffer, [start, end]: [number, number]): boolean {
  const b = data.indexOf(BACKSLASH, start)
  return b >= 0 && b < end
}

/** Where the string value of `key` lies in `data`, [start, end), when it holds no escape; null otherwise (JSON.parse must read it). */
export function plainStringField (data: Buffer, key: Buffer): [number, number] | null {
  const f = field(data, key)
  return f === null || escaped(data, f) ? null : f
}

export function parseUpstream (message: Buffer | string): UpstreamEvent | null {
  const data = typeof message === 'string' ? Buffer.from(message) : message
  if (data.indexOf(DELTA_TYPE) >= 0) {
    const delta = plainStringField(data, DELTA)
    const responseId = plainStringField(data, RESPONSE_ID)
    const itemId = plainStringField(data, ITEM_ID)
    // Base64 never holds a quote or a backslash, so the fast path is exact when all three are found unescaped.
    if (delta !== null && responseId !== null && itemId !== null) {
      return {
        type: 'response.output_audio.delta',
        responseId: data.toString('utf8', responseId[0], responseId[1]),
        itemId: data.toString('utf8', itemId[0], itemId[1]),
        delta: data.subarray(delta[0], delta[1])
      }
    }
  }
  let event: unknown
  try {
    event = JSON.parse(data.toString('utf8'))
  } catch {
    return null
  }
  if (event === null || typeof event !== 'object' || typeof (event as { type?: unknown }).type !== 'string') return null
  const e = event as ServerEvent
  if (e.type === 'response.output_audio.delta' && typeof e.delta === 'string') {
    return { type: 'response.output_audio.delta', responseId: str(e.response_id), itemId: str(e.item_id), delta: e.delta }
  }
  return { type: 'other', event: e }
}
