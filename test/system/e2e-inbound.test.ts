import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startServer } from '../fakes/server-process.js'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { VonageMediaClient } from '../fakes/vonage-media-client.js'
import { callerPcm16k, assistantPcm24k } from '../helpers/call-rig.js'
import { handshakeHeaders, vonageHeaders } from '../helpers/vonage-sign.js'

test('a call placed as Vonage places it talks with the model through the server started with npm start', async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 2) })
  t.after(() => fake.close())
  const server = await startServer(t, { OPENAI_API_KEY: 'sk-test-e2e-0123456789', SERVER_URL: 'https://bridge.example.test', OPENAI_BASE_URL: fake.baseUrl }, { npmStart: true })

  // 1. Vonage's answer webhook (POST JSON, as the README tells users to configure it).
  const answerBody = JSON.stringify({ uuid: 'e2e-leg-1', conversation_uuid: 'CON-e2e', from: '818012345678', to: '815031023332' })
  const res = await fetch(`${server.url}/incoming-call`, { method: 'POST', headers: vonageHeaders(answerBody), body: answerBody })
  assert.equal(res.status, 200)
  const ncco = await res.json() as Array<Record<string, any>>
  assert.equal(ncco[0]!.action, 'talk')
  const ep = ncco[1]!.endpoint[0]
  assert.equal(ep['content-type'], 'audio/l16;rate=16000')

  // 2. The NCCO's WebSocket, opened where Vonage would open it (TLS is Fly's or ngrok's job).
  const conn = await fake.nextConnection()
  const client = await VonageMediaClient.connect(ep.uri.replace('wss://bridge.example.test', `ws://127.0.0.1:${server.port}`), { headers: handshakeHeaders() })
  t.after(() => client.close())
  const streaming = client.stream(callerPcm16k)

  // 3. The assistant greets, the caller's speech reaches the model, the caller barges in, the model answers again.
  await waitFor(() => client.frames.length >= 40, 5000, 'greeting audio')
  fake.speechStarted(conn)
  await waitFor(() => client.texts.some(m => m.msg.action === 'clear'), 2000, 'clear on barge-in')
  await waitFor(() => conn.events.some(e => e.type === 'conversation.item.truncate'), 2000, 'truncate')
  const afterBarge = client.frames.length
  void fake.respond(conn, assistantPcm24k.subarray(0, 24000))
  await waitFor(() => client.frames.length >= afterBarge + 50, 5000, 'second answer')
  await waitFor(() => conn.audioSamples > 24000 * 3, 6000, 'caller speech at the model')
  assert.deepEqual(conn.invalid, [])
  for (const f of client.frames) assert.equal(f.bytes, 640)

  // 4. The caller hangs up: the model's socket closes, and the call is logged.
  client.stop()
  await streaming
  await client.close()
  await waitFor(() => conn.closedAt !== null, 1000, 'upstream closed')
  await waitFor(() => server.output().includes('"msg":"call ended"'), 2000, 'call record in the log')
  const record = JSON.parse(server.output().split('\n').find(l => l.includes('"msg":"call ended"'))!) as { call: Record<string, unknown> }
  assert.equal(record.call.callId, 'e2e-leg-1')
  assert.equal(record.call.from, '********5678')
  assert.equal(record.call.bargeIns, 1)
  assert.ok((record.call.assistantAudioMs as number) >= 1800)
  assert.ok((record.call.callerAudioMs as number) >= 3000)
  assert.equal(typeof record.call.connectToFirstAudioMs, 'number')
  assert.doesNotMatch(server.output(), /sk-test-e2e|8012345678/)
  // npm dies of the signal itself; what matters is that the server drains and every process is gone.
  await server.stop()
  assert.match(server.output(), /shutting down: no new calls/)
})
