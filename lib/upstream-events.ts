/**
 * Realtime server events, parsed. Audio deltas are most of the traffic and
 * nearly all of their bytes are base64, so they are picked apart with string
 * searches instead of JSON.parse building a second copy of the audio.
 */
export type UpstreamEvent =
  | { type: 'response.output_audio.delta', responseId: string, itemId: string, delta: string }
  | { type: 'other', event: { type: string, [key: string]: unknown } }

const DELTA_TYPE = '"type":"response.output_audio.delta"'

function stringField (text: string, name: string, from = 0): string | null {
  const key = `"${name}":"`
  const start = text.indexOf(key, from)
  if (start < 0) return null
  const begin = start + key.length
  const end = text.indexOf('"', begin)
  return end < 0 ? null : text.slice(begin, end)
}

export function parseUpstream (text: string): UpstreamEvent | null {
  if (text.includes(DELTA_TYPE)) {
    const delta = stringField(text, 'delta')
    const responseId = stringField(text, 'response_id')
    const itemId = stringField(text, 'item_id')
    // Base64 never contains a quote or a backslash, so the fast path is exact when all three are found.
    if (delta !== null && responseId !== null && itemId !== null && !delta.includes('\\')) {
      return { type: 'response.output_audio.delta', responseId, itemId, delta }
    }
  }
  let event: unknown
  try {
    event = JSON.parse(text)
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
