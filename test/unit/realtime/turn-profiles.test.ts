import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { WebSocket } from 'ws'
import { TURN_PROFILES, resolveTurnProfile, turnDetection } from '../../../lib/realtime/turn-profiles.js'
import { sessionUpdate, type SessionSettings } from '../../../lib/realtime/session-update.js'

/** What the bridge sends to have the model speak (lib/realtime/client-events.ts responseCreate). */
const GREET_FIRST = { type: 'response.create' }
import { checkClientEvent } from '../../fakes/realtime-schemas.js'
import { startFakeRealtime, waitFor, type FakeConnection, type FakeRealtime } from '../../fakes/realtime-server.js'

const base: SessionSettings = { persona: 'テスト', voice: 'marin', turnDetection: 'server_vad', transcriptionModel: 'gpt-4o-transcribe', transcriptionLanguage: 'ja', noiseReduction: 'near_field' }
const call = { direction: 'inbound' as const }
const td = (s: SessionSettings): Record<string, unknown> => ((sessionUpdate(s, call).session as any).audio.input.turn_detection)

test('without bridgeDecides the session.update is what it was: server_vad 0.5 / 300 / 500 ms, the engine cancels and answers', () => {
  assert.deepEqual(td(base), { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true })
})

test('with bridgeDecides the engine neither cancels nor answers, for server_vad and semantic_vad, and the GA schema accepts it', () => {
  for (const type of ['server_vad', 'semantic_vad'] as const) {
    for (const name of ['standard', 'patient'] as const) {
      const s = { ...base, turnDetection: type, turnProfile: TURN_PROFILES[name], bridgeDecides: true }
      const t = td(s)
      assert.equal(t.type, type)
      assert.equal(t.create_response, false)
      assert.equal(t.interrupt_response, false)
      assert.equal(checkClientEvent(sessionUpdate(s, call)), null, `${type}/${name} is a valid GA session.update`)
    }
  }
  assert.deepEqual(turnDetection('semantic_vad', TURN_PROFILES.patient, true), { type: 'semantic_vad', eagerness: 'low', create_response: false, interrupt_response: false })
})

test('the patient profile waits longer, needs louder sound, and more of it to give way', () => {
  const s = TURN_PROFILES.standard
  const p = TURN_PROFILES.patient
  assert.ok(p.silenceDurationMs > s.silenceDurationMs)
  assert.ok(p.threshold > s.threshold)
  assert.ok(p.bargeInMinMs > s.bargeInMinMs)
  assert.deepEqual(td({ ...base, turnProfile: p }), { type: 'server_vad', threshold: 0.6, prefix_padding_ms: 300, silence_duration_ms: 900, create_response: true, interrupt_response: true })
})

test('BARGE_IN_MIN_MS: 0 keeps the profile\'s, a value overrides it, out of range is refused naming the setting', () => {
  assert.equal(resolveTurnProfile('patient', 0).bargeInMinMs, TURN_PROFILES.patient.bargeInMinMs)
  assert.equal(resolveTurnProfile('standard', 250).bargeInMinMs, 250)
  assert.equal(resolveTurnProfile('standard', 250).silenceDurationMs, TURN_PROFILES.standard.silenceDurationMs)
  assert.throws(() => resolveTurnProfile('standard', 10), /BARGE_IN_MIN_MS/)
  assert.throws(() => resolveTurnProfile('loud' as 'standard'), /TURN_PROFILE/)
})

// ---- the fake server acts on the turn_detection it was given, as OpenAI's does ----

interface Client { ws: WebSocket, events: Array<{ type: string, [k: string]: any }> }

async function open (t: TestContext, settings: SessionSettings): Promise<{ fake: FakeRealtime, conn: FakeConnection, client: Client }> {
  // 2 s of answer sent at 4× real time: long enough to be cut mid-stream.
  const fake = await startFakeRealtime({ vad: true, burst: false, paceFactor: 4, deltaMs: 100, answer: new Int16Array(48000).fill(1000) })
  t.after(async () => await fake.close())
  const next = fake.nextConnection()
  const ws = new WebSocket(`${fake.url}/v1/realtime?model=gpt-realtime`)
  const client: Client = { ws, events: [] }
  ws.on('message', (d: Buffer) => client.events.push(JSON.parse(d.toString('utf8'))))
  await once(ws, 'open')
  t.after(() => ws.close())
  const conn = await next
  ws.send(JSON.stringify(sessionUpdate(settings, call)))
  await waitFor(() => client.events.some(e => e.type === 'session.updated'), 3000, 'session.updated')
  return { fake, conn, client }
}

const count = (c: Client, type: string): number => c.events.filter(e => e.type === type).length
const done = (c: Client): any[] => c.events.filter(e => e.type === 'response.done').map(e => e.response)

test('fake: interrupt_response on (the engine decides) cancels the answer at speech_started, and create_response answers at speech_stopped', async (t) => {
  const { fake, conn, client } = await open(t, base)
  client.ws.send(JSON.stringify(GREET_FIRST))
  await waitFor(() => count(client, 'response.output_audio.delta') >= 2, 3000, 'the answer streaming')
  fake.speechStarted(conn)
  await waitFor(() => done(client).length === 1, 3000, 'response.done')
  assert.equal(done(client)[0].status, 'cancelled')
  assert.equal(done(client)[0].status_details.reason, 'turn_detected')
  assert.ok(count(client, 'response.output_audio.delta') < 20, 'the rest of the answer was never sent')
  fake.speechStopped(conn)
  await waitFor(() => done(client).length === 2, 3000, 'the engine answering on its own')
  assert.equal(done(client)[1].status, 'completed')
  assert.deepEqual(fake.selfInvalid, [])
  assert.deepEqual(conn.invalid, [])
})

test('fake: with the bridge deciding (both off), speech neither cancels the answer nor gets an answer; conversation.item.delete drops the item', async (t) => {
  const { fake, conn, client } = await open(t, { ...base, bridgeDecides: true })
  client.ws.send(JSON.stringify(GREET_FIRST))
  await waitFor(() => count(client, 'response.output_audio.delta') >= 2, 3000, 'the answer streaming')
  fake.speechStarted(conn)
  const item = fake.speechStopped(conn)
  await waitFor(() => done(client).length === 1, 3000, 'response.done')
  assert.equal(done(client)[0].status, 'completed')
  assert.equal(count(client, 'response.output_audio.delta'), 20, 'the whole answer was sent')
  // The explicit signal that nothing else is coming: the fake handles events in order.
  client.ws.send(JSON.stringify({ type: 'conversation.item.delete', item_id: item }))
  await waitFor(() => count(client, 'conversation.item.deleted') === 1, 3000, 'conversation.item.deleted')
  assert.equal(client.events.find(e => e.type === 'conversation.item.deleted')?.item_id, item)
  assert.equal(count(client, 'response.created'), 1, 'no answer to the caller\'s sound')
  assert.deepEqual(fake.selfInvalid, [])
  assert.deepEqual(conn.invalid, [])
})

test('fake: response.cancel cuts the answer in progress, and is refused when none is', async (t) => {
  const { fake, client } = await open(t, { ...base, bridgeDecides: true })
  client.ws.send(JSON.stringify({ type: 'response.cancel' }))
  await waitFor(() => count(client, 'error') === 1, 3000, 'the refusal')
  assert.equal(client.events.find(e => e.type === 'error')?.error.code, 'response_cancel_not_active')
  client.ws.send(JSON.stringify(GREET_FIRST))
  await waitFor(() => count(client, 'response.output_audio.delta') >= 2, 3000, 'the answer streaming')
  client.ws.send(JSON.stringify({ type: 'response.cancel' }))
  await waitFor(() => done(client).length === 1, 3000, 'response.done')
  assert.equal(done(client)[0].status, 'cancelled')
  assert.equal(done(client)[0].status_details.reason, 'client_cancelled')
  assert.deepEqual(fake.selfInvalid, [])
})
