import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { callRig, callerPcm16k, assistantPcm24k } from '../helpers/call-rig.js'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { spawnServer, answer, dial, request, logLines } from '../helpers/process.js'
import { handshakeHeaders, vonageHeaders } from '../helpers/vonage-sign.js'
import { CallSession, type CallStats, type MediaSocket, type SessionLogger } from '../../lib/call/session.js'
import { Pacer } from '../../lib/call/pacer.js'
import { realtimeEndpoint } from '../../lib/realtime/endpoint.js'
import { frame, OP_BINARY, OP_TEXT } from '../helpers/ws-frame.js'
import { RealtimeEngine } from '../../lib/realtime/realtime-engine.js'

const ended = (logs: Array<Record<string, unknown>>, callId?: string): CallStats | undefined =>
  logs.filter(l => l.msg === 'call ended').map(l => l.call as CallStats).find(c => callId === undefined || c.callId === callId)

test('upstream dropped mid-response (no close frame): apology, clean end; another call carries on', async (t) => {
  // Deltas paced at real time, so the drop lands while the answer is still streaming.
  const rig = await callRig(t, {}, { answer: assistantPcm24k.subarray(0, 24000 * 4), burst: false, deltaMs: 100 })
  const victimNcco = await rig.answer({ uuid: 'victim' })
  const victimConn = await rig.fake.nextConnection()
  const otherNcco = await rig.answer({ uuid: 'bystander' })
  await rig.fake.nextConnection()
  const victim = await rig.dial(victimNcco)
  const other = await rig.dial(otherNcco)
  await waitFor(() => victim.frames.length >= 30, 5000, 'the answer streaming')
  victimConn.ws.terminate() // TCP reset in the middle of the response
  await waitFor(() => victim.closedAt !== null, 15_000, 'the victim call ended')
  assert.equal(victim.closeCode, 1000)
  assert.equal(ended(rig.logs, 'victim')?.reason, 'upstream-closed')
  // The bystander's answer kept coming the whole time, and still does.
  const before = other.frames.length
  await waitFor(() => other.frames.length > before + 20 || other.frames.length >= 200, 5000, 'the other call still gets audio')
  assert.equal(other.closedAt, null)
  assert.equal(rig.app.calls.size, 1)
})

test('upstream never answers the handshake: timed out, retried once, apology, clean end', async (t) => {
  const rig = await callRig(t, {}, { refuse: 'hang' })
  const client = await rig.dial(await rig.answer({ uuid: 'hung' }))
  await waitFor(() => client.closedAt !== null, 20_000, 'call ended')
  assert.equal(rig.fake.handshakes, 2, 'one attempt and one retry, each given up on')
  assert.ok(client.receivedMs > 3000, `the apology played (${client.receivedMs} ms)`)
  assert.equal(client.closeCode, 1000)
  assert.equal(ended(rig.logs, 'hung')?.reason, 'upstream-failed')
  assert.equal(rig.app.calls.size, 0)
})

test('upstream error events (rate limit, invalid request, server error, malformed) are logged and the call goes on', async (t) => {
  const rig = await callRig(t, {}, { answer: assistantPcm24k.subarray(0, 24000) })
  const ncco = await rig.answer({ uuid: 'errors' })
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  await waitFor(() => client.frames.length >= 50, 5000, 'greeting')
  const errors = [
    { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'Rate limit reached for gpt-realtime' },
    { type: 'invalid_request_error', code: 'invalid_value', message: 'Invalid value', param: 'audio_end_ms' },
    { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy' },
    { type: 'server_error', message: 'The server had an error' }
  ]
  for (const error of errors) rig.fake.send(conn, { type: 'error', error })
  // Malformed ones, straight onto the socket.
  for (const raw of ['{"type":"error"}', '{"type":"error","error":null}', '{"type":"error","error":"text"}', '{"type":"error","error":{"message":{"deep":[1,2,3]}}}']) conn.ws.send(raw)
  // The call is still alive both ways: caller audio reaches the model, a new answer reaches the caller.
  const samples = conn.audioSamples
  void client.stream(callerPcm16k.subarray(0, 16000))
  await waitFor(() => conn.audioSamples >= samples + 24000 * 0.9, 5000, 'caller audio still flows')
  const frames = client.frames.length
  await rig.fake.respond(conn)
  await waitFor(() => client.frames.length >= frames + 50, 5000, 'a new answer')
  await client.close()
  await waitFor(() => ended(rig.logs, 'errors') !== undefined, 2000, 'record')
  assert.equal(ended(rig.logs, 'errors')!.upstreamErrors, errors.length + 4)
  assert.equal(rig.logs.filter(l => l.msg === 'realtime error event').length, errors.length + 4)
  assert.ok(rig.logs.some(l => l.msg === 'realtime error event' && l.code === 'rate_limit_exceeded'))
})

/** A WebSocket handshake on a bare TCP socket, so a test can write broken frames. */
async function rawMedia (port: number, path: string): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    // Signed as Vonage signs the handshake (the rig's apps check it).
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...handshakeHeaders() } })
    req.on('upgrade', (res, socket) => res.statusCode === 101 ? resolve(socket) : reject(new Error(String(res.statusCode))))
    req.on('response', res => reject(new Error(`upgrade refused: ${res.statusCode}`)))
    req.on('error', reject)
    req.end()
  })
}

test('Vonage closing mid-frame: the call ends, its model socket closes, the next call is served', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer({ uuid: 'cut' })
  const conn = await rig.fake.nextConnection()
  const uri = new URL(String(ncco.find(a => a.action === 'connect')!.endpoint[0].uri))
  const socket = await rawMedia(rig.port, uri.pathname + uri.search)
  socket.on('error', () => {})
  socket.write(frame(OP_TEXT, '{"event":"websocket:connected","content-type":"audio/l16;rate=16000"}', true))
  const audio = frame(OP_BINARY, Buffer.from(callerPcm16k.buffer, callerPcm16k.byteOffset, 640), true)
  for (let i = 0; i < 5; i++) socket.write(audio)
  await waitFor(() => conn.audioSamples > 0, 3000, 'caller audio at the model')
  // Half a frame — the header promises 640 bytes, 100 arrive — then the line drops.
  socket.end(audio.subarray(0, 108))
  await waitFor(() => conn.closedAt !== null, 3000, 'model socket closed')
  await waitFor(() => ended(rig.logs, 'cut') !== undefined, 2000, 'call ended')
  assert.equal(ended(rig.logs, 'cut')!.reason, 'caller-hangup')
  assert.equal(rig.app.calls.size, 0)
  assert.deepEqual(rig.logs.filter(l => (l.level as number) >= 50), [], 'no error logged')
  const next = await rig.dial(await rig.answer())
  await waitFor(() => next.frames.length >= 20, 3000, 'the next call gets its greeting')
})

test('Vonage sending a broken frame: the call ends and not a byte of the audio behind it reaches the model', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer({ uuid: 'broken' })
  const conn = await rig.fake.nextConnection()
  const uri = new URL(String(ncco.find(a => a.action === 'connect')!.endpoint[0].uri))
  const socket = await rawMedia(rig.port, uri.pathname + uri.search)
  socket.on('error', () => {})
  socket.write(frame(OP_TEXT, '{"event":"websocket:connected","content-type":"audio/l16;rate=16000"}', true))
  const audio = (): Buffer => frame(OP_BINARY, Buffer.from(callerPcm16k.buffer, callerPcm16k.byteOffset, 640), true)
  for (let i = 0; i < 5; i++) socket.write(audio())
  await waitFor(() => conn.audioSamples >= 5 * 480, 3000, 'caller audio at the model')
  const before = conn.audioSamples
  // A frame with a reserved opcode (a protocol error), then good audio in the same write.
  socket.write(Buffer.concat([frame(3, Buffer.alloc(4), true), audio(), audio()]))
  await waitFor(() => ended(rig.logs, 'broken') !== undefined, 3000, 'call ended')
  await waitFor(() => conn.closedAt !== null, 3000, 'model socket closed')
  assert.equal(conn.audioSamples, before, 'no audio after the protocol error')
  assert.equal(ended(rig.logs, 'broken')!.reason, 'caller-hangup')
  assert.deepEqual(rig.logs.filter(l => (l.level as number) >= 50), [], 'no error logged')
  const warned = rig.logs.filter(l => l.msg === 'media socket error: closing it')
  assert.equal(warned.length, 1)
  assert.equal(warned[0]!.level, 40)
  assert.equal(warned[0]!.code, 'WS_ERR_INVALID_OPCODE')
  assert.ok(!JSON.stringify(warned[0]).includes('"stack"'), 'no stack')
})

function quietLog (): SessionLogger & { lines: Array<{ level: string, obj: object, msg?: string }> } {
  const lines: Array<{ level: string, obj: object, msg?: string }> = []
  const at = (level: string) => (obj: object, msg?: string): void => { lines.push({ level, obj, msg }) }
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') }
}

/**
 * A session whose Vonage side is `media`. (Over a real loopback socket the
 * kernel alone would absorb ~4 MB — 80 s of audio — before ws buffered a
 * byte, so the stalled reader is modelled: everything sent stays buffered.)
 */
async function slowConsumerSession (t: TestContext, media: MediaSocket, maxBufferedBytes: number, rate: 16000 | 24000 = 16000): Promise<{ session: CallSession, stats: Promise<CallStats>, closed: () => boolean }> {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 7) })
  t.after(() => fake.close())
  const pacer = new Pacer()
  const engine = new RealtimeEngine({
    endpoint: realtimeEndpoint({ OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'gpt-realtime', OPENAI_BASE_URL: fake.baseUrl, AZURE_OPENAI_ENDPOINT: '', OPENAI_API_VERSION: '' }),
    sessionUpdate: () => ({ type: 'session.update', session: { type: 'realtime' } })
  })
  const session = new CallSession({
    id: 'slow',
    call: { direction: 'inbound' },
    rate,
    leadMs: 100,
    engine,
    greetEarly: true,
    pacer,
    log: quietLog(),
    apology: new Int16Array(2400),
    mediaWaitMs: 10_000,
    maxCallMs: 60_000,
    maxBufferedBytes
  })
  t.after(() => session.end('shutdown'))
  const stats = new Promise<CallStats>(resolve => session.once('end', resolve))
  const conn = await fake.nextConnection()
  // The whole 7 s answer is queued before the media comes (the fake sends it in one burst).
  await new Promise<void>(resolve => engine.on('audio-done', () => resolve()))
  session.attachMedia(media)
  return { session, stats, closed: () => conn.closedAt !== null }
}

test('a Vonage that stops reading: the call ends once the backlog passes maxBufferedBytes; memory stays bounded', async (t) => {
  // A peer that never reads: everything sent stays buffered.
  let buffered = 0
  let peak = 0
  let closed: [number | undefined, string | undefined] | null = null
  const media: MediaSocket = {
    send: (d) => { buffered += typeof d === 'string' ? Buffer.byteLength(d) : d.length; peak = Math.max(peak, buffered) },
    close: (code, reason) => { closed = [code, reason] },
    get bufferedAmount () { return buffered }
  }
  const max = 16 * 1024
  const { stats, closed: upstreamClosed } = await slowConsumerSession(t, media, max)
  const s = await stats
  assert.equal(s.reason, 'slow-consumer')
  assert.deepEqual(closed, [1000, 'slow-consumer'])
  // Paced sending: the backlog passes the limit by at most the frames of one beat.
  assert.ok(peak <= max + 5 * 640, `peak backlog ${peak} bytes for a limit of ${max}`)
  await waitFor(upstreamClosed, 2000, 'model socket closed')
})

test('SIGTERM during 20 live calls: new calls hear the closing message, live ones are not cut before the drain time, then the process exits 0', async (t) => {
  const DRAIN_S = 2
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 2) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, SHUTDOWN_DRAIN_SECONDS: String(DRAIN_S) })
  const clients = await Promise.all(Array.from({ length: 20 }, async () => await dial(srv.port, await answer(srv.url))))
  t.after(async () => { await Promise.all(clients.map(async c => await c.close())) })
  for (const c of clients) void c.stream(callerPcm16k, { loop: true })
  await waitFor(() => clients.every(c => c.frames.length >= 10), 10_000, 'every call talking')
  const sigterm = performance.now()
  srv.child.kill('SIGTERM')
  await waitFor(() => srv.output().includes('shutting down'), 5000, 'drain started')
  // Half the callers finish their calls during the drain.
  const leaving = clients.slice(0, 10)
  await Promise.all(leaving.map(async c => await c.close()))
  const lateBody = JSON.stringify({ uuid: 'too-late', from: '818011112222', to: '815031023332' })
  const late = await request(srv.url, 'POST', '/incoming-call', lateBody, vonageHeaders(lateBody))
  assert.equal(late.status, 200)
  assert.deepEqual(late.json.map((a: { action: string }) => a.action), ['talk'], 'a new call hears a talk, not a connect')
  assert.match(late.json[0].text, /メンテナンス/)
  const code = await srv.exited
  assert.equal(code, 0, 'clean exit')
  const staying = clients.slice(10)
  for (const c of staying) {
    assert.notEqual(c.closedAt, null, 'the server closed the call at the end of the drain')
    assert.ok(c.closedAt! - sigterm >= DRAIN_S * 1000, `a call was cut ${(c.closedAt! - sigterm).toFixed(0)} ms after SIGTERM, before the ${DRAIN_S} s drain`)
  }
  const records = logLines(srv.output()).filter(l => l.msg === 'call ended').map(l => l.call as CallStats)
  assert.equal(records.filter(r => r.reason === 'caller-hangup').length, 10)
  assert.equal(records.filter(r => r.reason === 'shutdown').length, 10)
  assert.equal(fake.connections.filter(c => c.closedAt === null).length, 0, 'every model socket closed')
})
