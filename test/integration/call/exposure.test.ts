import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { createHash, createHmac } from 'node:crypto'
import { callRig, callerPcm16k } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import type { CallStats } from '../../../lib/call/stats.js'

const SECRET = 'sig-secret-0123456789abcdef0123456789'

/** Signs like Vonage does (HS256 JWT with the body's sha256 as payload_hash). */
function vonageJwt (body: string): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ iat: Math.floor(Date.now() / 1000), jti: `jti-${Math.random()}`, iss: 'Vonage', payload_hash: createHash('sha256').update(body).digest('hex') })}`
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`
}

const ended = (logs: Array<Record<string, unknown>>, callId: string): CallStats | undefined =>
  logs.filter(l => l.msg === 'call ended').map(l => l.call as CallStats).find(c => c.callId === callId)

test('an unsigned answer webhook opens the model session (session.update) but the model speaks only once the media socket attaches', async (t) => {
  const rig = await callRig(t, { VONAGE_SIGNATURE_SECRET: '', ALLOW_UNSIGNED_WEBHOOKS: true })
  const upstream = rig.fake.nextConnection()
  const ncco = await rig.answer({ uuid: 'unsigned' })
  const conn = await upstream
  await waitFor(() => conn.events.some(e => e.type === 'session.update'), 2000, 'session.update')
  const session = rig.app.bridge.sessions.get('unsigned')!
  // Explicit signals instead of a sleep: a transcript the session has handled (so session.updated was too), then a marker the
  // session sends: a response.create sent before it would have reached the fake first.
  const handled = once(session, 'transcript')
  rig.fake.transcribeInput(conn, 'marker')
  await handled
  session.engine.addUserText('marker')
  await waitFor(() => conn.events.some(e => e.type === 'conversation.item.create'), 2000, 'the marker')
  assert.deepEqual(conn.events.map(e => e.type), ['session.update', 'conversation.item.create'], 'no response.create before the media socket')
  const client = await rig.dial(ncco)
  await waitFor(() => conn.events.some(e => e.type === 'response.create'), 2000, 'the greeting, once the media socket attached')
  await waitFor(() => client.frames.length >= 10, 3000, 'the greeting heard')
  assert.deepEqual(conn.invalid, [])
})

test('a signed answer webhook prepares the greeting at once, before the media socket', async (t) => {
  const rig = await callRig(t, { VONAGE_SIGNATURE_SECRET: SECRET })
  const upstream = rig.fake.nextConnection()
  const body = JSON.stringify({ uuid: 'signed', conversation_uuid: 'CON-1', from: '818012345678', to: '815031023332' })
  const res = await rig.app.inject({ method: 'POST', url: '/incoming-call', headers: { 'content-type': 'application/json', authorization: `Bearer ${vonageJwt(body)}` }, payload: body })
  assert.equal(res.statusCode, 200)
  const conn = await upstream
  await waitFor(() => conn.events.some(e => e.type === 'response.create'), 2000, 'the greeting requested before any media socket')
  assert.equal(rig.app.bridge.sessions.get('signed')?.mediaAttached, false)
  assert.deepEqual(conn.events.slice(0, 2).map(e => e.type), ['session.update', 'response.create'])
})

test('a prepared call whose media socket never comes is closed after MEDIA_WAIT_SECONDS, with a log line', async (t) => {
  const rig = await callRig(t, { MEDIA_WAIT_SECONDS: 1, VONAGE_SIGNATURE_SECRET: '', ALLOW_UNSIGNED_WEBHOOKS: true })
  const upstream = rig.fake.nextConnection()
  await rig.answer({ uuid: 'no-media' })
  const conn = await upstream
  await waitFor(() => ended(rig.logs, 'no-media') !== undefined, 5000, 'the call ended')
  assert.equal(ended(rig.logs, 'no-media')!.reason, 'no-media')
  assert.ok(rig.logs.some(l => l.level === 40 && l.msg === 'no media socket came for the prepared call: ending it' && l.callId === 'no-media'))
  await waitFor(() => conn.closedAt !== null, 2000, 'model socket closed')
  assert.equal(rig.app.calls.size, 0)
  assert.ok(!conn.events.some(e => e.type === 'response.create'), 'an unsigned, never-connected call never made the model speak')
})

test('caller audio pushed faster than real time reaches the model at no more than real time plus 200 ms; the excess is counted', async (t) => {
  const rig = await callRig(t)
  const upstream = rig.fake.nextConnection()
  const ncco = await rig.answer({ uuid: 'flood' })
  const conn = await upstream
  const client = await rig.dial(ncco)
  const frame = Buffer.from(callerPcm16k.buffer, callerPcm16k.byteOffset, 640)
  const start = performance.now()
  for (let i = 0; i < 1500; i++) client.sendRaw(frame) // 30 s of audio at once
  await waitFor(() => conn.audioSamples > 0, 3000, 'some audio at the model')
  await client.close()
  const elapsed = performance.now() - start
  await waitFor(() => ended(rig.logs, 'flood') !== undefined, 3000, 'the call ended')
  const stats = ended(rig.logs, 'flood')!
  const forwardedMs = conn.audioSamples / 24
  assert.ok(forwardedMs <= 200 + elapsed + 20, `${forwardedMs} ms forwarded in ${elapsed.toFixed(0)} ms`)
  assert.ok(stats.overRateMs >= 30_000 - 200 - elapsed - 20, `overRateMs ${stats.overRateMs}`)
  assert.equal(stats.callerAudioMs, 30_000)
})

test('the model refusing session.update ends the call with the apology and the server\'s message in an error line', async (t) => {
  const rig = await callRig(t, {}, { sessionUpdateError: { code: 'invalid_value', message: 'Invalid value: \'robot\'. Supported values are: marin, cedar.' } })
  const client = await rig.dial(await rig.answer({ uuid: 'refused' }))
  await waitFor(() => client.closedAt !== null, 15_000, 'the call ended')
  assert.ok(client.receivedMs > 3000, `the apology played (${client.receivedMs} ms)`)
  assert.equal(client.closeCode, 1000)
  const stats = ended(rig.logs, 'refused')!
  assert.equal(stats.reason, 'upstream-failed')
  assert.equal(stats.upstreamFailure, 'config-refused')
  const line = rig.logs.find(l => l.level === 50 && l.callId === 'refused')!
  assert.equal(line.cause, 'config-refused')
  assert.match(String(line.detail), /Supported values are: marin, cedar/)
})

test('a model message over the size limit ends the call with the apology (too-large)', async (t) => {
  const rig = await callRig(t)
  const upstream = rig.fake.nextConnection()
  const client = await rig.dial(await rig.answer({ uuid: 'big' }))
  const conn = await upstream
  await waitFor(() => client.frames.length >= 5, 3000, 'greeting')
  rig.fake.sendBig(conn, 5 * 1024 * 1024)
  await waitFor(() => client.closedAt !== null, 15_000, 'the call ended')
  const stats = ended(rig.logs, 'big')!
  assert.equal(stats.reason, 'upstream-failed')
  assert.equal(stats.upstreamFailure, 'too-large')
  assert.equal(client.closeCode, 1000)
})
