/**
 * Realtime server events, parsed. Audio deltas are most of the traffic and
 * nearly all of their bytes are base64, so they are picked apart in the
 * received bytes instead of JSON.parse building a second copy of the audio.
 * The ids come out as strings of their own: a slice of the whole message
 * would keep its kilobytes of base64 alive for as long as the audio is queued.
 */
export type UpstreamEvent =
  /** `delta`: the base64 as received (bytes of the message), or as a string when JSON.parse had to read the event. */
  | { type: 'response.output_audio.delta', responseId: string, itemId: string, delta: Buffer | string }
  | { type: 'other', event: { type: string, [key: string]: unknown } }

const DELTA_TYPE = Buffer.from('"type":"response.output_audio.delta"')
const DELTA = Buffer.from('"delta":"')
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

export function parseUpstream (message: Buffer | string): UpstreamEvent | null {
  const data = typeof message === 'string' ? Buffer.from(message) : message
  if (data.indexOf(DELTA_TYPE) >= 0) {
    const delta = field(data, DELTA)
    const responseId = field(data, RESPONSE_ID)
    const itemId = field(data, ITEM_ID)
    // Base64 never holds a quote or a backslash, so the fast path is exact when all three are found unescaped.
    if (delta !== null && responseId !== null && itemId !== null && !escaped(data, delta) && !escaped(data, responseId) && !escaped(data, itemId)) {
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
  const e = event as { type: string, [key: string]: unknown }
  if (e.type === 'response.output_audio.delta' && typeof e.delta === 'string') {
    return { type: 'response.output_audio.delta', responseId: String(e.response_id ?? ''), itemId: String(e.item_id ?? ''), delta: e.delta }
  }
  return { type: 'other', event: e }
}
