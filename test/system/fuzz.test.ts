import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { assistantPcm24k, callerPcm16k } from '../helpers/call-rig.js'
import { build } from '../helpers/build.js'
import { spawnServer, answer, dial, request, logLines } from '../helpers/process.js'
import { prng } from '../helpers/prng.js'
import { handshakeHeaders } from '../helpers/vonage-sign.js'
import { frame, maskKey, writeHeader, OP_BINARY, OP_TEXT, OP_PING, OP_CLOSE } from '../helpers/ws-frame.js'

/**
 * Random and mutated input against the real server process, while one good
 * call goes on: no crash, no unhandled rejection (the server would log a fatal
 * error and exit), every HTTP answer a clear one, and the good call still
 * served. The seed is printed; FUZZ_SEED=… replays a run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)

interface Route { path: string, methods: string[] }

/** Every route, from Fastify's own route tree. */
async function routes (): Promise<Route[]> {
  const { app } = await build({ after: () => {} } as never)
  const tree = app.printRoutes({ commonPrefix: false })
  await app.close()
  const out: Route[] = []
  const stack: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+) \(([^)]*)\)/.exec(line)
    if (m === null) continue
    const depth = m[1]!.length / 4
    stack.length = depth
    stack.push(m[2]!)
    const path = ('/' + stack.join('/')).replace(/\/+/g, '/')
    out.push({ path, methods: m[3]!.split(',').map(s => s.trim()) })
  }
  return out
}

test(`fuzz (seed ${SEED}): random requests and media frames; the server stays up, answers clearly, and keeps a good call going`, async (t) => {
  t.diagnostic(`FUZZ_SEED=${SEED}`)
  const rnd = prng(SEED)
  const int = (n: number): number => Math.floor(rnd() * n)
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, MEDIA_TOKEN_TTL_SECONDS: '5', LOG_LEVEL: 'warn', ANSWER_RATE_LIMIT_PER_MINUTE: '100000' })

  // The good call, talking through all of it.
  const goodNcco = await answer(srv.url, { uuid: 'good-call' })
  const goodConn = await fake.nextConnection()
  const good = await dial(srv.port, goodNcco)
  t.after(() => good.close())
  void good.stream(callerPcm16k, { loop: true })
  await waitFor(() => good.frames.length >= 50, 5000, 'the good call\'s greeting')

  // ---- HTTP: random methods, paths, queries, headers and bodies against every route
  const all = await routes()
  assert.ok(all.length >= 7, `routes found: ${all.map(r => r.path).join(' ')}`)
  const junk = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join('')
  const jsonish = (depth = 0): unknown => {
    switch (int(depth > 3 ? 5 : 8)) {
      case 0: return junk(int(40))
      case 1: return rnd() * 1e12 - 5e11
      case 2: return null
      case 3: return rnd() < 0.5
      case 4: return pick(['', '+818012345678', 'completed', 'failed', 'inbound', '__proto__', '{"a":1}', 'x'.repeat(5000)])
      case 5: return Array.from({ length: int(5) }, () => jsonish(depth + 1))
      default: return Object.fromEntries(Array.from({ length: int(6) }, () => [pick(['uuid', 'from', 'to', 'status', 'ctx', 'to_number', 'conversation_uuid', '__proto__', 'constructor', junk(8)]), jsonish(depth + 1)]))
    }
  }
  const bodies = [
    () => JSON.stringify(jsonish()),
    () => JSON.stringify({ uuid: junk(20), from: junk(12), to: junk(12), status: pick(['completed', 'answered', 'failed', junk(5)]) }),
    () => '{"uuid":' + junk(int(30)),
    () => randomBytes(int(2000)).toString('latin1'),
    () => '['.repeat(5000) + ']'.repeat(5000),
    () => '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}',
    () => 'x'.repeat(70 * 1024), // over the body limit
    () => '',
    () => new URLSearchParams({ uuid: junk(10), status: 'completed' }).toString()
  ]
  const contentTypes = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', junk(10), '']
  let requests = 0
  const problems: string[] = []
  for (const route of all) {
    for (let i = 0; i < 30; i++) {
      const method = rnd() < 0.8 ? pick(route.methods) : pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET', 'POST'])
      let path = route.path.replace('*', junk(int(20)).replace(/[?#% ]/g, '') || 'x')
      if (rnd() < 0.6) path += '?' + new URLSearchParams(Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['uuid', 'token', 'leg', 'call', 'status', junk(4)]), rnd() < 0.5 ? junk(int(30)) : 'media']))).toString()
      const headers: Record<string, string> = {}
      const ct = pick(contentTypes)
      if (ct !== '') headers['content-type'] = ct
      for (let h = int(4); h > 0; h--) headers[pick(['authorization', 'x-api-key', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'accept', 'x-' + junk(6).replace(/[^a-z]/gi, 'a')])] = pick(['Bearer ' + junk(40), 'eyJhbGciOiJIUzI1NiJ9.' + junk(30) + '.x', junk(int(60)).replace(/[^\x21-\x7e]/g, 'a'), '127.0.0.1, 10.0.0.1', 'https'])
      const body = method === 'GET' || method === 'HEAD' ? undefined : pick(bodies)()
      let res
      try {
        res = await request(srv.url, method, path, body, headers)
      } catch (err) {
        problems.push(`${method} ${path}: ${(err as Error).message}`)
        continue
      }
      requests++
      // 503 is an unsigned webhook (Vonage retries those) or a store not open yet: clear, with a message (a HEAD has no body).
      if (res.status >= 500 && !(res.status === 503 && (method === 'HEAD' || typeof res.json?.message === 'string'))) problems.push(`${method} ${path} → ${res.status} ${res.body.slice(0, 200)}`)
      if (res.status >= 400 && method !== 'HEAD' && res.status !== 405 && typeof res.json?.message !== 'string') problems.push(`${method} ${path} → ${res.status} without a JSON message: ${res.body.slice(0, 200)}`)
    }
  }
  // Broken HTTP on the wire.
  for (let i = 0; i < 30; i++) {
    const raw = pick([
      () => randomBytes(int(500)),
      () => Buffer.from(`POST /incoming-call HTTP/1.1\r\nHost: x\r\nContent-Length: ${int(100000)}\r\n\r\n{"uuid":`),
      () => Buffer.from(`GET /${junk(20)} HTTP/1.1\r\n${junk(30)}\r\n\r\n`),
      () => Buffer.from(`GET /media?token=${junk(40)} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${junk(10)}\r\n\r\n`),
      () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')
    ])()
    await new Promise<void>(resolve => {
      const s = net.connect(srv.port, '127.0.0.1', () => { s.end(raw) })
      s.on('data', () => {})
      s.on('error', () => resolve())
      s.on('close', () => resolve())
      s.setTimeout(2000, () => { s.destroy(); resolve() })
    })
  }

  // ---- the media socket: random frames and text from a real call's socket, and broken WebSocket framing
  const goodEvents = [
    { event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000' },
    { event: 'websocket:dtmf', digit: '5', duration: 260 },
    { event: 'websocket:cleared' },
    { event: 'websocket:notify', payload: { a: 1 } }
  ]
  const mutate = (o: Record<string, unknown>): string => {
    const m: Record<string, unknown> = { ...o }
    for (let k = int(3) + 1; k > 0; k--) m[pick([...Object.keys(o), junk(5)])] = jsonish()
    const text = JSON.stringify(m)
    return rnd() < 0.2 ? text.slice(0, int(text.length)) : text
  }
  let mediaSockets = 0
  for (let i = 0; i < 12; i++) {
    const ncco = await answer(srv.url, { uuid: `fuzz-media-${i}` })
    const uri = new URL(String(ncco.find(a => a.action === 'connect')!.endpoint[0].uri))
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      http.request({ host: '127.0.0.1', port: srv.port, path: uri.pathname + uri.search, agent: false, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...handshakeHeaders() } })
        .on('upgrade', (_res, s) => resolve(s)).on('response', r => reject(new Error(`upgrade ${r.statusCode}`))).on('error', reject).end()
    })
    mediaSockets++
    socket.on('error', () => {})
    socket.on('data', () => {})
    const closed = new Promise(resolve => socket.once('close', resolve))
    for (let k = 0; k < 60 && !socket.destroyed; k++) {
      const what = int(10)
      if (what < 3) socket.write(frame(OP_BINARY, randomBytes(pick([0, 1, 2, 319, 320, 639, 640, 641, 1280, 6400, int(9000)])), true))
      else if (what < 6) socket.write(frame(OP_TEXT, mutate(pick(goodEvents)), true))
      else if (what < 7) socket.write(frame(OP_TEXT, pick([junk(int(200)), 'null', '[]', '"x"', '1e999', '{"event":null}', 'x'.repeat(9000)]), true))
      else if (what < 8) socket.write(frame(OP_PING, randomBytes(int(125)), true))
      else if (what < 9) socket.write(frame(OP_BINARY, Buffer.from(callerPcm16k.buffer, callerPcm16k.byteOffset, 640), true))
      else if (i >= 8) {
        // Protocol errors end the connection: only on the last few sockets.
        const claims2GiB = Buffer.alloc(20)
        writeHeader(claims2GiB, 0, OP_BINARY, 0x7fffffff, maskKey())
        const kind = int(5)
        if (kind === 0) socket.write(frame(OP_TEXT, Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), true)) // invalid UTF-8
        else if (kind === 1) socket.write(frame(OP_BINARY, randomBytes(10), false)) // unmasked client frame
        else if (kind === 2) socket.write(claims2GiB) // a header that claims 2 GiB
        else if (kind === 3) socket.write(Buffer.from([0x70 | OP_TEXT, 0x80, 0, 0, 0, 0])) // reserved bits set
        else socket.write(frame(OP_CLOSE, randomBytes(int(40)), true))
      }
      if (k % 10 === 9) await new Promise(resolve => setTimeout(resolve, 5))
    }
    socket.destroy()
    await closed
  }

  // ---- the good call went on, and goes on
  assert.equal(srv.child.exitCode, null, 'the server is still running')
  assert.equal((await request(srv.url, 'GET', '/health')).status, 200)
  assert.equal(good.closedAt, null, 'the good call was not dropped')
  const heard = goodConn.audioSamples
  await waitFor(() => goodConn.audioSamples > heard + 24000 * 0.5, 5000, 'the good call\'s audio still reaches the model')
  const frames = good.frames.length
  await fake.respond(goodConn)
  await waitFor(() => good.frames.length >= frames + 50, 5000, 'a new answer reaches the good call')
  const log = logLines(srv.output())
  assert.deepEqual(log.filter(l => /fatal|uncaught|unhandled/i.test(String(l.msg))).map(l => l.msg), [], 'no fatal error, uncaught exception or unhandled rejection')
  assert.ok(!/unhandledRejection|UnhandledPromiseRejection|uncaughtException/.test(srv.output()))
  t.diagnostic(`${requests} HTTP requests over ${all.length} routes, 30 raw connections, ${mediaSockets} media sockets`)
  assert.deepEqual(problems, [], 'every request answered with a clear status')
})
