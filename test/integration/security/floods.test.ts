import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { networkInterfaces } from 'node:os'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { callRig, callerPcm16k } from '../../helpers/call-rig.js'
import { build } from '../../helpers/build.js'
import { rawHttp } from '../../helpers/raw-http.js'
import { freePort } from '../../fakes/server-process.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { embeddedDataDir } from '../records/store-backends.js'
import { MAX_LIVE_STREAMS } from '../../../routes/console.js'
import { IDLE_SOCKET_MS } from '../../../lib/security/connection-limits.js'

/* Issue #21: slow and flooding clients cost nothing for long; metrics stay on this machine; far dates are a 400. */

const CONSOLE_KEY = 'console-key-0123456789abcdef'

/** Resolves when every socket has closed, or rejects naming how many are still open after `ms`. */
async function allClosed (sockets: Socket[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${sockets.filter(s => !s.closed).length} of ${sockets.length} sockets still open after ${ms} ms (indexes ${sockets.flatMap((s, i) => s.closed ? [] : [i]).join(', ')})`)), ms)
  })
  try {
    await Promise.race([Promise.all(sockets.map(async s => { if (!s.closed) await once(s, 'close') })), deadline])
  } finally {
    clearTimeout(timer)
  }
}

test('40 slow bodies (Content-Length: 1000, one byte sent) and an idle keep-alive socket are dropped within 30 s; a call\'s media socket is not', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer({ uuid: 'long-call' })
  const call = await rig.dial(ncco)
  void call.stream(callerPcm16k, { loop: true })
  await waitFor(() => call.frames.length > 10, 5000, 'the call talking')

  const slow: Socket[] = []
  for (let i = 0; i < 40; i++) {
    const s = connect(rig.port, '127.0.0.1')
    s.on('error', () => {})
    s.on('data', () => {})
    await once(s, 'connect')
    s.write('POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{')
    slow.push(s)
  }
  // A keep-alive socket that made one request and then says nothing.
  const idle = connect(rig.port, '127.0.0.1')
  idle.on('error', () => {})
  const answered = new Promise<void>(resolve => idle.once('data', () => resolve()))
  await once(idle, 'connect')
  idle.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await answered
  // A socket that connects and never sends its headers.
  const silent = connect(rig.port, '127.0.0.1')
  silent.on('error', () => {})
  const started = performance.now()
  await allClosed([...slow, idle, silent], 30_000)
  t.diagnostic(`42 slow, idle or silent sockets closed after ${Math.round(performance.now() - started)} ms`)

  // The call outlived the request timeout and still talks.
  assert.ok(performance.now() - started >= IDLE_SOCKET_MS - 1000, 'the call outlived the idle-socket timeout')
  const frames = call.frames.length
  await waitFor(() => call.frames.length > frames + 10, 5000, 'the call still talking after the timeouts')
  assert.equal(rig.app.bridge.sessions.get('long-call')?.ended, false)
})

test('metrics listen on loopback by default: a scrape on 127.0.0.1 works, another interface of this machine is refused', async (t) => {
  const port = await freePort()
  const rig = await callRig(t, { METRICS_PORT: String(port) })
  assert.equal(rig.app.config.METRICS_HOST, '127.0.0.1')
  assert.ok(rig.logs.some(l => l.msg === 'metrics: GET /metrics on METRICS_HOST:METRICS_PORT' && l.metricsHost === '127.0.0.1'))
  const scrape = await rawHttp(port, { path: '/metrics' })
  assert.equal(scrape.status, 200)
  const lan = Object.values(networkInterfaces()).flat().find(i => i !== undefined && !i.internal && i.family === 'IPv4')
  if (lan === undefined) {
    t.diagnostic('no non-loopback IPv4 interface here: only the loopback scrape is checked')
    return
  }
  const s = connect(port, lan.address)
  const [err] = await once(s, 'error') as [NodeJS.ErrnoException]
  assert.equal(err.code, 'ECONNREFUSED', `metrics must not answer on ${lan.address}`)
})

test(`live view: 150 streams → ${MAX_LIVE_STREAMS} open, the rest 429; a closed stream frees its place`, async (t) => {
  const rig = await callRig(t, { CONSOLE_KEY, DATA_DIR: await embeddedDataDir(t) })
  assert.ok(await rig.app.callStore.opened !== null)
  const open = async (): Promise<IncomingMessage> => await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: rig.port, path: '/console/events', agent: false, headers: { accept: 'text/event-stream', authorization: `Bearer ${CONSOLE_KEY}` } }, resolve)
    req.on('error', reject)
    req.end()
  })
  const responses: IncomingMessage[] = []
  t.after(() => { for (const r of responses) r.destroy() })
  for (let i = 0; i < 150; i++) {
    const res = await open()
    responses.push(res)
    if (res.statusCode !== 200) res.resume()
  }
  const codes = responses.map(r => r.statusCode)
  assert.equal(codes.filter(c => c === 200).length, MAX_LIVE_STREAMS)
  assert.equal(codes.filter(c => c === 429).length, 150 - MAX_LIVE_STREAMS)
  assert.ok(!rig.logs.some(l => String(l.msg).includes('MaxListenersExceeded')))
  // One viewer leaves: the next one gets in.
  const first = responses.find(r => r.statusCode === 200)!
  const gone = once(first.socket, 'close')
  first.destroy()
  await gone
  // The server sees the close a moment later: ask again until it has (each try is a full request, no sleep).
  let next = 0
  for (let i = 0; i < 200 && next !== 200; i++) {
    const res = await open()
    responses.push(res)
    next = res.statusCode ?? 0
    if (next !== 200) res.resume()
  }
  assert.equal(next, 200, 'a place freed by the closed stream')
})

test('API dates outside the years 0001-9999 are a 400 naming the parameter; 9999-12-31 itself is fine', async (t) => {
  const { app } = await build(t, { CONSOLE_KEY, DATA_DIR: await embeddedDataDir(t) })
  assert.ok(await app.callStore.opened !== null)
  const get = async (q: string): Promise<{ statusCode: number, json: () => any }> => await app.inject({ url: `/api/calls?${q}`, headers: { authorization: `Bearer ${CONSOLE_KEY}` } })
  assert.equal((await get('to=9999-12-31')).statusCode, 200)
  assert.equal((await get('from=0001-01-01&to=9999-12-31')).statusCode, 200)
  for (const [q, name] of [['from=%2B275760-09-13T00:00:00.000Z', 'from'], ['to=%2B010000-01-01T00:00:00Z', 'to'], ['from=-000001-01-01T00:00:00Z', 'from'], ['to=0000-12-31', 'to']] as const) {
    const res = await get(q)
    assert.equal(res.statusCode, 400, q)
    assert.match(res.json().message, new RegExp(`query parameter "${name}": expected a date from 0001-01-01 to 9999-12-31`), q)
  }
  for (const format of ['csv', 'json']) assert.equal((await app.inject({ url: `/api/calls.${format}?from=%2B275760-09-13T00:00:00.000Z`, headers: { authorization: `Bearer ${CONSOLE_KEY}` } })).statusCode, 400)
})

test('at LOG_LEVEL=trace a malformed request is logged by its code only: no raw bytes, no headers, no key', async (t) => {
  const { app, logs } = await build(t, { LOG_LEVEL: 'trace', CONSOLE_KEY })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const s = connect(port, '127.0.0.1')
  s.on('data', () => {})
  await once(s, 'connect')
  // A valid bearer header, then a header line no parser accepts.
  s.end(`GET /api/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${CONSOLE_KEY}\r\nX-Bad\u0001: y\r\n\r\n`)
  await once(s, 'close')
  await waitFor(() => logs.some(l => l.msg === 'client error: connection closed'), 2000, 'the client error logged')
  const text = JSON.stringify(logs)
  assert.ok(!text.includes('rawPacket'), 'no raw packet')
  assert.ok(!text.includes('Bearer'), 'no header')
  assert.ok(!text.includes(Buffer.from(CONSOLE_KEY).toString('hex')) && !text.includes(CONSOLE_KEY), 'no key, in any form')
  const line = logs.find(l => l.msg === 'client error: connection closed')!
  assert.deepEqual(Object.keys(line).filter(k => !['level', 'time', 'pid', 'hostname', 'msg'].includes(k)).sort(), ['code', 'status'])
})
