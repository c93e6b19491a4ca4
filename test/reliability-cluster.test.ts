import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import WebSocket from 'ws'
import { startFakeRealtime, waitFor } from './fakes/realtime-server.js'
import { assistantPcm24k, callerPcm16k } from './call-helper.js'
import { spawnServer, answer, dial, request, logLines } from './reliability-helper.js'
import { mediaCallId } from '../lib/cluster.js'
import type { CallStats } from '../lib/call-session.js'
import type { VonageMediaClient } from './fakes/vonage-media-client.js'

const pidsOf = (out: string, msg: string, uuid?: string): number[] =>
  logLines(out).filter(l => l.msg === msg && (uuid === undefined || l.uuid === uuid || l.callId === uuid)).map(l => l.pid as number)

test('the primary reads the call id from a media URL to route it, and nothing from anything else', () => {
  const token = `${Buffer.from(JSON.stringify({ exp: 1, c: 'leg-1', d: 'inbound' })).toString('base64url')}.sig`
  assert.equal(mediaCallId(Buffer.from(`GET /media?token=${token} HTTP/1.1\r\nHost: x\r\n\r\n`)), 'leg-1')
  assert.equal(mediaCallId(Buffer.from(`GET /media?token=${encodeURIComponent(token)}&x=1 HTTP/1.1\r\n`)), 'leg-1')
  assert.equal(mediaCallId(Buffer.from('POST /incoming-call HTTP/1.1\r\n')), null)
  assert.equal(mediaCallId(Buffer.from('GET /media?token=junk HTTP/1.1\r\n')), null)
  assert.equal(mediaCallId(Buffer.from('GET /media HTTP/1.1\r\n')), null)
  assert.equal(mediaCallId(Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00])), null)
})

test('WEB_CONCURRENCY=2: both workers take calls, and each media socket reaches the worker that opened its model socket', async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, WEB_CONCURRENCY: '2' })
  const calls = 8
  const clients: VonageMediaClient[] = []
  for (let i = 0; i < calls; i++) clients.push(await dial(srv.port, await answer(srv.url, { uuid: `routed-${i}` })))
  t.after(async () => { await Promise.all(clients.map(async c => await c.close())) })
  for (const c of clients) void c.stream(callerPcm16k.subarray(0, 16000))
  await waitFor(() => clients.every(c => c.frames.length >= 50), 10_000, 'every greeting')
  await waitFor(() => fake.connections.every(c => c.audioSamples > 0), 10_000, 'every caller heard')
  assert.equal(fake.handshakes, calls, 'one model socket per call: none rebuilt on another worker')
  const out = srv.output()
  assert.equal(new Set(pidsOf(out, 'call answered')).size, 2, 'both workers answered calls')
  assert.ok(!out.includes('reached another worker'), 'no media socket had to be moved')
})

test('a media socket that lands on the other worker (a reused connection) still gets its call; the spare model socket is closed', async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, WEB_CONCURRENCY: '2' })
  const ncco = await answer(srv.url, { uuid: 'moved' })
  const owner = pidsOf(srv.output(), 'call answered', 'moved')[0]
  // A kept-alive connection whose first request went to the other worker, as a proxy's pooled one may have.
  let agent: http.Agent | null = null
  for (let i = 0; i < 10 && agent === null; i++) {
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const before = logLines(srv.output()).length
    await new Promise<void>((resolve, reject) => {
      http.request({ host: '127.0.0.1', port: srv.port, path: '/event', method: 'POST', agent: a, headers: { 'content-type': 'application/json' } }, res => { res.resume(); res.on('end', resolve) }).on('error', reject).end(JSON.stringify({ uuid: `probe-${i}`, status: 'ringing' }))
    })
    await waitFor(() => logLines(srv.output()).slice(before).some(l => l.msg === 'vonage event'), 2000, 'event logged')
    const pid = logLines(srv.output()).slice(before).find(l => l.msg === 'vonage event')!.pid
    if (pid !== owner) agent = a
    else a.destroy()
  }
  assert.ok(agent !== null, 'found a connection on the other worker')
  t.after(() => agent!.destroy())
  const uri = String(ncco.find(a => a.action === 'connect')!.endpoint[0].uri).replace(/^wss:\/\/[^/]+/, `ws://127.0.0.1:${srv.port}`)
  const ws = new WebSocket(uri, { agent: agent!, perMessageDeflate: false })
  t.after(() => ws.terminate())
  let frames = 0
  ws.on('message', (_d, isBinary) => { if (isBinary) frames++ })
  await once(ws, 'open')
  ws.send(JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000' }))
  await waitFor(() => frames >= 50, 10_000, 'the greeting, from the rebuilt session')
  assert.equal(fake.handshakes, 2, 'the other worker opened its own model socket')
  await waitFor(() => fake.connections[0]!.closedAt !== null, 5000, 'the first worker closed its unused one')
  assert.equal(fake.connections[1]!.closedAt, null)
  assert.ok(srv.output().includes('reached another worker'))
})

test('a call event that lands on the other worker still ends the call (prewarmed model socket closed)', async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 2400) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, WEB_CONCURRENCY: '2' })
  const uuids = Array.from({ length: 6 }, (_, i) => `hangup-${i}`)
  for (const uuid of uuids) await answer(srv.url, { uuid })
  await waitFor(() => fake.connections.length === uuids.length, 5000, 'every model socket open')
  // The caller hangs up during the greeting: Vonage posts "completed"; round-robin sends half of them to the other worker.
  for (const uuid of uuids) {
    const res = await request(srv.url, 'POST', '/event', JSON.stringify({ uuid, status: 'completed', direction: 'inbound' }), { 'content-type': 'application/json' })
    assert.equal(res.status, 204)
  }
  await waitFor(() => fake.connections.every(c => c.closedAt !== null), 5000, 'every prewarmed model socket closed')
  const ended = logLines(srv.output()).filter(l => l.msg === 'call ended').map(l => l.call as CallStats)
  assert.deepEqual(ended.map(c => c.callId).sort(), [...uuids].sort())
  assert.ok(ended.every(c => c.reason === 'caller-hangup'))
  const eventPids = new Set(pidsOf(srv.output(), 'vonage event'))
  assert.equal(eventPids.size, 2, 'the events were spread over both workers')
})

test('MAX_CONCURRENT_CALLS is the total across workers: past it the caller hears the busy message', async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 2400) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, WEB_CONCURRENCY: '2', MAX_CONCURRENT_CALLS: '4' })
  const nccos = []
  for (let i = 0; i < 8; i++) nccos.push(await answer(srv.url, { uuid: `cap-${i}` }))
  const admitted = nccos.filter(n => n.some(a => a.action === 'connect'))
  const refused = nccos.filter(n => !n.some(a => a.action === 'connect'))
  assert.ok(admitted.length <= 4, `${admitted.length} calls admitted for a limit of 4`)
  assert.ok(admitted.length >= 3, `round-robin fills both workers (${admitted.length} admitted)`)
  for (const n of refused) {
    assert.deepEqual(n.map(a => a.action), ['talk'])
    assert.match(n[0].text, /混み合って/)
  }
  assert.equal(fake.handshakes, admitted.length, 'no model socket for a refused call')
})

test('WEB_CONCURRENCY=2 and SIGTERM: every worker drains its calls, none is cut before the drain time, the primary exits 0', async (t) => {
  const DRAIN_S = 2
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, WEB_CONCURRENCY: '2', SHUTDOWN_DRAIN_SECONDS: String(DRAIN_S) })
  const clients: VonageMediaClient[] = []
  for (let i = 0; i < 6; i++) clients.push(await dial(srv.port, await answer(srv.url, { uuid: `drain-${i}` })))
  t.after(async () => { await Promise.all(clients.map(async c => await c.close())) })
  for (const c of clients) void c.stream(callerPcm16k, { loop: true })
  await waitFor(() => clients.every(c => c.frames.length >= 20), 10_000, 'every call talking')
  const sigterm = performance.now()
  srv.child.kill('SIGTERM')
  await waitFor(() => logLines(srv.output()).filter(l => l.msg === 'shutting down: no new calls, waiting for calls in progress').length === 2, 5000, 'both workers draining')
  const late = await request(srv.url, 'POST', '/incoming-call', JSON.stringify({ uuid: 'too-late', from: '818011112222', to: '815031023332' }), { 'content-type': 'application/json' })
  assert.deepEqual(late.json.map((a: { action: string }) => a.action), ['talk'], 'a new call hears the closing message')
  assert.equal(await srv.exited, 0)
  for (const c of clients) {
    assert.notEqual(c.closedAt, null)
    assert.ok(c.closedAt! - sigterm >= DRAIN_S * 1000, `a call was cut ${(c.closedAt! - sigterm).toFixed(0)} ms after SIGTERM`)
  }
})
