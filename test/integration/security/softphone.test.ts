import { test } from 'node:test'
import { connect } from 'node:net'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { buildApp } from '../../../app.js'
import { ConfigError } from '../../../lib/config/schema.js'
import { isLocalRequest, isLoopbackHost, keyMatches } from '../../../lib/security/softphone-access.js'
import { transcriptMessage } from '../../../lib/call/softphone-transcript.js'
import { baseEnv, build } from '../../helpers/build.js'
import { callRig, callerSpeech16k } from '../../helpers/call-rig.js'
import { waitFor, type FakeConnection } from '../../fakes/realtime-server.js'
import { VonageMediaClient } from '../../fakes/vonage-media-client.js'

const KEY = 'k3y-0123456789abcdef'
const REMOTE = '203.0.113.7'

interface Req { url?: string, method?: 'GET' | 'POST', remote?: string, host?: string, headers?: Record<string, string> }

async function hit (app: Awaited<ReturnType<typeof build>>['app'], r: Req): Promise<{ status: number, body: string, headers: Record<string, unknown> }> {
  const res = await app.inject({
    method: r.method ?? 'GET',
    url: r.url ?? '/softphone',
    remoteAddress: r.remote ?? '127.0.0.1',
    headers: { host: r.host ?? (r.remote === undefined ? 'localhost:3000' : 'bridge.example.test'), ...r.headers }
  })
  return { status: res.statusCode, body: res.body, headers: res.headers }
}

test('local requests: loopback peer, loopback Host, no proxy in between', () => {
  const local = { peer: '127.0.0.1', host: 'localhost:3000', headers: {}, httpVersion: '1.1' }
  assert.equal(isLocalRequest(local), true)
  assert.equal(isLocalRequest({ ...local, peer: '::1', host: '[::1]:3000' }), true)
  assert.equal(isLocalRequest({ ...local, peer: '::ffff:127.0.0.1', host: '127.0.0.1' }), true)
  assert.equal(isLocalRequest({ ...local, peer: '192.168.1.20' }), false, 'LAN peer')
  assert.equal(isLocalRequest({ ...local, peer: undefined }), false)
  assert.equal(isLocalRequest({ ...local, host: 'abcd.ngrok-free.app' }), false, 'tunnel that keeps its host name')
  assert.equal(isLocalRequest({ ...local, host: 'rebind.attacker.example:3000' }), false, 'DNS rebinding')
  assert.equal(isLocalRequest({ ...local, headers: { 'x-forwarded-for': '198.51.100.1' } }), false, 'tunnel that rewrites Host')
  assert.equal(isLocalRequest({ ...local, headers: { forwarded: 'for=198.51.100.1' } }), false)
  for (const h of ['via', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'fly-client-ip', 'X-Forwarded-Server']) {
    assert.equal(isLocalRequest({ ...local, headers: { [h]: '1.1 proxy' } }), false, `${h} alone means a proxy`)
  }
  assert.equal(isLocalRequest({ ...local, httpVersion: '1.0' }), false, 'nginx\'s plain proxy_pass speaks HTTP/1.0 upstream')
  assert.equal(isLocalRequest({ ...local, httpVersion: '1.1' }), true)
  assert.equal(isLoopbackHost('localhost.attacker.example'), false)
  assert.equal(isLoopbackHost('127.0.0.1.nip.io'), false)
})

test('key comparison', () => {
  assert.equal(keyMatches(KEY, KEY), true)
  assert.equal(keyMatches(KEY.slice(0, -1), KEY), false)
  assert.equal(keyMatches(`${KEY}x`, KEY), false)
  assert.equal(keyMatches(undefined, KEY), false)
  assert.equal(keyMatches('', ''), false, 'no key configured never matches')
})

test('default (auto): open to a browser on this machine, even when listening on 0.0.0.0', async (t) => {
  const { app } = await build(t)
  assert.equal(app.config.HOST, '0.0.0.0')
  const page = await hit(app, {})
  assert.equal(page.status, 200)
  assert.match(String(page.headers['content-type']), /^text\/html/)
  assert.match(page.body, /id="call"/)
  assert.equal(page.headers['referrer-policy'], 'no-referrer')
  assert.match(String(page.headers['content-security-policy']), /connect-src 'self' ws:\/\/localhost:3000 wss:\/\/localhost:3000;/)
  assert.equal((await hit(app, { url: '/softphone/softphone.js' })).status, 200)
  assert.equal((await hit(app, { url: '/softphone/audio-worklet.js' })).status, 200)
  assert.equal((await hit(app, { url: '/softphone/../softphone.html' })).status, 404, 'the page is only served by its gated route')

  const call = await hit(app, { method: 'POST', url: '/softphone/call', headers: { origin: 'http://localhost:3000' } })
  assert.equal(call.status, 200)
  const body = JSON.parse(call.body) as { id: string, wsUrl: string, rate: number }
  assert.match(body.id, /^[0-9a-f-]{36}$/)
  assert.equal(body.rate, 16000)
  const url = new URL(body.wsUrl)
  assert.equal(`${url.protocol}//${url.host}${url.pathname}`, 'ws://localhost:3000/media')
  const token = app.mediaTokens.verify(url.searchParams.get('token')!)
  assert.ok(token.ok)
  assert.equal(token.claims.c, body.id)
  assert.equal(app.bridge.sessions.get(body.id)?.call.direction, 'softphone')
})

test('auto without a key: off for other machines and for anything through a proxy or tunnel, with a message saying how to turn it on', async (t) => {
  const { app } = await build(t)
  for (const r of [
    { remote: REMOTE },
    { headers: { 'x-forwarded-for': '198.51.100.1' } },
    { host: 'abcd.ngrok-free.app' }
  ] satisfies Req[]) {
    const page = await hit(app, r)
    assert.equal(page.status, 404, JSON.stringify(r))
    assert.match(JSON.parse(page.body).message, /SOFTPHONE_KEY/)
    assert.equal((await hit(app, { ...r, method: 'POST', url: '/softphone/call' })).status, 404)
    assert.equal((await hit(app, { ...r, url: '/softphone/softphone.js' })).status, 404)
  }
  assert.equal(app.bridge.sessions.size, 0, 'no model session was started')
})

test('SOFTPHONE_KEY: every request needs it (page: ?key=, call: X-Softphone-Key), this machine\'s too', async (t) => {
  const { app } = await build(t, { SOFTPHONE_KEY: KEY })
  assert.equal((await hit(app, { remote: REMOTE })).status, 401)
  assert.equal((await hit(app, { remote: REMOTE, url: '/softphone?key=wrong-0123456789abcdef' })).status, 401)
  const page = await hit(app, { remote: REMOTE, url: `/softphone?key=${KEY}` })
  assert.equal(page.status, 200)
  assert.equal((await hit(app, { remote: REMOTE, url: '/softphone/softphone.js' })).status, 200, 'static code holds no secret')

  const post = { remote: REMOTE, method: 'POST', url: '/softphone/call' } as const
  const missing = await hit(app, post)
  assert.equal(missing.status, 401)
  assert.match(JSON.parse(missing.body).message, /key/)
  assert.equal((await hit(app, { ...post, headers: { 'x-softphone-key': 'wrong-0123456789abcdef' } })).status, 401)
  assert.equal((await hit(app, { ...post, url: `/softphone/call?key=${KEY}` })).status, 401, 'the call endpoint takes the header only')
  assert.equal(app.bridge.sessions.size, 0)
  const ok = await hit(app, { ...post, headers: { 'x-softphone-key': KEY } })
  assert.equal(ok.status, 200)
  assert.match(JSON.parse(ok.body).wsUrl, /^ws:\/\/bridge\.example\.test\/media\?token=/)
  assert.equal((await hit(app, { method: 'POST', url: '/softphone/call' })).status, 401, 'once a key is set, this machine needs it too')
  assert.equal((await hit(app, { method: 'POST', url: '/softphone/call', headers: { 'x-softphone-key': KEY } })).status, 200)
})

test('SOFTPHONE_ENABLED=true opens it to anyone; false turns it off even locally', async (t) => {
  const open = await build(t, { SOFTPHONE_ENABLED: 'true' })
  assert.equal((await hit(open.app, { remote: REMOTE })).status, 200)
  assert.equal((await hit(open.app, { remote: REMOTE, method: 'POST', url: '/softphone/call' })).status, 200)
  const off = await build(t, { SOFTPHONE_ENABLED: 'false', SOFTPHONE_KEY: KEY })
  const page = await hit(off.app, { url: `/softphone?key=${KEY}` })
  assert.equal(page.status, 404)
  assert.match(JSON.parse(page.body).message, /SOFTPHONE_ENABLED=false/)
  assert.equal((await hit(off.app, { method: 'POST', url: '/softphone/call', headers: { 'x-softphone-key': KEY } })).status, 404)
  assert.equal((await hit(off.app, { url: '/softphone/softphone.js' })).status, 404)
})

test('a cross-site POST is refused before any model session starts', async (t) => {
  const { app } = await build(t)
  const res = await hit(app, { method: 'POST', url: '/softphone/call', headers: { origin: 'https://evil.example' } })
  assert.equal(res.status, 403)
  assert.equal((await hit(app, { method: 'POST', url: '/softphone/call', headers: { origin: 'null' } })).status, 403)
  assert.equal(app.bridge.sessions.size, 0)
})

test('a short SOFTPHONE_KEY and an unknown SOFTPHONE_ENABLED are configuration errors', async () => {
  for (const [env, re] of [
    [{ SOFTPHONE_KEY: 'short' }, /^SOFTPHONE_KEY is too short \(5 characters\)/],
    [{ SOFTPHONE_ENABLED: 'yes' }, /^SOFTPHONE_ENABLED .*auto/]
  ] as const) {
    const err = await buildApp({ config: { data: { ...baseEnv, ...env }, env: false, dotenv: false }, logger: pino({ level: 'silent' }) }).catch((e: unknown) => e)
    assert.ok(err instanceof ConfigError, JSON.stringify(env))
    assert.match(err.problems[0]!, re)
  }
})

test('transcript messages: a fragment, a final line, nothing without an item', () => {
  assert.deepEqual(transcriptMessage('assistant', 'i1', 'こん', false), { event: 'transcript', role: 'assistant', item: 'i1', text: 'こん', final: false })
  assert.deepEqual(transcriptMessage('caller', 'u1', 'もしもし', true), { event: 'transcript', role: 'caller', item: 'u1', text: 'もしもし', final: true })
  assert.equal(transcriptMessage('assistant', '', 'no item', true), null)
})

function callerTranscript (rig: Awaited<ReturnType<typeof callRig>>, c: FakeConnection, itemId: string, speechStarted = true): void {
  if (speechStarted) rig.fake.send(c, { type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: itemId })
  rig.fake.send(c, { type: 'conversation.item.input_audio_transcription.delta', item_id: itemId, content_index: 0, delta: 'もしもし' })
  rig.fake.send(c, { type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript: 'もしもし、予約です。', usage: { type: 'duration', seconds: 2 } })
}

const transcripts = (client: VonageMediaClient): Array<Record<string, unknown>> => client.texts.map(t => t.msg).filter(m => m.event === 'transcript')

test('a softphone token opens /media without a Vonage signature and even when signatures are required, and gets the live transcript', async (t) => {
  const rig = await callRig(t, { VONAGE_SIGNATURE_SECRET: 'sig-secret-0123456789' }, { transcript: 'こんにちは。チャッピーです。', transcriptDeltas: true })

  const upstream = rig.fake.nextConnection()
  const res = await rig.app.inject({ method: 'POST', url: '/softphone/call', headers: { host: `127.0.0.1:${rig.port}` } })
  assert.equal(res.statusCode, 200)
  const { wsUrl, rate } = res.json() as { wsUrl: string, rate: 16000 }
  const c = await upstream
  // The greeting's transcript is done before the browser connects: it must wait for the socket, not be lost.
  await waitFor(() => c.events.some(e => e.type === 'response.create'), 2000, 'greeting requested')
  const phone = await VonageMediaClient.connect(wsUrl, { rate })
  t.after(() => phone.close())
  await waitFor(() => transcripts(phone).some(m => m.final === true), 3000, 'assistant transcript')
  const assistant = transcripts(phone).filter(m => m.role === 'assistant')
  assert.equal(assistant.filter(m => m.final === false).map(m => m.text).join(''), 'こんにちは。チャッピーです。', 'deltas add up')
  assert.deepEqual(assistant.at(-1), { event: 'transcript', role: 'assistant', item: c.lastItemId, text: 'こんにちは。チャッピーです。', final: true })

  callerTranscript(rig, c, 'item_caller_1')
  await waitFor(() => transcripts(phone).some(m => m.role === 'caller' && m.final === true), 2000, 'caller transcript')
  assert.deepEqual(transcripts(phone).filter(m => m.role === 'caller').map(m => [m.text, m.final]), [['', false], ['もしもし', false], ['もしもし、予約です。', true]])
  assert.match(String((c.events.find(e => e.type === 'session.update') as unknown as { session: { instructions: string } }).session.instructions), /ブラウザのテスト通話/)
  assert.deepEqual(rig.fake.selfInvalid, [])
})

test('a Vonage call gets no transcript messages', async (t) => {
  const rig = await callRig(t, {}, { transcriptDeltas: true })
  const upstream = rig.fake.nextConnection()
  const ncco = await rig.answer()
  const c = await upstream
  const vonage = await rig.dial(ncco)
  await waitFor(() => vonage.frames.length >= 5, 3000, 'greeting audio')
  callerTranscript(rig, c, 'item_caller_2', false)
  // Events are handled in order: had the transcript been relayed, it would arrive before this clear.
  // (The caller talks on, so the bridge takes it for an interruption; no 'turn' message reaches Vonage either.)
  void vonage.stream(callerSpeech16k)
  rig.fake.send(c, { type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'item_caller_3' })
  await waitFor(() => vonage.texts.some(m => m.msg.action === 'clear'), 2000, 'barge-in clear')
  assert.deepEqual(vonage.texts.map(m => m.msg), [{ action: 'clear' }])
})

test('softphone calls are rate-limited per client, before any model session starts', async (t) => {
  const { app } = await build(t, { MAX_CONCURRENT_CALLS: 100 })
  const codes: number[] = []
  for (let i = 0; i < 11; i++) codes.push((await hit(app, { method: 'POST', url: '/softphone/call' })).status)
  assert.deepEqual(codes, [...Array(10).fill(200), 429])
  assert.equal(app.calls.size, 10)
})

test('behind a same-host proxy the softphone is not keyless: Via alone, or nginx\'s default proxy_pass (HTTP/1.0, no forwarding headers)', async (t) => {
  const { app } = await build(t)
  const via = await hit(app, { method: 'POST', url: '/softphone/call', headers: { via: '1.1 caddy' } })
  assert.equal(via.status, 404)
  assert.match(JSON.parse(via.body).message, /SOFTPHONE_KEY/)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  // Exactly what nginx sends for `proxy_pass http://127.0.0.1:<port>;` with its defaults.
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`POST /softphone/call HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`))
    let out = ''
    socket.on('data', (d: Buffer) => { out += d.toString() })
    socket.on('end', () => resolve(out))
    socket.on('error', reject)
  })
  assert.match(raw, /^HTTP\/1\.[01] 404 /)
  assert.equal(app.bridge.sessions.size, 0, 'no model session was started')
})
