import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { build, type Built } from '../../helpers/build.js'
import { APP_ID, privateKey, publicKey } from '../../helpers/keys.js'
import { startFakeVonage, type FakeVonage } from '../../fakes/vonage-rest.js'
import { startServer } from '../../fakes/server-process.js'
import { deriveTokenKey } from '../../../lib/security/tokens.js'
import { decodeOutboundContext } from '../../../lib/vonage/outbound-context.js'

const TO = '+818012345678'
const FROM = '+815031023332'
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

async function fake (t: TestContext): Promise<FakeVonage> {
  const f = await startFakeVonage({ publicKey, applicationId: APP_ID })
  t.after(() => f.close())
  return f
}

async function outboundApp (t: TestContext, vonage: FakeVonage, env: Record<string, string | number> = {}): Promise<Built> {
  return await build(t, {
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: privateKey,
    VONAGE_OUTBOUND_FROM: FROM,
    VONAGE_API_HOST: vonage.url,
    ...env
  })
}

function connect (app: Built['app'], body: unknown, headers: Record<string, string> = { 'x-api-key': APP_ID }) {
  return app.inject({
    method: 'POST',
    url: '/connect',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body)
  })
}

/** Nothing a log reader could use to call our API or identify the callee. */
function assertNoSecrets (text: string): void {
  assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{5,}\./, 'a JWT leaked')
  assert.ok(!text.includes('PRIVATE KEY'), 'the private key leaked')
  assert.ok(!text.includes('818012345678') && !text.includes('8012345678'), 'an unmasked number leaked')
}

test('POST /connect without X-API-Key is 401 and calls no one', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage)
  const res = await connect(app, { to: TO }, {})
  assert.equal(res.statusCode, 401)
  assert.match(res.json().message, /X-API-Key/)
  assert.equal(vonage.requests.length, 0)
})

test('POST /connect with a wrong X-API-Key is 403 and calls no one', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage)
  for (const key of ['wrong', APP_ID.slice(0, -1), `${APP_ID}x`]) {
    const res = await connect(app, { to: TO }, { 'x-api-key': key })
    assert.equal(res.statusCode, 403, key)
    assert.equal(res.json().error, 'Forbidden')
  }
  assert.equal(vonage.requests.length, 0)
})

test('POST /connect refuses bad bodies with a clear 400', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage)
  const cases: Array<[string, unknown, RegExp]> = [
    ['malformed JSON', '{"to": "+818012345678"', /JSON/],
    ['empty JSON body', '', /empty/i],
    ['not an object', '["+818012345678"]', /body must be a JSON object/],
    ['missing to', { from: FROM }, /body\.to is required/],
    ['extra field', { to: TO, text: 'hello' }, /unknown field "text"/],
    ['to as a number', { to: 818012345678 }, /body\.to must be a string/],
    ['to as an array', { to: [TO] }, /body\.to must be a string/],
    ['context as a string', { to: TO, context: 'call about the invoice' }, /body\.context must be a JSON object/],
    ['to without +', { to: '818012345678' }, /body\.to must be an E\.164 number/],
    ['to national format', { to: '080-1234-5678' }, /body\.to must be an E\.164 number/],
    ['from not E.164', { to: TO, from: 'Vonage' }, /body\.from must be an E\.164 number/],
    ['context too large', { to: TO, context: { note: 'x'.repeat(1100) } }, /context is too large/]
  ]
  for (const [name, body, message] of cases) {
    const res = await connect(app, body)
    assert.equal(res.statusCode, 400, name)
    assert.match(res.json().message, message, name)
  }
  assert.equal(vonage.requests.length, 0)
})

test('POST /connect places a v1 call with a verified JWT, POST webhooks and the default from', async (t) => {
  const vonage = await fake(t)
  const { app, logs } = await outboundApp(t, vonage)
  const res = await connect(app, { to: TO })
  assert.equal(res.statusCode, 201, res.body)
  const reply = res.json()
  assert.match(reply.uuid, UUID_RE)
  assert.equal(reply.status, 'started')

  assert.equal(vonage.requests.length, 1)
  const sent = vonage.requests[0]!
  assert.equal(sent.method, 'POST')
  assert.equal(sent.path, '/v1/calls')
  assert.deepEqual(sent.auth.ok, true, sent.auth.reason)
  assert.equal(sent.auth.claims?.application_id, APP_ID)
  const body = sent.body as Record<string, unknown>
  assert.deepEqual(body.to, [{ type: 'phone', number: '818012345678' }])
  assert.deepEqual(body.from, { type: 'phone', number: '815031023332' })
  assert.equal(body.answer_method, 'POST')
  assert.equal(body.event_method, 'POST')
  assert.deepEqual(body.event_url, ['https://bridge.example.test/event?md=hangup'])
  assert.equal(body.machine_detection, 'hangup', 'voicemail is hung up on by default (VONAGE_MACHINE_DETECTION)')
  const answerUrl = (body.answer_url as string[])[0]!
  assert.match(answerUrl, /^https:\/\/bridge\.example\.test\/answer\?ctx=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)

  assertNoSecrets(JSON.stringify(logs))
  const placed = logs.find(l => l.msg === 'outbound call placed')
  assert.ok(placed !== undefined)
  assert.equal(placed.toMasked, '+********5678')
})

test('POST /connect uses the given from over VONAGE_OUTBOUND_FROM', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage)
  const res = await connect(app, { to: TO, from: '+815099998888' })
  assert.equal(res.statusCode, 201)
  assert.deepEqual((vonage.requests[0]!.body as Record<string, unknown>).from, { type: 'phone', number: '815099998888' })
})

test('POST /connect with neither from nor VONAGE_OUTBOUND_FROM is 400 naming both', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage, { VONAGE_OUTBOUND_FROM: '' })
  const res = await connect(app, { to: TO })
  assert.equal(res.statusCode, 400)
  assert.match(res.json().message, /body\.from/)
  assert.match(res.json().message, /VONAGE_OUTBOUND_FROM/)
  assert.equal(vonage.requests.length, 0)
})

test('the context travels, signed, in the answer URL and decodes on any instance', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage)
  const context = { reason: '請求書の件でお電話しました', customer: { name: '山田', plan: 'gold' }, attempts: 2 }
  assert.equal((await connect(app, { to: TO, context })).statusCode, 201)
  assert.equal((await connect(app, { to: TO })).statusCode, 201)

  // Another instance shares nothing but the secrets, so derive the key the same way.
  const key = deriveTokenKey('', 'sk-test-0123456789abcdef', 'outbound-context')
  const ctxOf = (i: number): string => new URL((vonage.requests[i]!.body as { answer_url: string[] }).answer_url[0]!).searchParams.get('ctx')!
  assert.deepEqual(decodeOutboundContext(ctxOf(0), key), context)
  assert.deepEqual(decodeOutboundContext(ctxOf(1), key), {})
  // A key from other secrets (another deployment) does not accept it.
  assert.equal(decodeOutboundContext(ctxOf(0), deriveTokenKey('', 'sk-other-deployment', 'outbound-context')), null)
  // Still valid after the phone has rung for a few minutes, not after ten.
  assert.ok(decodeOutboundContext(ctxOf(0), key, Date.now() / 1000 + 5 * 60) !== null)
  assert.equal(decodeOutboundContext(ctxOf(0), key, Date.now() / 1000 + 11 * 60), null)
})

test('Vonage 4xx and 5xx become 502 with its title and detail only', async (t) => {
  const vonage = await fake(t)
  const { app, logs } = await outboundApp(t, vonage)
  vonage.fail({ path: '/v1/calls', status: 400, title: 'Bad Request', detail: 'Invalid number: 818012345678 is not a valid destination' })
  vonage.fail({ path: '/v1/calls', status: 503, title: 'Service Unavailable', detail: 'Try again later' })

  const r1 = await connect(app, { to: TO })
  assert.equal(r1.statusCode, 502)
  assert.deepEqual(Object.keys(r1.json()).sort(), ['detail', 'error', 'message', 'statusCode', 'title', 'vonageStatus'])
  assert.equal(r1.json().title, 'Bad Request')
  assert.equal(r1.json().detail, 'Invalid number: 818012345678 is not a valid destination')
  assert.equal(r1.json().vonageStatus, 400)

  const r2 = await connect(app, { to: TO })
  assert.equal(r2.statusCode, 502)
  assert.equal(r2.json().title, 'Service Unavailable')
  assert.equal(r2.json().detail, 'Try again later')

  for (const r of [r1, r2]) {
    assert.doesNotMatch(r.body, /eyJ|Bearer|stack|at .*\.js/)
  }
  // Both calls did reach Vonage with a valid JWT: the failure is Vonage's, not ours.
  assert.ok(vonage.requests.every(r => r.auth.ok))
  assertNoSecrets(JSON.stringify(logs))
  assert.equal(logs.filter(l => l.msg === 'outbound call refused by Vonage').length, 2)
})

test('a Vonage that does not answer in VONAGE_API_TIMEOUT_MS gives 504', async (t) => {
  const vonage = await fake(t)
  const { app, logs } = await outboundApp(t, vonage, { VONAGE_API_TIMEOUT_MS: 200 })
  vonage.delay({ path: '/v1/calls', ms: 3000 })
  const started = Date.now()
  const res = await connect(app, { to: TO })
  assert.equal(res.statusCode, 504)
  assert.match(res.json().message, /200 ms/)
  assert.ok(Date.now() - started < 2500, 'the request waited for Vonage instead of timing out')
  assertNoSecrets(JSON.stringify(logs))
})

test('an unreachable Vonage gives 502 saying so', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage, { VONAGE_API_HOST: 'http://127.0.0.1:1' })
  const res = await connect(app, { to: TO })
  assert.equal(res.statusCode, 502)
  assert.match(res.json().message, /could not reach Vonage \(ECONNREFUSED\)/)
})

test('without an application id or key, /connect is 503 naming the missing settings, warned once at start', async (t) => {
  const { app, logs } = await build(t, { VONAGE_PRIVATE_KEY_PATH: './test/fixtures/no-such.key' })
  const res = await connect(app, { to: TO }, { 'x-api-key': 'anything' })
  assert.equal(res.statusCode, 503)
  assert.deepEqual(res.json().missing, ['VONAGE_APPLICATION_ID', 'VONAGE_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY'])
  assert.match(res.json().message, /VONAGE_APPLICATION_ID/)
  const warnings = logs.filter(l => typeof l.msg === 'string' && l.msg.startsWith('outbound calls (POST /connect) are disabled'))
  assert.equal(warnings.length, 1)
  assert.match(String(warnings[0]!.msg), /VONAGE_APPLICATION_ID/)
})

test('without SERVER_URL, /connect is 503 naming SERVER_URL (after the key check)', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage, { SERVER_URL: '' })
  assert.equal((await connect(app, { to: TO }, { 'x-api-key': 'wrong' })).statusCode, 403)
  const res = await connect(app, { to: TO })
  assert.equal(res.statusCode, 503)
  assert.deepEqual(res.json().missing, ['SERVER_URL'])
  assert.equal(vonage.requests.length, 0)
})

test('a configured server logs no outbound warning and exposes the Voice client', async (t) => {
  const vonage = await fake(t)
  const { app, logs } = await outboundApp(t, vonage)
  assert.deepEqual(app.vonage.missing, [])
  assert.ok(app.vonage.voice !== null)
  assert.equal(app.vonage.applicationId, APP_ID)
  assert.equal(logs.filter(l => String(l.msg).includes('outbound calls')).length, 0)
  // The same client serves call control (issue 5): hangup goes to the fake with a valid JWT.
  await app.vonage.voice.hangupCall('0b7a1a2e-aaaa-4bbb-8ccc-000000000001')
  const put = vonage.requests.at(-1)!
  assert.equal(put.method, 'PUT')
  assert.equal(put.path, '/v1/calls/0b7a1a2e-aaaa-4bbb-8ccc-000000000001')
  assert.deepEqual(put.body, { action: 'hangup' })
  assert.ok(put.auth.ok)
})

test('a private key that is not a PEM stops the start with a clear message', async (t) => {
  await assert.rejects(build(t, { VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: 'not a key' }), (err: Error & { problems?: string[] }) => {
    assert.match(err.problems?.join('\n') ?? '', /VONAGE_PRIVATE_KEY is not a PEM private key/)
    return true
  })
})

test('a private key kept on one line with literal \\n (secret stores) still works', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage, { VONAGE_PRIVATE_KEY: privateKey.trim().replace(/\n/g, '\\n') })
  assert.equal((await connect(app, { to: TO })).statusCode, 201)
  assert.ok(vonage.requests[0]!.auth.ok)
})

test('POST /connect is rate limited per client, wrong keys included; other routes are not', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage, { CONNECT_RATE_LIMIT_PER_MINUTE: 2 })
  assert.equal((await connect(app, { to: TO })).statusCode, 201)
  assert.equal((await connect(app, { to: TO }, { 'x-api-key': 'guess' })).statusCode, 403)
  const limited = await connect(app, { to: TO })
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.json().statusCode, 429)
  assert.equal((await connect(app, { to: TO }, { 'x-api-key': 'guess-again' })).statusCode, 429)
  // Another client still gets through.
  const other = await app.inject({ method: 'POST', url: '/connect', remoteAddress: '10.9.8.7', headers: { 'content-type': 'application/json', 'x-api-key': APP_ID }, payload: { to: TO } })
  assert.equal(other.statusCode, 201)
  for (let i = 0; i < 5; i++) assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  assert.equal(vonage.requests.length, 2)
})

test('curl as in the README: the built server places a call against the fake Vonage, logging no secret', async (t) => {
  const vonage = await fake(t)
  const server = await startServer(t, {
    OPENAI_API_KEY: 'sk-test-0123456789abcdef',
    SERVER_URL: 'bridge.example.test',
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: privateKey,
    VONAGE_OUTBOUND_FROM: FROM,
    VONAGE_API_HOST: vonage.url
  }, { minimalEnv: true })
  const res = await fetch(`${server.url}/connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': APP_ID },
    body: JSON.stringify({ to: TO, from: FROM })
  })
  assert.equal(res.status, 201)
  const body = await res.json() as { uuid: string, status: string }
  assert.match(body.uuid, UUID_RE)
  assert.equal(vonage.requests.length, 1)
  assert.ok(vonage.requests[0]!.auth.ok, vonage.requests[0]!.auth.reason)
  await server.stop()
  assertNoSecrets(server.output())
})

const CONNECT_KEY = 'ck-0123456789abcdef0123456789abcdef'

test('CONNECT_API_KEY is the key: the application id no longer places calls once it is set', async (t) => {
  const vonage = await fake(t)
  const { app, logs } = await outboundApp(t, vonage, { CONNECT_API_KEY: CONNECT_KEY })
  const byAppId = await connect(app, { to: TO }, { 'x-api-key': APP_ID })
  assert.equal(byAppId.statusCode, 403)
  assert.match(byAppId.json().message, /CONNECT_API_KEY/)
  assert.equal(vonage.requests.length, 0)
  assert.equal((await connect(app, { to: TO }, { 'x-api-key': CONNECT_KEY })).statusCode, 201)
  assert.equal(vonage.requests.length, 1)
  assert.equal(logs.filter(l => String(l.msg).includes('not a secret')).length, 0, 'no application-id warning with a real key')
  assert.ok(!JSON.stringify(logs).includes(CONNECT_KEY), 'the key is never logged')
})

test('without CONNECT_API_KEY the application id still works, with one startup warning (ja + en) that it is not a secret', async (t) => {
  const vonage = await fake(t)
  const { app, logs } = await outboundApp(t, vonage)
  assert.equal((await connect(app, { to: TO }, { 'x-api-key': APP_ID })).statusCode, 201)
  const warnings = logs.filter(l => l.level === 40 && String(l.msg).includes('CONNECT_API_KEY'))
  assert.equal(warnings.length, 1)
  assert.match(String(warnings[0]!.msg), /秘密ではありません/)
  assert.match(String(warnings[0]!.msg), /not a secret/)
})

test('a CONNECT_API_KEY under 32 characters is a configuration error naming it', async (t) => {
  const vonage = await fake(t)
  await assert.rejects(outboundApp(t, vonage, { CONNECT_API_KEY: 'short-key-0123456789' }), (err: Error & { problems?: string[] }) => {
    assert.ok(err.problems?.some(p => /^CONNECT_API_KEY is too short \(20 characters\)/.test(p)), String(err.problems))
    return true
  })
})

test('destinations outside CONNECT_ALLOWED_PREFIXES (default: the country of VONAGE_OUTBOUND_FROM) get 403 (ja + en) and call no one', async (t) => {
  const vonage = await fake(t)
  const { app, logs } = await outboundApp(t, vonage)
  for (const to of ['+447700900123', '+12025550123', '+8210123456789']) {
    const res = await connect(app, { to })
    assert.equal(res.statusCode, 403, to)
    const body = res.json()
    assert.deepEqual(body.allowed, ['+81'])
    assert.match(body.message, /発信できません/)
    assert.match(body.message, /CONNECT_ALLOWED_PREFIXES/)
  }
  assert.equal(vonage.requests.length, 0)
  assert.ok(!JSON.stringify(logs).includes('447700900123'), 'the refused number is masked in the log')
  assert.equal((await connect(app, { to: TO })).statusCode, 201, 'the own country is allowed')

  const { app: wide } = await outboundApp(t, vonage, { CONNECT_ALLOWED_PREFIXES: '+8180, +44' })
  assert.equal((await connect(wide, { to: '+447700900123' })).statusCode, 201)
  assert.equal((await connect(wide, { to: '+815012345678' })).statusCode, 403, '+8150 is not under +8180')
  await assert.rejects(outboundApp(t, vonage, { CONNECT_ALLOWED_PREFIXES: '81' }), /CONNECT_ALLOWED_PREFIXES has a malformed entry/)
})

test('machineDetection: sent as machine_detection; continue is routed to the event handler, bad values are a 400', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage, { VONAGE_MACHINE_DETECTION: 'continue' })
  assert.equal((await connect(app, { to: TO })).statusCode, 201)
  assert.equal((await connect(app, { to: TO, machineDetection: 'hangup' })).statusCode, 201)
  const [first, second] = vonage.requests.map(r => r.body as Record<string, unknown>)
  assert.equal(first!.machine_detection, 'continue')
  assert.deepEqual(first!.event_url, ['https://bridge.example.test/event?md=continue'])
  assert.equal(second!.machine_detection, 'hangup')
  const bad = await connect(app, { to: TO, machineDetection: 'beep' })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.json().message, /machineDetection must be one of hangup, continue/)
})

test('on Fly, the machine placing the call names itself in the answer and event URLs, so it also holds the call', async (t) => {
  const vonage = await fake(t)
  const { app } = await outboundApp(t, vonage, { FLY_MACHINE_ID: '3d8d9e1b2c4f87' })
  assert.equal((await connect(app, { to: TO })).statusCode, 201)
  const body = vonage.requests[0]!.body as Record<string, unknown>
  assert.match((body.answer_url as string[])[0]!, /\/answer\?ctx=[A-Za-z0-9_.-]+&m=3d8d9e1b2c4f87$/)
  assert.deepEqual(body.event_url, ['https://bridge.example.test/event?md=hangup&m=3d8d9e1b2c4f87'])
})
