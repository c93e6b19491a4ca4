import { test } from 'node:test'
import assert from 'node:assert/strict'
import { callRig } from '../../helpers/call-rig.js'
import { tryUpgrade } from '../../helpers/upgrade.js'
import { signToken, deriveTokenKey } from '../../../lib/security/tokens.js'
import { placement } from '../../../lib/security/fly-replay.js'

/*
 * One call, one machine (issue #15 item 2), in one process: requests for a
 * call held by another machine are answered with fly-replay and open nothing.
 * test/system/fly-replay.test.ts runs the same through a replaying proxy.
 */

const KEY = deriveTokenKey('', 'sk-test-0123456789abcdef', 'media/v2')
const tokenFor = (callId: string, machine: string): string =>
  signToken({ exp: Math.floor(Date.now() / 1000) + 60, c: callId, m: machine, j: `j-${callId}-${machine}` }, KEY)

test('placement: here, replay to the holder, or lost (no Fly, already replayed, or not a machine id)', () => {
  assert.deepEqual(placement('', '', false), { where: 'here' })
  assert.deepEqual(placement('a1', 'a1', false), { where: 'here' })
  assert.deepEqual(placement('b2', 'a1', false), { where: 'replay', instance: 'b2' })
  assert.deepEqual(placement('b2', 'a1', true), { where: 'lost', instance: 'b2' })
  assert.deepEqual(placement('b2', '', false), { where: 'lost', instance: 'b2' })
  assert.deepEqual(placement('b2;region=x', 'a1', false), { where: 'lost', instance: 'b2;region=x' })
})

test('tokens name the machine holding the call (FLY_MACHINE_ID)', async (t) => {
  const r = await callRig(t, { FLY_MACHINE_ID: 'a1' })
  const ncco = await r.answer({ uuid: 'named-1' })
  const connect = ncco.find(a => a.action === 'connect')!
  const token = decodeURIComponent(String(connect.endpoint[0].uri).split('token=')[1]!)
  const check = r.app.mediaTokens.verify(token)
  assert.ok(check.ok)
  assert.equal(check.claims.m, 'a1')
  assert.deepEqual(connect.eventUrl, ['https://bridge.example.test/event?leg=media&call=named-1&m=a1'], 'the media leg reports to the holder')
})

test('a media upgrade for a call held elsewhere gets fly-replay: instance=<holder>, no upgrade, nothing upstream', async (t) => {
  const r = await callRig(t, { FLY_MACHINE_ID: 'a1' })
  const res = await tryUpgrade(r.port, `/media?token=${encodeURIComponent(tokenFor('elsewhere-1', 'b2'))}`)
  assert.equal(res.status, 409, res.body)
  assert.equal(res.headers['fly-replay'], 'instance=b2')
  assert.equal(r.fake.handshakes, 0)
  assert.equal(r.app.bridge.sessions.size, 0)
  // Already replayed once (Fly adds fly-replay-src): no second hop, no loop.
  const looped = await tryUpgrade(r.port, `/media?token=${encodeURIComponent(tokenFor('elsewhere-2', 'b2'))}`, { 'fly-replay-src': 'instance=b2;region=nrt;t=1' })
  assert.equal(looped.status, 410)
  assert.equal(looped.headers['fly-replay'], undefined)
})

test('off Fly (no FLY_MACHINE_ID), a token naming a machine is refused (410) rather than served', async (t) => {
  const r = await callRig(t)
  const res = await tryUpgrade(r.port, `/media?token=${encodeURIComponent(tokenFor('other-1', 'b2'))}`)
  assert.equal(res.status, 410)
  assert.equal(res.headers['fly-replay'], undefined)
})

test('/event and /answer naming another machine (?m=) are replayed there before any signature is checked or remembered', async (t) => {
  const r = await callRig(t, { FLY_MACHINE_ID: 'a1', VONAGE_SIGNATURE_SECRET: 'sig-secret-0123456789abcdef0123456789' })
  for (const url of ['/event?m=b2&md=hangup', '/event?leg=media&call=c1&m=b2', '/answer?ctx=x&m=b2']) {
    const res = await r.app.inject({ method: 'POST', url, payload: { uuid: 'c1', status: 'completed' } })
    assert.equal(res.statusCode, 409, url)
    assert.equal(res.headers['fly-replay'], 'instance=b2', url)
  }
  const here = await r.app.inject({ method: 'POST', url: '/event?m=a1', payload: { uuid: 'c1', status: 'completed' } })
  assert.equal(here.statusCode, 503, 'this machine checks the signature (none here)')
  assert.equal(r.app.bridge.sessions.size, 0)
})

test('machine detection: on status machine, continue ends our side politely when the session cannot speak; hangup leaves it to Vonage', async (t) => {
  const r = await callRig(t)
  await r.answer({ uuid: 'vm-1' }, '/answer')
  await r.answer({ uuid: 'vm-2' }, '/answer')
  await r.webhook('/event?md=hangup', { uuid: 'vm-1', status: 'machine' })
  assert.equal(r.app.bridge.sessions.get('vm-1')?.ended, false, 'hangup: Vonage ends the call and reports completed')
  assert.ok(r.logs.some(l => l.msg === 'answering machine: Vonage hangs up (machine detection: hangup)'))
  await r.webhook('/event?md=continue', { uuid: 'vm-2', status: 'machine' })
  const engine = (r.app.bridge.sessions.get('vm-2') as unknown as { engine?: unknown } | undefined)?.engine
  if (engine === undefined) assert.equal(r.app.bridge.sessions.has('vm-2'), false, 'no engine to speak with: the call is ended')
  else assert.ok(r.logs.some(l => l.msg === 'answering machine: the assistant leaves a message (machine detection: continue)'))
})
