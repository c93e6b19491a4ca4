import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { startServer } from '../fakes/server-process.js'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { answer, dial } from '../helpers/process.js'
import { callerPcm16k, assistantPcm24k } from '../helpers/call-rig.js'

// The real API is only reachable over TLS: the bridge's own frame reading and writing must work on a TLS socket too.
const certPath = resolve('test/fixtures/tls/cert.pem')
const tls = { key: readFileSync(resolve('test/fixtures/tls/key.pem')), cert: readFileSync(certPath) }

test('a call talks with a model served over wss://: audio both ways, barge-in, valid events', async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 2), tls })
  t.after(() => fake.close())
  assert.match(fake.baseUrl, /^https:/)
  const server = await startServer(t, { OPENAI_API_KEY: 'sk-test-tls-0123456789', SERVER_URL: 'https://bridge.example.test', OPENAI_BASE_URL: fake.baseUrl, NODE_EXTRA_CA_CERTS: certPath })

  const ncco = await answer(server.url, { uuid: 'tls-leg-1' })
  const conn = await fake.nextConnection()
  const client = await dial(server.port, ncco)
  t.after(() => client.close())
  const streaming = client.stream(callerPcm16k)

  await waitFor(() => client.frames.length >= 40, 5000, 'greeting audio over TLS')
  fake.speechStarted(conn)
  await waitFor(() => client.texts.some(m => m.msg.action === 'clear'), 2000, 'clear on barge-in')
  await waitFor(() => conn.events.some(e => e.type === 'conversation.item.truncate'), 2000, 'truncate')
  await waitFor(() => conn.audioSamples > 24000 * 2, 6000, 'caller speech at the model')
  assert.deepEqual(conn.invalid, [])
  for (const f of client.frames) assert.equal(f.bytes, 640)
  client.stop()
  await streaming
  await client.close()
  await waitFor(() => conn.closedAt !== null, 2000, 'upstream closed')
  await server.stop()
})

test('a model whose certificate is not trusted is not talked to: the call is ended, said in the log', async (t) => {
  const fake = await startFakeRealtime({ tls })
  t.after(() => fake.close())
  const server = await startServer(t, { OPENAI_API_KEY: 'sk-test-tls-0123456789', SERVER_URL: 'https://bridge.example.test', OPENAI_BASE_URL: fake.baseUrl })
  const client = await dial(server.port, await answer(server.url, { uuid: 'tls-leg-2' }))
  t.after(() => client.close())
  await waitFor(() => server.output().includes('the model could not be reached'), 8000, 'the failure in the log')
  assert.equal(fake.handshakes, 0)
  assert.match(server.output(), /"callId":"tls-leg-2"/)
  await server.stop()
})
