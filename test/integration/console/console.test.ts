import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { build } from '../../helpers/build.js'
import { conversationRig } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { embeddedDataDir } from '../records/store-backends.js'
import { getCall } from '../../../lib/records/store/queries.js'
import { WRONG_KEYS_PER_MINUTE } from '../../../plugins/console.js'
import { collectSse } from '../../helpers/sse.js'

const KEY = 'console-key-0123456789abcdef'
const REMOTE = { host: 'bridge.example.test' }
const GREETING = 'お電話ありがとうございます。チャッピーです。'

/** The cookie /console?key= sets, as a browser would send it back. */
async function login (app: Awaited<ReturnType<typeof build>>['app']): Promise<string> {
  const res = await app.inject({ url: `/console?key=${KEY}`, headers: REMOTE })
  assert.equal(res.statusCode, 303)
  return String(res.headers['set-cookie']).split(';')[0]!
}

test('CONSOLE_KEY shorter than 16 characters is a config error naming it', async (t) => {
  await assert.rejects(build(t, { CONSOLE_KEY: 'short-key' }), /CONSOLE_KEY is too short/)
})

test('without CONSOLE_KEY the console is off for other machines and open on this one (no proxy in between)', async (t) => {
  const { app } = await build(t)
  for (const url of ['/console', '/api/calls', '/console/events', '/console/assets/console.js']) {
    const res = await app.inject({ url, headers: REMOTE })
    assert.equal(res.statusCode, 404, url)
    assert.match(res.json().message, /CONSOLE_KEY/)
  }
  const viaTunnel = await app.inject({ url: '/console', headers: { 'x-forwarded-for': '203.0.113.5' } })
  assert.equal(viaTunnel.statusCode, 404, 'a tunnel on loopback is not this machine')
  const local = await app.inject({ url: '/console' })
  assert.equal(local.statusCode, 200)
  assert.match(local.body, /通話コンソール/)
  const js = await app.inject({ url: '/console/assets/console.js' })
  assert.equal(js.statusCode, 200)
  const noStore = await app.inject({ url: '/api/calls' })
  assert.equal(noStore.statusCode, 404)
  assert.match(noStore.json().message, /DATA_DIR/, 'with DATA_DIR empty no history is kept, and the API says how to keep it')
})

test('the page: strict Content-Security-Policy, no inline script, no caching, no framing', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/console' })
  const csp = String(res.headers['content-security-policy'])
  assert.match(csp, /default-src 'none'/)
  assert.match(csp, /script-src 'self';/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.equal(res.headers['cache-control'], 'no-store')
  assert.equal(res.headers['referrer-policy'], 'no-referrer')
  assert.doesNotMatch(res.body.replace(/<script [^>]*src="[^"]+"[^>]*><\/script>/g, ''), /<script/i, 'every script is a file')
  assert.doesNotMatch(res.body, /style=/)
})

test('with CONSOLE_KEY: ?key= sets an HttpOnly SameSite=Strict cookie (not the key) and redirects; a wrong key gets 401 and nothing else', async (t) => {
  const { app } = await build(t, { CONSOLE_KEY: KEY })
  const none = await app.inject({ url: '/console', headers: REMOTE })
  assert.equal(none.statusCode, 401)
  const wrong = await app.inject({ url: '/console?key=not-the-console-key', headers: REMOTE })
  assert.equal(wrong.statusCode, 401)
  assert.deepEqual(wrong.json(), { statusCode: 401, error: 'Unauthorized', message: 'Unauthorized' })
  assert.equal(wrong.headers['set-cookie'], undefined)
  assert.equal(wrong.headers['content-security-policy'], undefined, 'no page')

  const ok = await app.inject({ url: `/console?key=${KEY}`, headers: REMOTE })
  assert.equal(ok.statusCode, 303)
  assert.equal(ok.headers.location, '/console', 'the key leaves the address bar')
  const cookie = String(ok.headers['set-cookie'])
  assert.match(cookie, /HttpOnly/)
  assert.match(cookie, /SameSite=Strict/)
  assert.match(cookie, /Path=\//)
  assert.ok(!cookie.includes(KEY), 'the cookie does not hold the key')

  const page = await app.inject({ url: '/console', headers: { ...REMOTE, cookie: cookie.split(';')[0]! } })
  assert.equal(page.statusCode, 200)
  const forged = await app.inject({ url: '/console', headers: { ...REMOTE, cookie: 'console_session=0123' } })
  assert.equal(forged.statusCode, 401)
})

test('wrong keys are rate-limited per client; the right key is not counted', async (t) => {
  const { app } = await build(t, { CONSOLE_KEY: KEY })
  for (let i = 0; i < WRONG_KEYS_PER_MINUTE; i++) {
    const res = await app.inject({ url: `/console?key=wrong-${i}`, headers: REMOTE })
    assert.equal(res.statusCode, 401)
  }
  const limited = await app.inject({ url: '/console?key=wrong-again', headers: REMOTE })
  assert.equal(limited.statusCode, 429)
  const api = await app.inject({ url: '/api/calls', headers: { ...REMOTE, authorization: 'Bearer wrong-bearer-key' } })
  assert.equal(api.statusCode, 429, 'one budget for the page and the API')
  const right = await app.inject({ url: `/console?key=${KEY}`, headers: { ...REMOTE, cookie: 'console_session=stale-from-an-old-key' } })
  assert.equal(right.statusCode, 303, 'the right key logs in, even beside a stale cookie')
})

test('the JSON API: Bearer CONSOLE_KEY or the cookie; bad query parameters get 400 naming the parameter', async (t) => {
  const { app } = await build(t, { CONSOLE_KEY: KEY, DATA_DIR: await embeddedDataDir(t) })
  assert.ok(await app.callStore.opened)
  const bearer = { ...REMOTE, authorization: `Bearer ${KEY}` }
  assert.equal((await app.inject({ url: '/api/calls', headers: REMOTE })).statusCode, 401)
  const list = await app.inject({ url: '/api/calls', headers: bearer })
  assert.equal(list.statusCode, 200)
  assert.deepEqual(list.json(), { total: 0, page: 1, limit: 25, calls: [] })
  const cookie = await login(app)
  assert.equal((await app.inject({ url: '/api/calls', headers: { ...REMOTE, cookie } })).statusCode, 200)
  const cases: Array<[string, string]> = [
    ['/api/calls?direction=sideways', 'direction'], ['/api/calls?from=2026-02-30x', 'from'], ['/api/calls?limit=1000', 'limit'],
    ['/api/calls?sort=asc', 'sort'], ['/api/calls.csv?outcome=great', 'outcome'], ['/api/overview?days=0', 'days'],
    ['/api/overview?tzOffset=abc', 'tzOffset'], ['/api/calls/abc?x=1', 'x']
  ]
  for (const [url, param] of cases) {
    const res = await app.inject({ url, headers: bearer })
    assert.equal(res.statusCode, 400, url)
    assert.match(res.json().message, new RegExp(`"${param}"`), url)
  }
  assert.equal((await app.inject({ url: '/api/calls/nope', headers: bearer })).statusCode, 404)
})

test('live calls stream as Server-Sent Events; history, detail, CSV and JSON export follow; the hang-up refuses cross-site requests', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const rig = await conversationRig(t, { DATA_DIR: dataDir, CONSOLE_KEY: KEY }, { transcript: GREETING })
  const db = await rig.app.callStore.opened
  assert.ok(db !== null)

  // CONSOLE_KEY is set: even a request from this machine needs it (issue #21).
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: rig.port, path: '/console/events', headers: { accept: 'text/event-stream', authorization: `Bearer ${KEY}` } }, resolve)
    req.on('error', reject)
    req.end()
  })
  t.after(() => res.destroy())
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/event-stream/)
  const events = collectSse(res)
  await waitFor(() => events.some(e => e.event === 'snapshot'), 5000, 'the snapshot')
  const plain = await rig.app.inject({ url: '/console/events', headers: { authorization: `Bearer ${KEY}` } })
  assert.equal(plain.statusCode, 406, 'no endless answer to a request that did not ask for a stream')
  const snap = events.find(e => e.event === 'snapshot')!.data
  assert.deepEqual(snap.calls.map((c: { id: string }) => c.id), [rig.uuid], 'the call in progress')
  assert.equal(snap.calls[0].from, '********5678')
  assert.deepEqual(snap.calls[0].lines.map((l: { text: string }) => l.text), [GREETING])

  rig.fake.transcribeInput(rig.conn, '予約をお願いします')
  await waitFor(() => events.some(e => e.event === 'line' && e.data.line.text === '予約をお願いします'), 5000, 'the caller\'s line, live')

  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const hangup = `/console/calls/${rig.uuid}/hangup`
  const cookie = await login(rig.app)
  const crossOrigin = await rig.app.inject({ method: 'POST', url: hangup, headers: { ...REMOTE, cookie, origin: 'https://evil.example' } })
  assert.equal(crossOrigin.statusCode, 403)
  const crossSite = await rig.app.inject({ method: 'POST', url: hangup, headers: { ...REMOTE, cookie, 'sec-fetch-site': 'cross-site' } })
  assert.equal(crossSite.statusCode, 403)
  const noKey = await rig.app.inject({ method: 'POST', url: hangup, headers: REMOTE })
  assert.equal(noKey.statusCode, 401)
  assert.equal(session.ended, false, 'refused requests did not end the call')

  const ok = await rig.app.inject({ method: 'POST', url: hangup, headers: { ...REMOTE, cookie, origin: 'https://bridge.example.test', 'sec-fetch-site': 'same-origin' } })
  assert.equal(ok.statusCode, 200)
  assert.equal(session.ended, true)
  await waitFor(() => events.some(e => e.event === 'end' && e.data.id === rig.uuid), 5000, 'the end event')
  await waitFor(() => rig.media.closedAt !== null, 5000, 'the caller\'s socket closed')

  const bearer = { ...REMOTE, authorization: `Bearer ${KEY}` }
  const history = async (): Promise<any> => (await rig.app.inject({ url: '/api/calls?direction=inbound&q=予約', headers: bearer })).json()
  let list = await history()
  // The end is written by the next flush (250 ms): wait for that answer, not a fixed time.
  for (const deadline = Date.now() + 10_000; list.calls[0]?.endedAt == null && Date.now() < deadline;) list = await history()
  assert.equal(list.total, 1)
  assert.equal(list.calls[0].endReason, 'ended')
  const detail = (await rig.app.inject({ url: `/api/calls/${rig.uuid}`, headers: bearer })).json()
  assert.deepEqual(detail.transcript.map((l: { text: string }) => l.text), [GREETING, '予約をお願いします'])
  assert.equal((await getCall(db, rig.uuid))?.endReason, 'ended')

  const csv = await rig.app.inject({ url: '/api/calls.csv?direction=inbound', headers: bearer })
  assert.equal(csv.statusCode, 200)
  assert.match(String(csv.headers['content-type']), /^text\/csv/)
  assert.match(String(csv.headers['content-disposition']), /attachment; filename="calls-\d{4}-\d{2}-\d{2}\.csv"/)
  const rows = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n')
  assert.equal(rows.length, 2)
  assert.ok(rows[1]!.startsWith(`${rig.uuid},`))
  assert.ok(rows[1]!.includes(',********5678,'))
  const none = await rig.app.inject({ url: '/api/calls.csv?direction=outbound', headers: bearer })
  assert.equal(none.body.replace(/^\uFEFF/, '').trim().split('\r\n').length, 1, 'the filter applies to the export')
  const json = await rig.app.inject({ url: '/api/calls.json', headers: bearer })
  assert.deepEqual(json.json().map((c: { id: string }) => c.id), [rig.uuid])
})

test('STORE_TRANSCRIPTS=false: the live view shows the call but not its words', async (t) => {
  // LOG_TRANSCRIPTS on only so the log line says when each line was transcribed (the signal this test waits for).
  const rig = await conversationRig(t, { STORE_TRANSCRIPTS: false, LOG_TRANSCRIPTS: true }, { transcript: GREETING })
  rig.fake.transcribeInput(rig.conn, '秘密の話です')
  await waitFor(() => rig.logs.some(l => l.msg === 'transcript' && l.text === '秘密の話です'), 5000, 'the caller\'s line to be transcribed')
  const live = rig.app.callStore.live.calls.get(rig.uuid)
  assert.ok(live !== undefined, 'the call is live')
  assert.deepEqual(live.lines, [])
  let lineEvents = 0
  rig.app.callStore.live.on('line', () => { lineEvents++ })
  rig.fake.transcribeInput(rig.conn, 'もう一つの秘密')
  await waitFor(() => rig.logs.some(l => l.msg === 'transcript' && l.text === 'もう一つの秘密'), 5000, 'the second line to be transcribed')
  assert.equal(lineEvents, 0, 'no line went to the live view')
})
