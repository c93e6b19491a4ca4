import { test } from 'node:test'
import assert from 'node:assert/strict'
import { callRig, vonageWebhook } from '../../helpers/call-rig.js'
import { build } from '../../helpers/build.js'
import { rawHttp } from '../../helpers/raw-http.js'
import { startFakeRealtime } from '../../fakes/realtime-server.js'
import { NO_SECRET_REFUSAL, UNSIGNED_WARNING } from '../../../plugins/webhook-auth.js'
import { NOT_READY_MESSAGE } from '../../../lib/vonage/ncco.js'
import { CONSOLE_COOKIE, CONSOLE_COOKIE_TLS } from '../../../plugins/console.js'
import { issueSession, sessionValid, SESSION_SECONDS } from '../../../lib/security/console-session.js'
import { exposureChecks } from '../../../lib/doctor/checks.js'

/*
 * Issue #21's attacks on the real routes, over real sockets where the HTTP
 * version and the bare headers of a same-host proxy matter.
 */

const CONSOLE_KEY = 'console-key-0123456789abcdef'
const SOFTPHONE_KEY = 'softphone-key-0123456789abcdef'

// ---- 1. A set key is always required -------------------------------------------------------

for (const version of ['1.1', '1.0'] as const) {
  test(`keys set: a same-host proxy (HTTP/${version}, Host 127.0.0.1, no forwarding header) gets 401 everywhere and hangs up nothing`, async (t) => {
    const rig = await callRig(t, { CONSOLE_KEY, SOFTPHONE_KEY })
    await rig.answer({ uuid: 'live-1' })
    const hit = async (method: string, path: string, headers: Record<string, string> = {}): Promise<number> => (await rawHttp(rig.port, { method, path, version, headers })).status
    assert.equal(await hit('GET', '/console'), 401)
    assert.equal(await hit('GET', '/console/events', { accept: 'text/event-stream' }), 401)
    assert.equal(await hit('GET', '/api/calls'), 401)
    assert.equal(await hit('POST', '/console/calls/live-1/hangup'), 401)
    assert.equal(rig.app.bridge.sessions.get('live-1')?.ended, false, 'the live call goes on')
    assert.equal(await hit('GET', '/softphone'), 401)
    const handshakes = rig.fake.handshakes
    assert.equal(await hit('POST', '/softphone/call'), 401)
    assert.equal(rig.fake.handshakes, handshakes, 'no model session for the proxy')
    // With the keys, the same requests get in.
    assert.equal(await hit('GET', '/api/calls', { authorization: `Bearer ${CONSOLE_KEY}` }), 404, 'past the gate (this rig keeps no history)')
    assert.equal(await hit('GET', `/softphone?key=${SOFTPHONE_KEY}`), 200)
  })
}

test('no key set: this machine\'s browser (HTTP/1.1) opens both keyless; HTTP/1.0 (nginx\'s plain proxy_pass) is a proxy for the console too', async (t) => {
  const rig = await callRig(t)
  assert.equal((await rawHttp(rig.port, { path: '/console', host: `localhost:${rig.port}` })).status, 200)
  assert.equal((await rawHttp(rig.port, { path: '/softphone', host: `localhost:${rig.port}` })).status, 200)
  assert.equal((await rawHttp(rig.port, { path: '/console', version: '1.0' })).status, 404)
  assert.equal((await rawHttp(rig.port, { path: '/api/calls', version: '1.0' })).status, 404)
  assert.equal((await rawHttp(rig.port, { method: 'POST', path: '/softphone/call', version: '1.0' })).status, 404)
})

test('one key set ends the keyless mode for both: SOFTPHONE_KEY alone closes the keyless console, CONSOLE_KEY alone the keyless softphone', async (t) => {
  const a = await callRig(t, { SOFTPHONE_KEY })
  const console404 = await rawHttp(a.port, { path: '/console', host: `localhost:${a.port}` })
  assert.equal(console404.status, 404)
  assert.match(console404.body, /CONSOLE_KEY/)
  const b = await callRig(t, { CONSOLE_KEY })
  assert.equal((await rawHttp(b.port, { method: 'POST', path: '/softphone/call', host: `localhost:${b.port}` })).status, 404)
  assert.equal(b.app.bridge.sessions.size, 0)
})

test('wrong softphone keys are rate-limited like the console\'s: 40 wrong ?key= → 429 after 10', async (t) => {
  const { app } = await build(t, { SOFTPHONE_KEY })
  const codes: number[] = []
  for (let i = 0; i < 40; i++) codes.push((await app.inject({ url: `/softphone?key=wrong-${i}-0123456789abcdef`, remoteAddress: '198.51.100.7' })).statusCode)
  assert.deepEqual(codes, [...Array(10).fill(401), ...Array(30).fill(429)])
  assert.equal((await app.inject({ url: `/softphone?key=${SOFTPHONE_KEY}`, remoteAddress: '198.51.100.8' })).statusCode, 200, 'another client with the key')
})

// ---- 2. Vonage must sign ------------------------------------------------------------------

test('no VONAGE_SIGNATURE_SECRET: 70 anonymous answer webhooks get a spoken apology (200, no connect, no token) and open no model session; events get 403', async (t) => {
  const rig = await callRig(t, { VONAGE_SIGNATURE_SECRET: '', ANSWER_RATE_LIMIT_PER_MINUTE: 1000 })
  for (let i = 0; i < 70; i++) {
    const res = await rig.app.inject({ method: 'POST', url: i % 2 === 0 ? '/incoming-call' : '/answer', payload: { uuid: `anon-${i}`, from: '818012345678', to: '815031023332' } })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), [{ action: 'talk', text: NOT_READY_MESSAGE, language: 'ja-JP', premium: false }])
  }
  const get = await rig.app.inject({ method: 'GET', url: '/incoming-call?uuid=anon-get' })
  assert.ok(!get.body.includes('token='), 'no media token by GET either')
  assert.equal(rig.app.bridge.sessions.size, 0)
  assert.equal(rig.fake.handshakes, 0, 'no model session at all')
  const ev = await rig.webhook('/event', { uuid: 'anon-0', status: 'completed' })
  assert.equal(ev.statusCode, 403)
  // One line at start, one for the first refusal; the rest of the minute is counted, not logged.
  const lines = rig.logs.filter(l => l.msg === NO_SECRET_REFUSAL)
  assert.equal(lines.length, 2)
  assert.match(NO_SECRET_REFUSAL, /Vonage ダッシュボード → Settings（API 設定）→ Signed webhooks の「Signature secret」/)
  assert.match(NO_SECRET_REFUSAL, /Vonage Dashboard → Settings \(API Settings\) → Signed webhooks → "Signature secret"/)
})

test('ALLOW_UNSIGNED_WEBHOOKS=true is the warned opt-out: unsigned answers get the media NCCO', async (t) => {
  const rig = await callRig(t, { VONAGE_SIGNATURE_SECRET: '', ALLOW_UNSIGNED_WEBHOOKS: true })
  assert.equal(rig.logs.filter(l => l.msg === UNSIGNED_WARNING && l.level === 40).length, 1)
  const ncco = await rig.answer({ uuid: 'opt-out' })
  assert.ok(ncco.some(a => a.action === 'connect'))
  assert.equal(rig.app.bridge.sessions.size, 1)
})

test('with only OPENAI_API_KEY the softphone still works on the owner\'s machine (no Vonage, no secret)', async (t) => {
  const fake = await startFakeRealtime()
  t.after(() => fake.close())
  const { app } = await build(t, { OPENAI_BASE_URL: fake.baseUrl })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const res = await rawHttp(port, { method: 'POST', path: '/softphone/call', host: `localhost:${port}`, headers: { 'content-type': 'application/json' }, body: '{}' })
  assert.equal(res.status, 200, res.body)
  assert.match(JSON.parse(res.body).wsUrl, /\/media\?token=/)
})

test('the rig signs every webhook: the same call goes through with the secret set', async (t) => {
  const rig = await callRig(t)
  assert.notEqual(rig.app.config.VONAGE_SIGNATURE_SECRET, '')
  const res = await vonageWebhook(rig.app, '/incoming-call', { uuid: 'signed-get', from: '1', to: '2' }, { method: 'GET' })
  assert.equal(res.statusCode, 200)
  const unsigned = await vonageWebhook(rig.app, '/incoming-call', { uuid: 'x' }, { headers: { authorization: '' } })
  assert.equal(unsigned.statusCode, 503, 'unsigned with the secret set: Vonage retries')
})

// ---- 6. Cookies and static files -----------------------------------------------------------

test('the console cookie: a random session with an expiry, __Host- and Secure behind TLS, refused after the key changes', async (t) => {
  const { app } = await build(t, { CONSOLE_KEY, TRUST_PROXY_HOPS: 1 })
  const login = async (): Promise<string> => String((await app.inject({ url: `/console?key=${CONSOLE_KEY}`, remoteAddress: '198.51.100.9', headers: { 'x-forwarded-proto': 'https' } })).headers['set-cookie'])
  const [one, two] = [await login(), await login()]
  assert.match(one, new RegExp(`^${CONSOLE_COOKIE_TLS}=`))
  assert.match(one, /; Secure/)
  assert.match(one, new RegExp(`Max-Age=${SESSION_SECONDS}`))
  assert.notEqual(one.split(';')[0], two.split(';')[0], 'each login its own random session')
  const cookie = one.split(';')[0]!
  assert.equal((await app.inject({ url: '/api/store', remoteAddress: '198.51.100.9', headers: { cookie } })).statusCode, 200)
  const plain = String((await app.inject({ url: `/console?key=${CONSOLE_KEY}`, remoteAddress: '198.51.100.9' })).headers['set-cookie'])
  assert.match(plain, new RegExp(`^${CONSOLE_COOKIE}=`))
  assert.doesNotMatch(plain, /Secure/)
  // The server restarted with another key: every session is revoked.
  const other = await build(t, { CONSOLE_KEY: 'another-console-key-0123456789' })
  assert.equal((await other.app.inject({ url: '/api/store', remoteAddress: '198.51.100.9', headers: { cookie } })).statusCode, 401)
})

test('a console session expires', () => {
  const now = Date.now()
  const s = issueSession(CONSOLE_KEY, now)
  assert.equal(sessionValid(CONSOLE_KEY, s, now + 1000), true)
  assert.equal(sessionValid(CONSOLE_KEY, s, now + SESSION_SECONDS * 1000 + 1000), false)
  assert.equal(sessionValid('another-console-key-0123456789', s, now), false)
  const [id, , mac] = s.split('.')
  assert.equal(sessionValid(CONSOLE_KEY, `${id}.99999999999.${mac}`, now), false, 'a stretched expiry breaks the signature')
})

test('every static file is served with X-Content-Type-Options: nosniff', async (t) => {
  const { app } = await build(t)
  for (const url of ['/console/assets/console.js', '/console/assets/console.css', '/softphone/softphone.js', '/softphone/softphone.css', '/softphone/audio-worklet.js']) {
    const res = await app.inject({ url, headers: { host: 'localhost:3000' } })
    assert.equal(res.statusCode, 200, url)
    assert.equal(res.headers['x-content-type-options'], 'nosniff', url)
  }
})

// ---- 7. The doctor -------------------------------------------------------------------------

test('the doctor flags the opt-out, a keyless console/softphone on a public HOST, an open softphone and public metrics', async (t) => {
  const text = (cs: ReturnType<typeof exposureChecks>): string[] => cs.map(c => `${c.status} ${c.en}`)
  const open = await build(t, { VONAGE_SIGNATURE_SECRET: '', ALLOW_UNSIGNED_WEBHOOKS: true, HOST: '0.0.0.0', SOFTPHONE_ENABLED: 'true', METRICS_HOST: '0.0.0.0' })
  const flagged = text(exposureChecks({ ...open.app.config, METRICS_PORT: 9091 }))
  assert.ok(flagged.some(l => /^fail ALLOW_UNSIGNED_WEBHOOKS=true/.test(l)), flagged.join('\n'))
  assert.ok(flagged.some(l => /^fail the softphone is open to anyone/.test(l)))
  assert.ok(flagged.some(l => /^warn the console and the softphone run without a key on a public HOST/.test(l)))
  assert.ok(flagged.some(l => /^warn the metrics are readable from any network/.test(l)))
  const closed = await build(t, { HOST: '0.0.0.0', CONSOLE_KEY, SOFTPHONE_KEY, METRICS_HOST: 'fly-local-6pn' })
  assert.deepEqual(text(exposureChecks({ ...closed.app.config, METRICS_PORT: 9091 })), [])
  const local = await build(t, { HOST: '127.0.0.1' })
  assert.deepEqual(text(exposureChecks(local.app.config)), [], 'keyless on loopback is the intended newcomer setup')
})
