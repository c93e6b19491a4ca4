import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build } from '../../helpers/build.js'
import { startFakeRealtime } from '../../fakes/realtime-server.js'

// Behind Fly or ngrok the proxy appends the real client address to X-Forwarded-For;
// whatever the client wrote before it must not decide who it is.
async function connectFrom (app: Awaited<ReturnType<typeof build>>['app'], xff: string): Promise<number> {
  const res = await app.inject({ method: 'POST', url: '/connect', headers: { 'x-forwarded-for': xff }, payload: { to: '+818012345678' } })
  return res.statusCode
}

test('with one trusted hop, a client cannot dodge the /connect rate limit by forging X-Forwarded-For', async (t) => {
  const { app } = await build(t, { CONNECT_RATE_LIMIT_PER_MINUTE: 2, TRUST_PROXY_HOPS: 1 })
  const codes = []
  for (let i = 0; i < 3; i++) codes.push(await connectFrom(app, `10.0.0.${i}, 203.0.113.7`))
  assert.deepEqual(codes.map(c => c === 429), [false, false, true], String(codes))
  // Another real client still gets through.
  assert.notEqual(await connectFrom(app, '198.51.100.9'), 429)
})

test('by default (TRUST_PROXY_HOPS=0) X-Forwarded-For is ignored entirely: a client reaching the port cannot pick its address', async (t) => {
  const { app } = await build(t, { CONNECT_RATE_LIMIT_PER_MINUTE: 2 })
  assert.equal(app.config.TRUST_PROXY_HOPS, 0)
  const codes = []
  for (let i = 0; i < 3; i++) codes.push(await connectFrom(app, `203.0.113.${i}`))
  assert.deepEqual(codes.map(c => c === 429), [false, false, true], String(codes))
})

test('by default a spoofed X-Forwarded-For does not escape the answer-webhook limit either', async (t) => {
  const fake = await startFakeRealtime()
  t.after(() => fake.close())
  // Unsigned requests opening sessions: only with the explicit opt-out (without it they open nothing at all).
  const { app } = await build(t, { ANSWER_RATE_LIMIT_PER_MINUTE: 2, OPENAI_BASE_URL: fake.baseUrl, ALLOW_UNSIGNED_WEBHOOKS: true })
  const codes = []
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: '/incoming-call', headers: { 'x-forwarded-for': `203.0.113.${i}` }, payload: { uuid: `spoof-${i}` } })
    codes.push(res.statusCode)
  }
  assert.deepEqual(codes, [200, 200, 429])
  assert.equal(app.bridge.sessions.size, 2, 'the refused request opened no session')
})
