import { test } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { once } from 'node:events'
import { callRig, callerPcm16k, callerSpeech16k, assistantPcm24k, mediaSettled, settled } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { VonageMediaClient } from '../../fakes/vonage-media-client.js'
import { deriveTokenKey, signToken } from '../../../lib/security/tokens.js'
import { rmsDbfs } from '../../helpers/audio-quality.js'

test('the media socket refuses a missing, forged or expired token with 401, before any upstream connection', async (t) => {
  const rig = await callRig(t)
  const base = `ws://127.0.0.1:${rig.port}/media`
  const key = deriveTokenKey('', 'sk-test-0123456789abcdef', 'media')
  const expired = signToken({ exp: Math.floor(Date.now() / 1000) - 1, c: 'leg-x', d: 'inbound' }, key)
  const foreign = signToken({ exp: Math.floor(Date.now() / 1000) + 60, c: 'leg-x', d: 'inbound' }, deriveTokenKey('', 'sk-someone-else', 'media'))
  for (const url of [base, `${base}?token=`, `${base}?token=junk`, `${base}?token=${expired}`, `${base}?token=${foreign}`]) {
    await assert.rejects(VonageMediaClient.connect(url), /upgrade refused: 401/, url)
  }
  assert.equal(rig.fake.handshakes, 0, 'no upstream connection was opened')
})

test('one token opens one media socket: a second is refused (401, token used)', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer()
  await rig.dial(ncco)
  await assert.rejects(rig.dial(ncco), /upgrade refused: 401/)
})

test('a media socket for a call this process does not hold is refused (410) and starts nothing (issue #14: no rebuild from the token)', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer({ uuid: 'leg-moved' })
  rig.app.bridge.endCall('leg-moved', 'ended') // as if another instance had answered
  await waitFor(() => rig.app.calls.size === 0, 1000, 'prewarm gone')
  const handshakes = rig.fake.handshakes
  await assert.rejects(rig.dial(ncco), /upgrade refused: 410/)
  assert.equal(rig.app.calls.size, 0)
  assert.equal(rig.fake.handshakes, handshakes)
})

test('barge-in: clear to Vonage, truncate at what was heard, late deltas dropped', async (t) => {
  const rig = await callRig(t, { PLAYBACK_LEAD_MS: 100 }, { answer: assistantPcm24k.subarray(0, 24000 * 5) })
  const ncco = await rig.answer({ uuid: 'barge' })
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  await waitFor(() => client.frames.length >= 60, 5000, '1.2 s of greeting')
  const bargeAt = performance.now()
  // The caller really talks (the bridge cuts after BARGE_IN_MIN_MS of speech, not at the first sound).
  void client.stream(callerSpeech16k)
  rig.fake.speechStarted(conn)
  await waitFor(() => client.texts.some(m => m.msg.action === 'clear'), 2000, 'clear')
  const clear = client.texts.find(m => m.msg.action === 'clear')!
  const receivedMs = client.frames.filter(f => f.at <= clear.at).length * 20
  await waitFor(() => conn.events.some(e => e.type === 'conversation.item.truncate'), 1000, 'truncate')
  const truncate = conn.events.find(e => e.type === 'conversation.item.truncate')!
  assert.equal(truncate.item_id, conn.lastItemId)
  assert.equal(truncate.content_index, 0)
  const heard = Number(truncate.audio_end_ms)
  // Vonage holds up to the 100 ms lead that was sent but not yet played.
  assert.ok(heard <= receivedMs, `audio_end_ms ${heard} ≤ the ${receivedMs} ms sent`)
  assert.ok(heard >= receivedMs - 100 - 40, `audio_end_ms ${heard} ≈ the ${receivedMs} ms sent minus the lead`)
  const framesAtClear = client.frames.filter(f => f.at <= clear.at).length
  // Late deltas of the interrupted response arrive after the barge-in: none may reach the caller.
  rig.fake.send(conn, { type: 'response.output_audio.delta', response_id: conn.lastResponseId, item_id: conn.lastItemId, output_index: 0, content_index: 0, delta: Buffer.alloc(9600, 1).toString('base64') })
  const session = rig.app.bridge.sessions.get('barge')!
  await waitFor(() => session.stats.lateDeltasDropped === 1, 2000, 'the late delta handled and dropped')
  await mediaSettled(session, client)
  assert.equal(client.frames.length, framesAtClear, 'no frame after the clear')
  assert.deepEqual(conn.invalid, [])
  assert.ok(!conn.events.some(e => e.type === 'error'))
  assert.ok(clear.at - bargeAt < 2000)
  // A new response after the barge-in plays normally.
  void rig.fake.respond(conn, assistantPcm24k.subarray(0, 24000 / 2))
  await waitFor(() => client.frames.length >= framesAtClear + 25, 3000, 'next answer')
  await client.close()
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 1000, 'call record')
  const call = rig.logs.find(l => l.msg === 'call ended')!.call as Record<string, number>
  assert.equal(call.bargeIns, 1)
  assert.equal(call.lateDeltasDropped, 1)
})

test('speech while the assistant is silent is not a barge-in', async (t) => {
  const rig = await callRig(t, {}, { answer: assistantPcm24k.subarray(0, 2400) })
  const ncco = await rig.answer({ uuid: 'quiet' })
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  await waitFor(() => client.frames.length >= 5, 2000, 'short greeting')
  const session = rig.app.bridge.sessions.get('quiet')!
  await session.whenPlayed()
  const heard = once(session, 'turn')
  rig.fake.speechStarted(conn)
  await heard
  await mediaSettled(session, client)
  await settled(session, conn)
  assert.equal(client.texts.filter(m => m.msg.action === 'clear').length, 0)
  assert.ok(!conn.events.some(e => e.type === 'conversation.item.truncate'))
})

test('Vonage hanging up closes the upstream socket within 100 ms', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer()
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  await waitFor(() => client.frames.length >= 10, 2000, 'audio')
  const closedAt = performance.now()
  client.ws.terminate() // no close handshake, as when a network drops
  await waitFor(() => conn.closedAt !== null, 1000, 'upstream closed')
  const took = conn.closedAt! - closedAt
  assert.ok(took < 100, `upstream closed ${took.toFixed(1)} ms after Vonage hung up`)
  await waitFor(() => rig.app.calls.size === 0, 500, 'registry empty')
  assert.equal(rig.app.bridge.pacer.size, 0, 'no pacing left for the call')
})

test('upstream closing mid-call: the caller hears the apology, then the media socket closes', async (t) => {
  const rig = await callRig(t, {}, { answer: assistantPcm24k.subarray(0, 2400) })
  const ncco = await rig.answer()
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  await waitFor(() => client.frames.length >= 5, 2000, 'greeting')
  const before = client.frames.length
  conn.ws.close(1011, 'server error')
  await waitFor(() => client.closedAt !== null, 10_000, 'media closed after the apology')
  const apology = client.audio().subarray(before * 320)
  assert.ok(apology.length / 16000 > 3, `apology of ${(apology.length / 16000).toFixed(1)} s played`)
  assert.ok(rmsDbfs(apology) > -40, 'the apology is speech, not silence')
  assert.equal(client.closeCode, 1000)
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 1000, 'record')
  assert.equal((rig.logs.find(l => l.msg === 'call ended')!.call as { reason: string }).reason, 'upstream-closed')
})

for (const [name, env, fakeOpts] of [
  ['refuses the handshake (401)', {}, { refuse: 401 }],
  ['is not listening at all', { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, {}]
] as const) {
  test(`when the model ${name}: retried, then an apology and a clean end, never dead air`, async (t) => {
    const rig = await callRig(t, env, fakeOpts)
    const ncco = await rig.answer()
    const client = await rig.dial(ncco)
    await waitFor(() => client.closedAt !== null, 15_000, 'call ended')
    assert.ok(client.receivedMs > 3000, `apology played (${client.receivedMs} ms)`)
    assert.equal(client.closeCode, 1000)
    if ('refuse' in fakeOpts) assert.equal(rig.fake.handshakes, 2, 'one retry')
    const call = rig.logs.find(l => l.msg === 'call ended')!.call as { reason: string }
    assert.equal(call.reason, 'upstream-failed')
    assert.equal(rig.app.calls.size, 0)
  })
}

test('bad frames are counted and dropped; the call goes on', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer()
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  client.sendRaw(Buffer.alloc(641)) // odd size
  client.sendRaw('not json at all')
  client.sendRaw('{"event":"websocket:who-knows"}')
  client.sendRaw(Buffer.alloc(640 * 10)) // oversized
  client.sendRaw('x'.repeat(100_000)) // oversized text
  client.sendRaw(Buffer.alloc(480)) // even but not 20 ms at 16 kHz: used, logged once
  client.sendRaw(Buffer.alloc(480))
  void client.stream(callerPcm16k.subarray(0, 16000))
  await waitFor(() => conn.audioSamples >= 24000 * 0.9, 3000, 'good audio still flows')
  await client.close()
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 1000, 'record')
  const call = rig.logs.find(l => l.msg === 'call ended')!.call as { droppedFrames: number }
  assert.equal(call.droppedFrames, 5)
  assert.equal(rig.logs.filter(l => l.msg === 'Vonage frame size does not match the audio rate').length, 1)
})

test('the rate in websocket:connected wins over the configured one', async (t) => {
  const rig = await callRig(t, { VONAGE_AUDIO_RATE: 16000 })
  const ncco = await rig.answer()
  const client = await rig.dial(ncco, { rate: 8000 })
  await waitFor(() => client.frames.length >= 20, 3000, 'frames')
  for (const f of client.frames) assert.equal(f.bytes, 320)
})
