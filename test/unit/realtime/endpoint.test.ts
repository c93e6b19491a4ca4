import { test } from 'node:test'
import assert from 'node:assert/strict'
import { realtimeEndpoint } from '../../../lib/realtime/endpoint.js'
import { parseUpstream } from '../../../lib/realtime/server-events.js'

const base = { OPENAI_API_KEY: 'sk-k', OPENAI_MODEL: 'gpt-realtime', OPENAI_BASE_URL: 'https://api.openai.com/v1', AZURE_OPENAI_ENDPOINT: '', OPENAI_API_VERSION: '' }

test('OpenAI: wss://…/v1/realtime?model=…, Bearer auth, no beta header', () => {
  const e = realtimeEndpoint(base)
  assert.deepEqual(e, { url: 'wss://api.openai.com/v1/realtime?model=gpt-realtime', headers: { Authorization: 'Bearer sk-k' }, provider: 'openai' })
})

test('a local http base URL becomes ws:// (how tests point at the fake)', () => {
  assert.equal(realtimeEndpoint({ ...base, OPENAI_BASE_URL: 'http://127.0.0.1:4010/v1/' }).url, 'ws://127.0.0.1:4010/v1/realtime?model=gpt-realtime')
})

test('Azure GA: /openai/v1/realtime?model=<deployment> with api-key', () => {
  const e = realtimeEndpoint({ ...base, AZURE_OPENAI_ENDPOINT: 'https://myres.openai.azure.com/', OPENAI_MODEL: 'my-realtime' })
  assert.deepEqual(e, { url: 'wss://myres.openai.azure.com/openai/v1/realtime?model=my-realtime', headers: { 'api-key': 'sk-k' }, provider: 'azure' })
})

test('Azure preview form only when OPENAI_API_VERSION is set', () => {
  const e = realtimeEndpoint({ ...base, AZURE_OPENAI_ENDPOINT: 'https://myres.openai.azure.com', OPENAI_MODEL: 'dep', OPENAI_API_VERSION: '2025-04-01-preview' })
  assert.equal(e.url, 'wss://myres.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=dep')
  assert.equal(e.provider, 'azure-preview')
})

/** A parsed delta with its base64 as a string, whichever form the parser gave it in. */
function plain (ev: ReturnType<typeof parseUpstream>): unknown {
  return ev?.type === 'response.output_audio.delta' ? { ...ev, delta: String(ev.delta) } : ev
}

test('audio deltas are parsed without JSON.parse, whatever the field order', () => {
  const fast = parseUpstream('{"type":"response.output_audio.delta","response_id":"r0","item_id":"i0","delta":"AAEC"}')
  assert.ok(fast?.type === 'response.output_audio.delta' && Buffer.isBuffer(fast.delta), 'the base64 stays bytes of the message')
  const a = plain(parseUpstream('{"type":"response.output_audio.delta","event_id":"e1","response_id":"r1","item_id":"i1","output_index":0,"content_index":0,"delta":"AAEC"}'))
  assert.deepEqual(a, { type: 'response.output_audio.delta', responseId: 'r1', itemId: 'i1', delta: 'AAEC' })
  const b = plain(parseUpstream('{"delta":"AQID","item_id":"i2","content_index":0,"type":"response.output_audio.delta","response_id":"r2"}'))
  assert.deepEqual(b, { type: 'response.output_audio.delta', responseId: 'r2', itemId: 'i2', delta: 'AQID' })
  // As ws hands them over: bytes, with non-ASCII ids intact.
  const c = plain(parseUpstream(Buffer.from('{"type":"response.output_audio.delta","response_id":"r_é","item_id":"項目","delta":"AAAA"}')))
  assert.deepEqual(c, { type: 'response.output_audio.delta', responseId: 'r_é', itemId: '項目', delta: 'AAAA' })
  // An escaped quote in an id: the fast path would cut it short, so JSON.parse reads it.
  const d = plain(parseUpstream(JSON.stringify({ type: 'response.output_audio.delta', response_id: 'r"3', item_id: 'i3', delta: 'AAAA' })))
  assert.deepEqual(d, { type: 'response.output_audio.delta', responseId: 'r"3', itemId: 'i3', delta: 'AAAA' })
})

test('other events are parsed as JSON; junk is null', () => {
  assert.deepEqual(parseUpstream('{"type":"input_audio_buffer.speech_started","audio_start_ms":5}'), { type: 'other', event: { type: 'input_audio_buffer.speech_started', audio_start_ms: 5 } })
  // A transcript that quotes the delta event type must not be mistaken for audio.
  const tricky = parseUpstream(JSON.stringify({ type: 'response.output_audio_transcript.delta', delta: 'say "type":"response.output_audio.delta" now', response_id: 'r', item_id: 'i' }))
  assert.equal(tricky?.type, 'other')
  for (const junk of ['', 'nope', '[]', '{"no":"type"}', 'null']) assert.equal(parseUpstream(junk), null, junk)
})
