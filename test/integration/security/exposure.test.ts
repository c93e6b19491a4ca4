import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { callRig, type CallRig } from '../../helpers/call-rig.js'
import { tryUpgrade } from '../../helpers/upgrade.js'
import { bearerFor, bearerForQuery, nowSeconds, signJwt, vonageClaims } from '../../helpers/vonage-sign.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { UNSIGNED_WARNING } from '../../../plugins/webhook-auth.js'

/*
 * Issue #14's attacks against the real routes, with VONAGE_SIGNATURE_SECRET
 * unset (the default) and set. "Nothing happened" is asserted against the
 * fake OpenAI's handshake counter and the bridge's session map.
 */

const SECRET = 'sig-secret-0123456789abcdef0123456789'

function mediaPath (ncco: Array<Record<string, any>>): string {
  const connect = ncco.find(a => a.action === 'connect')
  assert.ok(connect !== undefined, JSON.stringify(ncco))
  return String(connect.endpoint[0].uri).replace(/^wss:\/\/[^/]+/, '')
}

/** Records the options every startCall gets (greetEarly), passing them on. */
function spyStartCall (rig: CallRig): Array<{ greetEarly: boolean } | undefined> {
  const seen: Array<{ greetEarly: boolean } | undefined> = []
  const bridge = rig.app.bridge
  const original = bridge.startCall.bind(bridge)
  bridge.startCall = (id, call, opts) => { seen.push(opts); return original(id, call, opts) }
  return seen
}

async function signedAnswer (rig: CallRig, uuid: string): Promise<Array<Record<string, any>>> {
  const body = JSON.stringify({ uuid, conversation_uuid: 'CON-1', from: '818012345678', to: '815031023332' })
  const res = await rig.app.inject({ method: 'POST', url: '/incoming-call', headers: { 'content-type': 'application/json', authorization: bearerFor(body, SECRET) }, payload: body })
  assert.equal(res.statusCode, 200, res.body)
  return res.json()
}

/** Without the secret, with the explicit opt-out (issue #21: unsigned webhooks are refused otherwise, see back-door.test.ts). */
async function rig (t: TestContext, env: Record<string, string | number | boolean> = {}): Promise<CallRig> {
  return await callRig(t, { VONAGE_SIGNATURE_SECRET: '', ALLOW_UNSIGNED_WEBHOOKS: true, ...env })
}

// ---- VONAGE_SIGNATURE_SECRET unset, ALLOW_UNSIGNED_WEBHOOKS=true ----------------------------

test('unsigned: startup warns once, plainly, in Japanese and English', async (t) => {
  const r = await rig(t)
  const warnings = r.logs.filter(l => l.msg === UNSIGNED_WARNING)
  assert.equal(warnings.length, 1)
  assert.equal(warnings[0]!.level, 40)
  assert.match(UNSIGNED_WARNING, /ALLOW_UNSIGNED_WEBHOOKS=true: VONAGE_SIGNATURE_SECRET なしで/)
  assert.match(UNSIGNED_WARNING, /Vonage Dashboard → Settings \(API Settings\) → Signed webhooks/)
})

test('unsigned: an answer webhook may prepare the model session but not have it greet early', async (t) => {
  const r = await rig(t)
  const seen = spyStartCall(r)
  await r.answer({ uuid: 'unsigned-1' })
  assert.deepEqual(seen, [{ greetEarly: false }])
})

test('a media token opens one socket, ever: reuse after the call ended is refused before the upgrade and opens nothing upstream', async (t) => {
  const r = await rig(t)
  const ncco = await r.answer({ uuid: 'reuse-1' })
  await r.fake.nextConnection()
  const client = await r.dial(ncco)
  await client.close()
  await waitFor(() => r.app.bridge.sessions.size === 0, 5000, 'the call to end')
  const handshakes = r.fake.handshakes
  for (let i = 0; i < 3; i++) {
    const again = await tryUpgrade(r.port, mediaPath(ncco))
    assert.equal(again.status, 401, again.body)
    assert.match(JSON.parse(again.body).message, /already used/)
  }
  assert.equal(r.fake.handshakes, handshakes, 'no new upstream session')
  assert.equal(r.app.bridge.sessions.size, 0)
})

test('a second socket on a live call\'s token is refused; the first keeps the call', async (t) => {
  const r = await rig(t)
  const ncco = await r.answer({ uuid: 'twice-1' })
  await r.dial(ncco)
  const second = await tryUpgrade(r.port, mediaPath(ncco))
  assert.equal(second.status, 401)
  assert.equal(r.app.bridge.sessions.get('twice-1')?.ended, false)
})

test('a token for a call that ended before its socket came, or that this process never held, is refused (410) and opens nothing', async (t) => {
  const r = await rig(t)
  const ncco = await r.answer({ uuid: 'ended-1' })
  await r.fake.nextConnection()
  const ev = await r.webhook('/event', { uuid: 'ended-1', status: 'completed' })
  assert.equal(ev.statusCode, 204)
  await waitFor(() => r.app.bridge.sessions.size === 0, 5000, 'the call to end')
  const handshakes = r.fake.handshakes
  const late = await tryUpgrade(r.port, mediaPath(ncco))
  assert.equal(late.status, 410, late.body)
  const unknown = await tryUpgrade(r.port, `/media?token=${encodeURIComponent(r.app.mediaTokens.issue('never-answered'))}`)
  assert.equal(unknown.status, 410, unknown.body)
  assert.match(JSON.parse(unknown.body).message, /ended or is not held by this server/)
  assert.equal(r.fake.handshakes, handshakes, 'the media route never starts a session')
  assert.equal(r.app.bridge.sessions.size, 0)
})

test('forged, truncated and missing tokens get 401', async (t) => {
  const r = await rig(t)
  const ncco = await r.answer({ uuid: 'forged-1' })
  const token = decodeURIComponent(mediaPath(ncco).split('token=')[1]!)
  const [body, mac] = token.split('.') as [string, string]
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  const other = Buffer.from(JSON.stringify({ ...claims, c: 'someone-else' })).toString('base64url')
  for (const path of ['/media', '/media?token=', `/media?token=${other}.${mac}`, `/media?token=${body}.${mac.slice(0, -3)}`]) {
    assert.equal((await tryUpgrade(r.port, path)).status, 401, path)
  }
  assert.equal(r.app.bridge.sessions.get('forged-1')?.mediaAttached, false)
})

test('the answer webhooks are rate-limited per client', async (t) => {
  const r = await rig(t, { ANSWER_RATE_LIMIT_PER_MINUTE: 3 })
  const codes: number[] = []
  for (let i = 0; i < 5; i++) {
    const url = i % 2 === 0 ? '/incoming-call' : '/answer'
    codes.push((await r.app.inject({ method: 'POST', url, payload: { uuid: `flood-${i}` } })).statusCode)
  }
  assert.deepEqual(codes, [200, 200, 200, 429, 429])
  assert.equal(r.app.bridge.sessions.size, 3)
  const other = await r.app.inject({ method: 'POST', url: '/incoming-call', remoteAddress: '198.51.100.20', payload: { uuid: 'other-client' } })
  assert.equal(other.statusCode, 200, 'another client is not affected')
})

// ---- VONAGE_SIGNATURE_SECRET set ----------------------------------------------------------

test('signed: a verified answer webhook may greet early', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const seen = spyStartCall(r)
  await signedAnswer(r, 'signed-1')
  assert.deepEqual(seen, [{ greetEarly: true }])
  assert.equal(r.logs.filter(l => l.msg === UNSIGNED_WARNING).length, 0)
})

test('signed: a Vonage media socket without a Vonage JWT, or with a bad or reused one, is refused before the upgrade', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const ncco = await signedAnswer(r, 'jwt-1')
  const connect = ncco.find(a => a.action === 'connect')!
  assert.deepEqual(connect.endpoint[0].authorization, { type: 'vonage' })
  const path = mediaPath(ncco)
  assert.equal((await tryUpgrade(r.port, path)).status, 401, 'no JWT')
  assert.equal((await tryUpgrade(r.port, path, { authorization: `Bearer ${signJwt(vonageClaims(''), 'not-the-secret')}` })).status, 401, 'wrong secret')
  assert.equal((await tryUpgrade(r.port, path, { authorization: `Bearer ${signJwt(vonageClaims('', { iat: nowSeconds() - 301 }), SECRET)}` })).status, 401, 'stale')
  assert.equal(r.app.bridge.sessions.get('jwt-1')?.mediaAttached, false, 'the refusals did not use the token up')
  const jwt = `Bearer ${signJwt(vonageClaims(''), SECRET)}`
  const client = await r.dial(ncco, { headers: { authorization: jwt } })
  await waitFor(() => r.app.bridge.sessions.get('jwt-1')?.mediaAttached === true, 3000, 'media to attach')
  assert.equal(client.closeCode, null)

  const ncco2 = await signedAnswer(r, 'jwt-2')
  assert.equal((await tryUpgrade(r.port, mediaPath(ncco2), { authorization: jwt })).status, 401, 'the same handshake JWT replayed for another call')
})

test('signed: the same signed request twice opens one session (jti remembered)', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const body = JSON.stringify({ uuid: 'replay-1', from: '818012345678', to: '815031023332' })
  const authorization = bearerFor(body, SECRET)
  const send = async (uuidBody: string) => await r.app.inject({ method: 'POST', url: '/incoming-call', headers: { 'content-type': 'application/json', authorization }, payload: uuidBody })
  assert.equal((await send(body)).statusCode, 200)
  const again = await send(body)
  assert.equal(again.statusCode, 401)
  assert.match(again.json().message, /already used/)
  assert.equal(r.app.bridge.sessions.size, 1)
})

test('signed: a token minted for a POST /event body, replayed as GET /incoming-call?uuid=… ten times, opens nothing', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const eventBody = JSON.stringify({ uuid: 'ev-1', status: 'answered' })
  const authorization = bearerFor(eventBody, SECRET)
  for (let i = 0; i < 10; i++) {
    const res = await r.app.inject({ method: 'GET', url: `/incoming-call?uuid=stolen-${i}`, headers: { authorization } })
    assert.equal(res.statusCode, 401, res.body)
    assert.match(res.json().message, /answer_method and event_method to POST/)
  }
  assert.equal(r.app.bridge.sessions.size, 0)
  assert.equal(r.fake.handshakes, 0)
})

test('signed: a GET webhook whose payload_hash covers its query (as Vonage documents) passes once', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const query = { uuid: 'get-1', from: '818012345678', to: '815031023332' }
  const authorization = bearerForQuery(query, SECRET)
  const url = `/incoming-call?${new URLSearchParams(query).toString()}`
  assert.equal((await r.app.inject({ method: 'GET', url, headers: { authorization } })).statusCode, 200)
  const swapped = `/incoming-call?${new URLSearchParams({ ...query, uuid: 'get-2' }).toString()}`
  assert.equal((await r.app.inject({ method: 'GET', url: swapped, headers: { authorization: bearerForQuery(query, SECRET) } })).statusCode, 401, 'a changed query')
  assert.equal((await r.app.inject({ method: 'GET', url: `${url}&uuid=x`, headers: { authorization: bearerForQuery(query, SECRET) } })).statusCode, 401, 'a repeated parameter')
  assert.deepEqual([...r.app.bridge.sessions.keys()], ['get-1'])
})

test('signed: a far exp does not extend the 300 s age limit counted from iat', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const body = JSON.stringify({ uuid: 'old-1' })
  for (const claims of [{ iat: nowSeconds() - 301, exp: nowSeconds() + 86400 * 365 }, { iat: undefined, exp: nowSeconds() + 3600 }, { iat: nowSeconds() + 3600 }]) {
    const res = await r.app.inject({ method: 'POST', url: '/incoming-call', headers: { 'content-type': 'application/json', authorization: bearerFor(body, SECRET, claims) }, payload: body })
    assert.equal(res.statusCode, 401, JSON.stringify(claims))
    assert.match(res.json().message, /300 s/)
  }
  assert.equal(r.app.bridge.sessions.size, 0)
})

test('signed: no signature at all → 503 (Vonage retries unsigned callbacks on 5xx); a bad one → 401; neither opens anything', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const body = JSON.stringify({ uuid: 'nosig-1' })
  for (const url of ['/incoming-call', '/answer', '/event']) {
    const res = await r.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: body })
    assert.equal(res.statusCode, 503, url)
    assert.match(res.json().message, /VONAGE_SIGNATURE_SECRET/)
  }
  const bad = await r.app.inject({ method: 'POST', url: '/incoming-call', headers: { 'content-type': 'application/json', authorization: bearerFor(body, 'wrong-secret') }, payload: body })
  assert.equal(bad.statusCode, 401)
  const noJti = await r.app.inject({ method: 'POST', url: '/incoming-call', headers: { 'content-type': 'application/json', authorization: bearerFor(body, SECRET, { jti: undefined }) }, payload: body })
  assert.equal(noJti.statusCode, 401)
  assert.equal(r.app.bridge.sessions.size, 0)
  assert.equal(r.fake.handshakes, 0)
})

test('signed: a validly signed answer is exempt from the per-client limit; unsigned requests are not', async (t) => {
  const r = await rig(t, { VONAGE_SIGNATURE_SECRET: SECRET, ANSWER_RATE_LIMIT_PER_MINUTE: 1 })
  for (let i = 0; i < 3; i++) await signedAnswer(r, `vonage-${i}`)
  const codes = []
  for (let i = 0; i < 2; i++) codes.push((await r.app.inject({ method: 'POST', url: '/incoming-call', payload: { uuid: 'x' } })).statusCode)
  assert.deepEqual(codes, [503, 429])
})
