import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { checkClientEvent } from '../../fakes/realtime-schemas.js'
import { itemDelete, responseCreate, truncate, userText, functionOutput, APPEND_HEAD, APPEND_TAIL } from '../../../lib/realtime/client-events.js'
import { SERVER_EVENT_FIELDS } from '../../../lib/realtime/server-events.js'
import { sessionUpdate } from '../../../lib/realtime/session-update.js'

const doc = JSON.parse(readFileSync(new URL('../../fixtures/openai-realtime/realtime-schemas.json', import.meta.url), 'utf8')) as { components: { schemas: Record<string, { properties?: Record<string, unknown> & { type?: { enum?: string[] } } }> } }

test('every client event the bridge builds is valid against the official GA schemas', () => {
  const events: unknown[] = [
    sessionUpdate({ persona: 'p', voice: 'marin', turnDetection: 'server_vad', transcriptionModel: 'gpt-4o-transcribe', transcriptionLanguage: 'ja', noiseReduction: 'near_field', tools: [{ type: 'function', name: 'end_call', description: 'd', parameters: { type: 'object', properties: {} } }] }, { direction: 'inbound', from: '818012345678' }),
    sessionUpdate({ persona: 'p', voice: 'marin', turnDetection: 'server_vad', transcriptionModel: 'gpt-transcribe', transcriptionLanguage: 'ja', noiseReduction: 'near_field' }, { direction: 'inbound' }),
    sessionUpdate({ persona: 'p', voice: 'marin', turnDetection: 'server_vad', transcriptionModel: 'gpt-live-transcribe', transcriptionLanguage: 'ja', noiseReduction: 'far_field' }, { direction: 'outbound' }),
    sessionUpdate({ persona: 'p', voice: 'cedar', turnDetection: 'semantic_vad', transcriptionModel: '', transcriptionLanguage: 'ja', noiseReduction: 'off' }, { direction: 'softphone' }),
    JSON.parse(Buffer.concat([APPEND_HEAD, Buffer.from('AAEC'), APPEND_TAIL]).toString()),
    responseCreate('resp_req_1'),
    responseCreate('resp_req_2', 'Say goodbye.'),
    responseCreate('resp_req_3', '「少々お待ちください」とだけ言ってください。', true),
    itemDelete('item_2'),
    sessionUpdate({ persona: 'p', voice: 'marin', turnDetection: 'server_vad', transcriptionModel: 'gpt-live-transcribe', transcriptionLanguage: 'ja', noiseReduction: 'near_field', bridgeDecides: true }, { direction: 'inbound' }),
    { type: 'response.cancel' },
    truncate('item_1', 1234),
    userText('発信者がキーパッドの 1 を押しました'),
    functionOutput('call_1', '{"ok":true}')
  ]
  for (const e of events) assert.equal(checkClientEvent(e), null, JSON.stringify(e).slice(0, 120))
})

test('transcription: the language hint is the languages list on gpt-transcribe and gpt-live-transcribe, language on the older models', () => {
  const input = (model: string): unknown => (sessionUpdate({ persona: 'p', voice: 'marin', turnDetection: 'server_vad', transcriptionModel: model, transcriptionLanguage: 'ja', noiseReduction: 'off' }, { direction: 'inbound' }).session as { audio: { input: { transcription?: unknown } } }).audio.input.transcription
  assert.deepEqual(input('gpt-transcribe'), { model: 'gpt-transcribe', languages: ['ja'] })
  assert.deepEqual(input('gpt-live-transcribe'), { model: 'gpt-live-transcribe', languages: ['ja'] })
  assert.deepEqual(input('gpt-4o-transcribe'), { model: 'gpt-4o-transcribe', language: 'ja' })
  assert.deepEqual(input('gpt-4o-mini-transcribe-2025-12-15'), { model: 'gpt-4o-mini-transcribe-2025-12-15', language: 'ja' })
  assert.deepEqual(input('whisper-1'), { model: 'whisper-1', language: 'ja' })
  assert.equal(input(''), undefined)
})

test('each server event field the engine reads exists in that event\'s official schema', () => {
  const byType = new Map<string, Record<string, unknown>>()
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (!name.startsWith('RealtimeServerEvent')) continue
    for (const t of schema.properties?.type?.enum ?? []) byType.set(t, schema.properties ?? {})
  }
  for (const [type, fields] of Object.entries(SERVER_EVENT_FIELDS)) {
    const props = byType.get(type)
    assert.ok(props !== undefined, `${type} is a GA server event`)
    for (const f of fields) assert.ok(f in props, `${type}.${f} is in the schema`)
  }
})
