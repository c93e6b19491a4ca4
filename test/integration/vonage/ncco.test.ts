import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { build } from '../../helpers/build.js'
import { RIG_SIGNATURE_SECRET, vonageWebhook } from '../../helpers/call-rig.js'
import { startFakeRealtime } from '../../fakes/realtime-server.js'
import { BUSY_MESSAGE, UNAVAILABLE_MESSAGE } from '../../../lib/vonage/ncco.js'

async function rigFor (t: Parameters<typeof build>[0], env: Record<string, string | number> = {}) {
  const fake = await startFakeRealtime()
  t.after(() => fake.close())
  return { fake, ...(await build(t, { OPENAI_BASE_URL: fake.baseUrl, VONAGE_SIGNATURE_SECRET: RIG_SIGNATURE_SECRET, ...env })) }
}

for (const rate of [8000, 16000, 24000]) {
  test(`NCCO at ${rate} Hz: greeting, then connect with content-type audio/l16;rate=${rate}`, async (t) => {
    const { app } = await rigFor(t, { VONAGE_AUDIO_RATE: rate })
    const res = await vonageWebhook(app, '/incoming-call', { uuid: 'leg-1', conversation_uuid: 'CON-1', from: '818012345678', to: '815031023332' })
    assert.equal(res.statusCode, 200)
    const ncco = res.json()
    assert.equal(ncco.length, 2)
    assert.deepEqual(ncco[0], { action: 'talk', text: app.config.GREETING_TEXT, language: 'ja-JP', premium: false })
    const connect = ncco[1]
    assert.equal(connect.action, 'connect')
    assert.equal(connect.eventType, 'synchronous')
    assert.deepEqual(connect.eventUrl, ['https://bridge.example.test/event?leg=media&call=leg-1'])
    const ep = connect.endpoint[0]
    assert.equal(ep.type, 'websocket')
    assert.equal(ep['content-type'], `audio/l16;rate=${rate}`)
    assert.equal('contentType' in ep, false)
    assert.match(ep.uri, /^wss:\/\/bridge\.example\.test\/media\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    const token = decodeURIComponent(ep.uri.split('token=')[1])
    const check = app.mediaTokens.verify(token)
    assert.ok(check.ok)
    assert.equal(check.claims.c, 'leg-1')
    assert.ok(check.claims.exp - Date.now() / 1000 <= app.config.MEDIA_TOKEN_TTL_SECONDS)
    const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
    assert.deepEqual(Object.keys(payload).sort(), ['c', 'exp', 'j', 'm'], 'the token carries no number and no context')
  })
}

test('GET answer webhook with a query works like POST', async (t) => {
  const { app } = await rigFor(t)
  const res = await vonageWebhook(app, '/incoming-call', { uuid: 'leg-g', from: '818012345678', to: '815031023332', conversation_uuid: 'CON-9' }, { method: 'GET' })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json()[1].action, 'connect')
})

test('greeting text and language are configurable, and empty means no talk', async (t) => {
  const { app } = await rigFor(t, { GREETING_TEXT: 'Hello, connecting you.', GREETING_LANGUAGE: 'en-US' })
  const ncco = (await vonageWebhook(app, '/incoming-call', { uuid: 'leg-2' })).json()
  assert.deepEqual(ncco[0], { action: 'talk', text: 'Hello, connecting you.', language: 'en-US', premium: false })
  const { app: quiet } = await rigFor(t, { GREETING_TEXT: '' })
  const ncco2 = (await vonageWebhook(quiet, '/incoming-call', { uuid: 'leg-3' })).json()
  assert.equal(ncco2.length, 1)
  assert.equal(ncco2[0].action, 'connect')
})

test('the answer webhook opens the model socket before Vonage connects (prewarm)', async (t) => {
  const { app, fake } = await rigFor(t)
  await vonageWebhook(app, '/incoming-call', { uuid: 'leg-pre' })
  const conn = await fake.nextConnection()
  assert.equal(conn.url, '/v1/realtime?model=gpt-realtime-2.1')
  assert.equal(conn.headers.authorization, 'Bearer sk-test-0123456789abcdef')
  assert.equal(conn.headers['openai-beta'], undefined)
  assert.equal(app.calls.size, 1)
})

test('without uuid the answer webhook is a 400 naming it', async (t) => {
  const { app } = await rigFor(t)
  const res = await vonageWebhook(app, '/incoming-call', { from: '1' })
  assert.equal(res.statusCode, 400)
  assert.match(res.json().message, /uuid/)
})

test('over MAX_CONCURRENT_CALLS the caller hears a polite busy message and no connect', async (t) => {
  const { app } = await rigFor(t, { MAX_CONCURRENT_CALLS: 1 })
  const first = (await vonageWebhook(app, '/incoming-call', { uuid: 'leg-a' })).json()
  assert.equal(first[1].action, 'connect')
  const second = (await vonageWebhook(app, '/incoming-call', { uuid: 'leg-b' })).json()
  assert.deepEqual(second, [{ action: 'talk', text: BUSY_MESSAGE, language: 'ja-JP', premium: false }])
  // Vonage retrying the same answer webhook is the same call, not a new one.
  const retry = (await vonageWebhook(app, '/incoming-call', { uuid: 'leg-a' })).json()
  assert.equal(retry.length, 1)
})

test('/event answers 204 and logs the status with the call uuid', async (t) => {
  const { app, logs } = await rigFor(t)
  for (const method of ['POST', 'GET'] as const) {
    const res = method === 'POST'
      ? await vonageWebhook(app, '/event', { uuid: 'leg-e', status: 'ringing', direction: 'inbound' })
      : await vonageWebhook(app, '/event', { uuid: 'leg-e', status: 'answered' }, { method })
    assert.equal(res.statusCode, 204)
  }
  assert.ok(logs.some(l => l.msg === 'vonage event' && l.uuid === 'leg-e' && l.status === 'ringing'))
  assert.ok(logs.some(l => l.msg === 'vonage event' && l.uuid === 'leg-e' && l.status === 'answered'))
})

test('a failed WebSocket leg gets a Japanese fallback NCCO and frees the prewarmed call', async (t) => {
  const { app } = await rigFor(t)
  await vonageWebhook(app, '/incoming-call', { uuid: 'leg-f' })
  assert.equal(app.calls.size, 1)
  for (const status of ['failed', 'unanswered']) {
    const res = await vonageWebhook(app, '/event?leg=media&call=leg-f', { uuid: 'ws-leg', status })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), [{ action: 'talk', text: UNAVAILABLE_MESSAGE, language: 'ja-JP', premium: false }])
  }
  assert.equal(app.calls.size, 0)
})

test('a completed call leg ends its session', async (t) => {
  const { app, fake } = await rigFor(t)
  await vonageWebhook(app, '/incoming-call', { uuid: 'leg-c' })
  const conn = await fake.nextConnection()
  await vonageWebhook(app, '/event', { uuid: 'leg-c', status: 'completed' })
  assert.equal(app.calls.size, 0)
  if (conn.closedAt === null) await once(conn.ws, 'close')
  assert.notEqual(conn.closedAt, null)
})

test('while draining, new calls hear that the line is closing', async (t) => {
  const { app } = await rigFor(t)
  await app.calls.drain(0)
  const ncco = (await vonageWebhook(app, '/incoming-call', { uuid: 'leg-d' })).json()
  assert.equal(ncco.length, 1)
  assert.equal(ncco[0].action, 'talk')
})
