import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnServer, request, dial, logLines } from '../helpers/process.js'
import { startFlyProxy } from '../helpers/fly-proxy.js'
import { vonageHeaders } from '../helpers/vonage-sign.js'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'

/*
 * Issue #15 item 2 with two real server processes (FLY_MACHINE_ID a and b)
 * behind a proxy that honours fly-replay as Fly documents it. Vonage's answer
 * webhook reaches machine a; its media socket and media-leg events reach b
 * first, and must end up on a, with exactly one upstream model session.
 */

test('a call answered on machine a whose media socket first reaches b ends up on a, with one upstream session', async (t) => {
  const fake = await startFakeRealtime()
  t.after(() => fake.close())
  // Fly's balancing, made deterministic: webhooks to a, sockets and events to b.
  const proxy = await startFlyProxy(req => /^\/(media|event)/.test(req.url ?? '') ? 'b' : 'a')
  t.after(() => proxy.close())
  const env = { OPENAI_BASE_URL: fake.baseUrl, SERVER_URL: `127.0.0.1:${proxy.port}` }
  const [a, b] = await Promise.all([spawnServer(t, { ...env, FLY_MACHINE_ID: 'a' }), spawnServer(t, { ...env, FLY_MACHINE_ID: 'b' })])
  proxy.machines.set('a', a.port)
  proxy.machines.set('b', b.port)
  const base = `http://127.0.0.1:${proxy.port}`
  const answer = async (uuid: string): Promise<Array<Record<string, any>>> => {
    const body = JSON.stringify({ uuid, from: '818012345678', to: '815031023332' })
    const res = await request(base, 'POST', '/incoming-call', body, vonageHeaders(body))
    assert.equal(res.status, 200, res.body)
    return res.json
  }

  const ncco = await answer('fly-call-1')
  const caller = await dial(proxy.port, ncco)
  t.after(() => caller.close())
  await waitFor(() => caller.frames.length > 0, 10_000, 'assistant audio through the replayed socket')

  const mediaPath = String(ncco.find(x => x.action === 'connect')!.endpoint[0].uri).replace(/^wss:\/\/[^/]+/, '')
  assert.deepEqual(proxy.replays, [{ path: mediaPath, from: 'b', to: 'a', upgrade: true }])
  assert.equal(fake.handshakes, 1, 'exactly one upstream session')
  const onA = logLines(a.output())
  const onB = logLines(b.output())
  assert.ok(onA.some(l => l.msg === 'call answered' && l.uuid === 'fly-call-1'))
  assert.ok(onB.some(l => l.msg === 'media socket for a call held elsewhere: fly-replay' && l.holder === 'a'))
  assert.ok(!onB.some(l => l.msg === 'call answered'), 'b never held the call')
  assert.equal((await request(`http://127.0.0.1:${b.port}`, 'GET', '/health')).json.calls, 0)
  assert.equal((await request(`http://127.0.0.1:${a.port}`, 'GET', '/health')).json.calls, 1)

  // The media leg's event URL names a too: a failure reported to b is handled by a.
  const ncco2 = await answer('fly-call-2')
  await waitFor(() => fake.handshakes === 2, 5000, 'the second call\'s session')
  const eventUrl = String(ncco2.find(x => x.action === 'connect')!.eventUrl[0]).replace(/^https:\/\/[^/]+/, '')
  assert.match(eventUrl, /&m=a$/)
  const failedBody = JSON.stringify({ uuid: 'media-leg-2', status: 'failed' })
  const failed = await request(base, 'POST', eventUrl, failedBody, vonageHeaders(failedBody))
  assert.equal(failed.status, 200)
  assert.equal(failed.json[0].action, 'talk', 'a answers with the apology NCCO')
  assert.deepEqual(proxy.replays.at(-1), { path: eventUrl, from: 'b', to: 'a', upgrade: false })
  await waitFor(() => logLines(a.output()).some(l => l.msg === 'call ended' && l.callId === 'fly-call-2'), 5000, 'a to end the second call')

  await caller.close()
  await waitFor(() => logLines(a.output()).some(l => l.msg === 'call ended' && l.callId === 'fly-call-1'), 5000, 'a to end the first call')
  assert.equal(fake.handshakes, 2)
})
