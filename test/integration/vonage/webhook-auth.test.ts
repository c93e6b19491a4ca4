import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createHmac, randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../app.js'
import { loggerOptions } from '../../../lib/log/logger.js'
import { baseEnv } from '../../helpers/build.js'
import { APP_ID, privateKey } from '../../helpers/keys.js'
import { NO_SECRET_REFUSAL, UNSIGNED_WARNING } from '../../../plugins/webhook-auth.js'

const SECRET = 'sig-secret-0123456789abcdef0123456789'

/** Signs like Vonage does (HS256 over base64url JSON), independently of @vonage/jwt. */
function sign (claims: Record<string, unknown>, secret = SECRET, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const head = `${enc(header)}.${enc(claims)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')
const now = (): number => Math.floor(Date.now() / 1000)

function claimsFor (body: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iat: now(), jti: randomUUID(), iss: 'Vonage', api_key: 'abcd1234', application_id: APP_ID, payload_hash: sha256(body), ...extra }
}

interface Harness { app: FastifyInstance, logs: Array<Record<string, unknown>>, seen: unknown[], raws: Array<string | undefined> }

/** The app plus a stand-in webhook route, since the real NCCO routes live elsewhere. */
async function harness (t: TestContext, env: Record<string, string> = {}): Promise<Harness> {
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l !== '') logs.push(JSON.parse(l)); cb() } })
  const app = await buildApp({ config: { data: { ...baseEnv, VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: privateKey, ...env }, env: false, dotenv: false }, logger: pino(loggerOptions('info', false), sink) })
  const seen: unknown[] = []
  const raws: Array<string | undefined> = []
  app.post('/test-hook', { preHandler: app.verifyVonageWebhook }, async (request) => { seen.push(request.body); raws.push(request.rawBody); return { ok: true } })
  app.get('/test-hook', { preHandler: app.verifyVonageWebhook }, async () => ({ ok: true }))
  t.after(() => app.close())
  await app.ready()
  return { app, logs, seen, raws }
}

const EVENT = JSON.stringify({ from: '818012345678', to: '815031023332', uuid: 'a1', conversation_uuid: 'CON-1', status: 'answered', direction: 'inbound', timestamp: '2026-01-01T00:00:00.000Z' })

function post (app: FastifyInstance, body: string, authorization?: string) {
  return app.inject({ method: 'POST', url: '/test-hook', headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) }, payload: body })
}

test('a correctly signed webhook passes, body parsed as usual', async (t) => {
  const { app, seen } = await harness(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const res = await post(app, EVENT, `Bearer ${sign(claimsFor(EVENT))}`)
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual(seen, [JSON.parse(EVENT)])
})

test('a re-indented body with the same content still matches its payload_hash', async (t) => {
  const { app } = await harness(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const pretty = JSON.stringify(JSON.parse(EVENT), null, 2)
  assert.equal((await post(app, pretty, `Bearer ${sign(claimsFor(EVENT))}`)).statusCode, 200)
})

test('unsigned → 503 (Vonage retries); expired, stale, foreign, tampered and replayed webhooks → 401; none reach the handler', async (t) => {
  const { app, seen, logs } = await harness(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const tampered = EVENT.replace('answered', 'completed')
  const replayed = `Bearer ${sign(claimsFor(EVENT))}`
  assert.equal((await post(app, EVENT, replayed)).statusCode, 200, 'first use')
  seen.length = 0
  const cases: Array<[string, string, string | undefined, number]> = [
    ['missing header', EVENT, undefined, 503],
    ['not a bearer token', EVENT, `Basic ${Buffer.from('a:b').toString('base64')}`, 401],
    ['garbage token', EVENT, 'Bearer not.a.jwt', 401],
    ['wrong secret', EVENT, `Bearer ${sign(claimsFor(EVENT), 'another-accounts-secret')}`, 401],
    ['expired (exp in the past)', EVENT, `Bearer ${sign(claimsFor(EVENT, { exp: now() - 5 }))}`, 401],
    ['stale (no exp, iat 10 minutes ago)', EVENT, `Bearer ${sign(claimsFor(EVENT, { iat: now() - 600 }))}`, 401],
    ['stale despite a far exp', EVENT, `Bearer ${sign(claimsFor(EVENT, { iat: now() - 600, exp: now() + 86400 }))}`, 401],
    ['no iat nor exp', EVENT, `Bearer ${sign(claimsFor(EVENT, { iat: undefined }))}`, 401],
    ['no jti', EVENT, `Bearer ${sign(claimsFor(EVENT, { jti: undefined }))}`, 401],
    ['tampered body', tampered, `Bearer ${sign(claimsFor(EVENT))}`, 401],
    ['no payload_hash', EVENT, `Bearer ${sign(claimsFor(EVENT, { payload_hash: undefined }))}`, 401],
    ['another application of the account', EVENT, `Bearer ${sign(claimsFor(EVENT, { application_id: 'other-app' }))}`, 401],
    ['alg none', EVENT, `Bearer ${sign(claimsFor(EVENT), SECRET, { alg: 'none' }).split('.').slice(0, 2).join('.')}.`, 401],
    ['replayed', EVENT, replayed, 401]
  ]
  for (const [name, body, authorization, status] of cases) {
    const res = await post(app, body, authorization)
    assert.equal(res.statusCode, status, name)
    assert.match(res.json().message, status === 503 ? /unsigned webhook refused/ : /^invalid Vonage signature: /, name)
  }
  assert.deepEqual(seen, [])
  const refusals = logs.filter(l => String(l.msg).startsWith('webhook refused'))
  assert.deepEqual(refusals.map(l => l.reason), ['missing', 'malformed', 'malformed', 'bad-signature', 'expired', 'expired', 'expired', 'expired', 'no-jti', 'payload-mismatch', 'payload-mismatch', 'other-application', 'bad-signature', 'replayed'])
  assert.doesNotMatch(JSON.stringify(logs), /eyJ[A-Za-z0-9_-]{5,}\./)
})

test('a body-less POST is checked against the hash of nothing', async (t) => {
  const { app } = await harness(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const send = (token: string) => app.inject({ method: 'POST', url: '/test-hook', headers: { authorization: `Bearer ${token}` } })
  assert.equal((await send(sign(claimsFor(EVENT)))).statusCode, 401)
  assert.equal((await send(sign(claimsFor('')))).statusCode, 200)
})

test('GET webhooks: payload_hash covers the query (compact JSON, URL order); a body token or none is refused, naming answer_method POST', async (t) => {
  const { app } = await harness(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const get = (url: string, authorization?: string) => app.inject({ method: 'GET', url, headers: authorization !== undefined ? { authorization } : {} })
  assert.equal((await get('/test-hook?uuid=a1&status=answered', `Bearer ${sign(claimsFor('{"uuid":"a1","status":"answered"}'))}`)).statusCode, 200)
  assert.equal((await get('/test-hook?status=answered&uuid=a1', `Bearer ${sign(claimsFor('{"uuid":"a1","status":"answered"}'))}`)).statusCode, 401, 'another order is another payload')
  const noHash = await get('/test-hook?uuid=a1', `Bearer ${sign({ iat: now(), jti: randomUUID(), application_id: APP_ID })}`)
  assert.equal(noHash.statusCode, 401)
  assert.match(noHash.json().message, /answer_method and event_method to POST/)
  assert.equal((await get('/test-hook?uuid=a1', `Bearer ${sign(claimsFor(EVENT))}`)).statusCode, 401, 'a POST body token')
  assert.equal((await get('/test-hook?uuid=a1')).statusCode, 503)
})

test('without VONAGE_SIGNATURE_SECRET every webhook is refused (403, no retry), saying where the secret is; the handler never runs', async (t) => {
  const { app, logs, seen } = await harness(t)
  const res = await post(app, EVENT)
  assert.equal(res.statusCode, 403)
  assert.match(res.json().message, /Vonage Dashboard → Settings \(API Settings\) → Signed webhooks → "Signature secret"/)
  assert.equal((await post(app, EVENT, `Bearer ${sign(claimsFor(EVENT))}`)).statusCode, 403, 'a signature cannot be checked without the secret')
  assert.deepEqual(seen, [])
  assert.equal(logs.filter(l => l.msg === NO_SECRET_REFUSAL && l.level === 50).length, 2, 'one line at start, one for the first refusals of the minute')
  assert.equal(logs.filter(l => l.msg === UNSIGNED_WARNING).length, 0)
})

test('ALLOW_UNSIGNED_WEBHOOKS=true without the secret lets every webhook pass, and the start warns once', async (t) => {
  const { app, logs, seen } = await harness(t, { ALLOW_UNSIGNED_WEBHOOKS: 'true' })
  assert.equal((await post(app, EVENT)).statusCode, 200)
  assert.equal((await post(app, EVENT, 'Bearer whatever')).statusCode, 200)
  assert.equal(seen.length, 2)
  assert.equal(logs.filter(l => l.msg === UNSIGNED_WARNING).length, 1)
  assert.equal(app.verifyVonageJwt(undefined), true)
})

test('with the secret set there is no unauthenticated warning', async (t) => {
  const { logs } = await harness(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  assert.equal(logs.filter(l => l.msg === UNSIGNED_WARNING).length, 0)
})

test('verifyVonageJwt checks signature, freshness and single use (media WebSocket handshake)', async (t) => {
  const { app } = await harness(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const once = `Bearer ${sign({ iat: now(), jti: randomUUID(), application_id: APP_ID })}`
  assert.equal(app.verifyVonageJwt(once), true)
  assert.equal(app.verifyVonageJwt(once), false, 'the same handshake token twice')
  assert.equal(app.verifyVonageJwt(`Bearer ${sign({ iat: now(), jti: randomUUID(), exp: now() + 60, payload_hash: 'irrelevant' })}`), true)
  assert.equal(app.verifyVonageJwt(`Bearer ${sign({ iat: now(), jti: randomUUID(), exp: now() - 1 })}`), false)
  assert.equal(app.verifyVonageJwt(`Bearer ${sign({ iat: now() - 400, jti: randomUUID(), exp: now() + 3600 })}`), false)
  assert.equal(app.verifyVonageJwt(`Bearer ${sign({ iat: now() })}`), false, 'no jti')
  assert.equal(app.verifyVonageJwt(`Bearer ${sign({ iat: now(), jti: randomUUID() }, 'wrong')}`), false)
  assert.equal(app.verifyVonageJwt(undefined), false)
  assert.equal(app.verifyVonageJwt(''), false)
})

test('JSON parsing is unchanged for every route: clear 400 on malformed JSON, raw body kept', async (t) => {
  const { app, raws } = await harness(t, { ALLOW_UNSIGNED_WEBHOOKS: 'true' })
  const bad = await post(app, '{"status": "answered"')
  assert.equal(bad.statusCode, 400)
  assert.match(bad.json().message, /not valid JSON/)
  const proto = await post(app, '{"__proto__": {"admin": true}}')
  assert.equal(proto.statusCode, 400, 'prototype poisoning is still refused')
  const ok = await post(app, EVENT)
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(raws, [EVENT])
})
