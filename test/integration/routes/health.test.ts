import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build } from '../../helpers/build.js'

test('GET /health answers without touching Vonage or OpenAI', async (t) => {
  // Unroutable upstreams: a health check that reached them would fail or hang.
  const { app } = await build(t, { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', VONAGE_API_HOST: 'http://127.0.0.1:1' })
  const res = await app.inject({ method: 'GET', url: '/health' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'ok', calls: 0, draining: false })
})

test('GET / answers with where the webhooks are', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/' })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().answerUrl, '/incoming-call')
})

test('health reports draining once shutdown starts', async (t) => {
  const { app } = await build(t)
  await app.calls.drain(0)
  const res = await app.inject({ method: 'GET', url: '/health' })
  assert.equal(res.json().draining, true)
})
