import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { startFakeRealtime, waitFor, type FakeRealtimeOptions, type FakeRealtime } from '../../fakes/realtime-server.js'
import { realtimeEndpoint } from '../../../lib/realtime/endpoint.js'
import { RealtimeEngine, type RealtimeEngineOptions } from '../../../lib/realtime/realtime-engine.js'
import type { EngineEventMap } from '../../../lib/realtime/engine.js'

async function rig (t: TestContext, fakeOpts: FakeRealtimeOptions = {}, o: Partial<RealtimeEngineOptions> = {}, baseUrl?: string): Promise<{ fake: FakeRealtime, engine: RealtimeEngine, failed: Promise<EngineEventMap['failed'][0]> }> {
  const fake = await startFakeRealtime({ autoRespond: false, ...fakeOpts })
  t.after(() => fake.close())
  const engine = new RealtimeEngine({
    endpoint: realtimeEndpoint({ OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'gpt-realtime', OPENAI_BASE_URL: baseUrl ?? fake.baseUrl, AZURE_OPENAI_ENDPOINT: '', OPENAI_API_VERSION: '' }),
    sessionUpdate: () => ({ type: 'session.update', session: { type: 'realtime', instructions: 'test' } }),
    ...o
  })
  t.after(() => engine.close())
  const failed = once(engine, 'failed').then(([f]) => f as EngineEventMap['failed'][0])
  engine.connect()
  return { fake, engine, failed }
}

test('opens, sends session.update, is ready on session.updated; every frame it sends has a random, non-zero mask', async (t) => {
  const { fake, engine } = await rig(t)
  await once(engine, 'ready')
  const c = fake.connections[0]!
  for (let i = 0; i < 20; i++) engine.appendAudio(new Uint8Array(960).fill(i))
  await waitFor(() => c.audio.length === 20, 2000, 'appends')
  assert.deepEqual(c.invalid, [])
  assert.equal(c.events[0]!.type, 'session.update')
  assert.ok(c.masks.length >= 21)
  for (const m of c.masks) assert.equal(m.length, 4, 'every client frame is masked')
  assert.ok(c.masks.every(m => !m.equals(Buffer.alloc(4))), 'no all-zero mask')
  assert.ok(new Set(c.masks.map(m => m.toString('hex'))).size >= c.masks.length - 1, 'masks differ frame to frame')
})

test('an error answering session.update fails the engine (config-refused) with the server\'s message; never ready', async (t) => {
  const { engine, failed } = await rig(t, { sessionUpdateError: { code: 'invalid_value', message: 'Invalid value: \'robot\'. Supported values are: alloy, marin, cedar.' } })
  let ready = false
  engine.on('ready', () => { ready = true })
  const f = await failed
  assert.equal(f.cause, 'config-refused')
  assert.match(f.detail, /invalid_value: Invalid value: 'robot'/)
  assert.match(f.detail, /OPENAI_VOICE/)
  assert.equal(ready, false)
})

test('a 401 at the handshake is named: unauthorized, check OPENAI_API_KEY (after one retry)', async (t) => {
  const { fake, failed } = await rig(t, { refuse: 401 })
  const f = await failed
  assert.equal(f.cause, 'unauthorized')
  assert.match(f.detail, /OPENAI_API_KEY/)
  assert.match(f.detail, /HTTP 401 after 2 attempts/)
  assert.equal(fake.handshakes, 2)
})

test('a model nobody listens for is named: unreachable (ECONNREFUSED)', async (t) => {
  const { failed } = await rig(t, {}, { retryDelaysMs: [] }, 'http://127.0.0.1:9/v1')
  const f = await failed
  assert.equal(f.cause, 'unreachable')
  assert.match(f.detail, /ECONNREFUSED/)
})

test('a message over the size limit ends the engine: too-large', async (t) => {
  const { fake, engine, failed } = await rig(t, {}, { maxMessageBytes: 64 * 1024 })
  await once(engine, 'ready')
  fake.sendBig(fake.connections[0]!, 100 * 1024)
  const f = await failed
  assert.equal(f.cause, 'too-large')
  await waitFor(() => fake.connections[0]!.closedAt !== null, 2000, 'socket closed')
})

test('the default size limit takes a normal message and refuses a 5 MiB one', async (t) => {
  const { fake, engine, failed } = await rig(t)
  await once(engine, 'ready')
  const warnings: string[] = []
  engine.on('warning', (w) => warnings.push(w.code))
  fake.sendBig(fake.connections[0]!, 1024 * 1024)
  fake.send(fake.connections[0]!, { type: 'error', error: { type: 'server_error', code: 'after_big', message: 'marker' } })
  await waitFor(() => warnings.includes('after_big'), 3000, 'the 1 MiB message and the marker after it')
  fake.sendBig(fake.connections[0]!, 5 * 1024 * 1024)
  assert.equal((await failed).cause, 'too-large')
})

test('a peer that stops answering pings is given up: stalled', async (t) => {
  const { engine, failed } = await rig(t, { pong: false }, { pingEveryMs: 50, pongWaitMs: 100 })
  await once(engine, 'ready')
  const f = await failed
  assert.equal(f.cause, 'stalled')
  assert.match(f.detail, /no pong/)
})

test('a peer that stalls mid-frame while a response is owed is given up: stalled', async (t) => {
  const { fake, engine, failed } = await rig(t, { stallOnResponse: true }, { stallMs: 300 })
  await once(engine, 'ready')
  assert.equal(engine.startResponse(), true)
  const f = await failed
  assert.equal(f.cause, 'stalled')
  assert.match(f.detail, /while a response was owed/)
  await waitFor(() => fake.connections[0]!.closedAt !== null, 2000, 'socket dropped')
})

test('nothing is delivered after a protocol error: a bad frame ends the engine and the valid frame behind it is never read', async (t) => {
  const { fake, engine, failed } = await rig(t)
  await once(engine, 'ready')
  const seen: string[] = []
  engine.on('speech-started', () => seen.push('speech-started'))
  const valid = Buffer.from(JSON.stringify({ type: 'input_audio_buffer.speech_started', event_id: 'e1', audio_start_ms: 0, item_id: 'i1' }))
  // Opcode 0x3 is reserved (RFC 6455 §5.2): a protocol error. A valid text frame follows in the same write.
  fake.connections[0]!.socket.write(Buffer.concat([Buffer.from([0x83, 0x00]), Buffer.from([0x81, valid.length]), valid]))
  const f = await failed
  assert.equal(f.cause, 'closed')
  assert.deepEqual(seen, [])
})

test('startResponse before the socket opens is sent right after session.update', async (t) => {
  const fake = await startFakeRealtime({ autoRespond: false })
  t.after(() => fake.close())
  const engine = new RealtimeEngine({
    endpoint: realtimeEndpoint({ OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'gpt-realtime', OPENAI_BASE_URL: fake.baseUrl, AZURE_OPENAI_ENDPOINT: '', OPENAI_API_VERSION: '' }),
    sessionUpdate: () => ({ type: 'session.update', session: { type: 'realtime' } })
  })
  t.after(() => engine.close())
  engine.connect()
  assert.equal(engine.startResponse(), true)
  await waitFor(() => (fake.connections[0]?.events.length ?? 0) >= 2, 2000, 'two events')
  assert.deepEqual(fake.connections[0]!.events.map(e => e.type), ['session.update', 'response.create'])
  assert.deepEqual(fake.connections[0]!.invalid, [])
})
