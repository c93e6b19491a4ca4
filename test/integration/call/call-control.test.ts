import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assistantPcm24k, settled, conversationRig, type ConversationRig } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { build } from '../../helpers/build.js'

function sessionTools (rig: ConversationRig): string[] {
  const update = rig.conn.events.find(e => e.type === 'session.update')!.session as { tools?: Array<{ name: string }> }
  return (update.tools ?? []).map(x => x.name)
}

async function callRecord (rig: ConversationRig): Promise<Record<string, any>> {
  await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the call record')
  return rig.logs.find(l => l.msg === 'call record')!.record as Record<string, any>
}

test('end_call after a spoken goodbye: PUT hangup once its last frame has gone out, not before, not seconds after; no extra response', async (t) => {
  const rig = await conversationRig(t)
  const goodbye = assistantPcm24k.subarray(0, 24000 * 1.5)
  const framesBefore = rig.media.frames.length
  const creates = rig.responseCreates().length
  await rig.fake.functionCall(rig.conn, { name: 'end_call', arguments: '{"reason":"caller said goodbye"}', say: goodbye })
  await waitFor(() => rig.vonage.requests.some(r => r.method === 'PUT'), 8000, 'the hangup')
  const put = rig.vonage.requests.find(r => r.method === 'PUT')!
  assert.equal(put.path, `/v1/calls/${rig.uuid}`)
  assert.deepEqual(put.body, { action: 'hangup' })
  assert.ok(put.auth.ok, `JWT: ${put.auth.reason ?? ''}`)

  const goodbyeFrames = Math.floor(1500 / 20)
  const lastFrame = rig.media.frames.at(-1)!
  const sentBeforePut = rig.media.frames.filter(f => f.at <= put.at).length - framesBefore
  assert.ok(sentBeforePut >= goodbyeFrames, `all ${goodbyeFrames} goodbye frames went out before the hangup (${sentBeforePut})`)
  assert.ok(put.at >= lastFrame.at, 'the hangup follows the last frame')
  assert.ok(put.at - lastFrame.at < 1000, `and is not seconds late (${Math.round(put.at - lastFrame.at)} ms)`)

  await waitFor(() => rig.media.closedAt !== null && rig.conn.closedAt !== null, 2000, 'the call closed')
  assert.equal(rig.vonage.requests.filter(r => r.method === 'PUT').length, 1)
  assert.equal(rig.responseCreates().length, creates, 'the goodbye was said: no new response')
  assert.equal(rig.outputs()[0]?.parsed.ok, true)
  const record = await callRecord(rig)
  assert.equal(record.outcome, 'ended-by-ai')
  assert.deepEqual(record.outcomeDetail, { reason: 'caller said goodbye' })
  assert.deepEqual(record.tools.map((x: { name: string, ok: boolean }) => [x.name, x.ok]), [['end_call', true]])
  assert.deepEqual(rig.conn.invalid, [])
  assert.deepEqual(rig.fake.selfInvalid, [])
})

test('end_call without a goodbye: the model is asked for one, and the hangup follows its last frame', async (t) => {
  const rig = await conversationRig(t, {}, { answer: assistantPcm24k.subarray(0, 24000) })
  const creates = rig.responseCreates().length
  const framesBefore = rig.media.frames.length
  await rig.fake.functionCall(rig.conn, { name: 'end_call', arguments: '{}' })
  await waitFor(() => rig.outputs().length === 1, 2000, 'the output')
  assert.match(rig.outputs()[0]!.parsed.message, /goodbye/)
  await waitFor(() => rig.responseCreates().length === creates + 1, 2000, 'the goodbye requested')
  await waitFor(() => rig.vonage.requests.some(r => r.method === 'PUT'), 8000, 'the hangup')
  const put = rig.vonage.requests.find(r => r.method === 'PUT')!
  assert.deepEqual(put.body, { action: 'hangup' })
  // The end_call response itself has no audio: every frame since is the goodbye.
  const heard = rig.media.frames.filter(f => f.at <= put.at).length - framesBefore
  assert.ok(heard >= 50, `the 1 s goodbye played before the hangup (${heard} frames)`)
  const lastFrame = rig.media.frames.at(-1)!
  assert.ok(put.at >= lastFrame.at && put.at - lastFrame.at < 1000, `${Math.round(put.at - lastFrame.at)} ms after the last frame`)
  assert.equal((await callRecord(rig)).outcome, 'ended-by-ai')
  assert.deepEqual(rig.conn.invalid, [])
})

test('end_call spoken over by the caller does not hang up; without the Vonage API the call audio is closed instead', async (t) => {
  const rig = await conversationRig(t)
  const creates = rig.responseCreates().length
  await rig.fake.functionCall(rig.conn, { name: 'end_call', arguments: '{}', say: assistantPcm24k.subarray(0, 4800), cancelled: true })
  await waitFor(() => rig.outputs().length === 1, 2000, 'the output')
  assert.equal(rig.outputs()[0]!.parsed.error, 'interrupted')
  await settled(rig.app.bridge.sessions.get(rig.uuid)!, rig.conn)
  assert.equal(rig.vonage.requests.length, 0)
  assert.equal(rig.responseCreates().length, creates, 'the VAD response answers the caller, not us')
  assert.equal(rig.app.bridge.sessions.get(rig.uuid)?.ended, false)

  const noApi = await conversationRig(t, { VONAGE_APPLICATION_ID: '' })
  await noApi.fake.functionCall(noApi.conn, { name: 'end_call', arguments: '{}', say: assistantPcm24k.subarray(0, 4800) })
  await waitFor(() => noApi.media.closedAt !== null, 5000, 'the media socket closed by the bridge')
  assert.equal(noApi.media.closeCode, 1000)
  assert.equal(noApi.vonage.requests.length, 0)
  assert.equal((await callRecord(noApi)).outcome, 'ended-by-ai')
})

test('transfer_call is offered only with a destination and the Vonage API', async (t) => {
  const plain = await conversationRig(t)
  assert.deepEqual(sessionTools(plain), ['end_call'])
  const { app, logs } = await build(t, { VONAGE_TRANSFER_NUMBER: '+81312345678' })
  assert.deepEqual(app.toolRegistry.names(), ['end_call'])
  assert.ok(logs.some(l => l.level === 40 && String(l.msg).includes('transfer_call is not offered')))
  await assert.rejects(build(t, { VONAGE_TRANSFER_ALLOWLIST: '+81312345678,0312345678' }), /VONAGE_TRANSFER_ALLOWLIST has a malformed number \("0312345678"\)/)
  await assert.rejects(build(t, { VONAGE_TRANSFER_NUMBER: '03-1234-5678' }), /VONAGE_TRANSFER_NUMBER is malformed/)
})
