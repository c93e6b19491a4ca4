import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { MPEGDecoder } from 'mpg123-decoder'
import { conversationRig } from '../../helpers/call-rig.js'
import { startFakeVonage } from '../../fakes/vonage-rest.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { APP_ID, publicKey } from '../../helpers/keys.js'
import { embeddedDataDir } from '../records/store-backends.js'
import { toneMp3 } from '../../helpers/mp3.js'
import { voicemailRig, CALLER, MESSAGE, KEY } from './rig.js'
import type { VoicemailStored } from '../../../lib/voicemail/message.js'

/** The recording webhook's path and query, as the NCCO gave it to Vonage. */
function recordPath (ncco: Array<Record<string, any>>): string {
  const record = ncco.find(a => a.action === 'record')
  assert.ok(record !== undefined, `the NCCO records a message: ${JSON.stringify(ncco)}`)
  const u = new URL(String(record.eventUrl[0]))
  return u.pathname + u.search
}

const auth = { authorization: `Bearer ${KEY}` }

test('model unreachable: the answer webhook gives the apology and a record NCCO; the recording is fetched, transcribed, stored, and told with the full number', async (t) => {
  const rig = await voicemailRig(t, {}, 503)
  const uuid = 'call-unreachable-1'
  const ncco = await rig.answer({ uuid, from: CALLER })
  assert.deepEqual(ncco.map(a => a.action), ['talk', 'record', 'talk'], 'apology + record + thanks, no media socket')
  assert.match(ncco[0]!.text, /発信音のあとに/)
  const record = ncco[1]!
  assert.equal(record.beepStart, true)
  assert.equal(record.endOnSilence, 4)
  assert.equal(record.timeOut, 120)
  assert.ok(rig.fake.handshakes >= 1, 'the model was tried')

  const mp3 = toneMp3(2)
  const url = rig.vonage.addRecording(mp3)
  const stored = once(rig.app.voicemail, 'stored') as Promise<[VoicemailStored]>
  const res = await rig.webhook(recordPath(ncco), {
    recording_url: url, recording_uuid: 'rec-1', start_time: '2026-12-03T09:00:00Z', end_time: '2026-12-03T09:00:12Z', size: mp3.length, conversation_uuid: 'CON-1'
  })
  assert.equal(res.statusCode, 204)
  const [event] = await stored
  assert.equal(event.callId, uuid)
  assert.equal(event.from, CALLER, 'the owner gets the full number')
  assert.equal(event.transcript, MESSAGE)
  assert.equal(event.durationSec, 12)
  assert.equal(event.reason, 'unavailable')

  const download = rig.vonage.requests.find(r => r.method === 'GET' && r.path.startsWith('/v1/files/'))
  assert.ok(download?.auth.ok === true, `the recording was fetched with the application JWT: ${JSON.stringify(download?.auth)}`)
  assert.equal(rig.stt.requests.length, 1)
  assert.equal(rig.stt.requests[0]!.model, 'gpt-transcribe')
  assert.equal(rig.stt.requests[0]!.language, 'ja')
  assert.deepEqual(rig.stt.requests[0]!.fileBytes, mp3, 'the recording itself was transcribed')

  const detail = await rig.app.inject({ method: 'GET', url: `/api/calls/${uuid}`, headers: auth })
  assert.equal(detail.statusCode, 200)
  const call = detail.json()
  assert.equal(call.outcome, 'voicemail')
  assert.equal(call.voicemail.transcript, MESSAGE)
  assert.equal(call.voicemail.audio.size, mp3.length)
  assert.ok(!JSON.stringify(call).includes(CALLER), 'the history keeps the masked number only')

  const audio = await rig.app.inject({ method: 'GET', url: `/api/calls/${uuid}/voicemail`, headers: auth })
  assert.equal(audio.statusCode, 200)
  assert.equal(audio.headers['content-type'], 'audio/mpeg')
  assert.deepEqual(audio.rawPayload, mp3)
  const decoder = new MPEGDecoder()
  await decoder.ready
  const decoded = decoder.decode(new Uint8Array(audio.rawPayload))
  decoder.free()
  assert.ok(decoded.samplesDecoded > 16000 * 1.5, `the served file is playable MP3 (${decoded.samplesDecoded} samples)`)
  const part = await rig.app.inject({ method: 'GET', url: `/api/calls/${uuid}/voicemail`, headers: { ...auth, range: 'bytes=100-199' } })
  assert.equal(part.statusCode, 206)
  assert.equal(part.headers['content-range'], `bytes 100-199/${mp3.length}`)
  assert.deepEqual(part.rawPayload, mp3.subarray(100, 200))
  const stranger = await rig.app.inject({ method: 'GET', url: `/api/calls/${uuid}/voicemail`, remoteAddress: '203.0.113.9' })
  assert.equal(stranger.statusCode, 401, 'the voicemail is behind the console key')
  assert.equal(rig.vonage.requests.filter(r => r.method === 'PUT').length, 0, 'answered with the NCCO: no transfer of a call not yet answered')

  let again = 0
  rig.app.voicemail.on('stored', () => { again++ })
  const repeat = await rig.webhook(recordPath(ncco), { recording_url: url, recording_uuid: 'rec-1', start_time: '2026-12-03T09:00:00Z', end_time: '2026-12-03T09:00:12Z' })
  assert.equal(repeat.statusCode, 204)
  await waitFor(() => rig.logs.some(l => String(l.msg).startsWith('recording event for a voicemail already stored')), 5000, 'the repeat ignored')
  assert.equal(again, 0, 'the owner is not told twice')
})

test('a recording URL on another host is refused: no request reaches it; a webhook without the call\'s token is refused', async (t) => {
  const rig = await voicemailRig(t, {}, 503)
  const other = await startFakeVonage({ publicKey, applicationId: APP_ID })
  t.after(() => other.close())
  const ncco = await rig.answer({ uuid: 'call-forged-1', from: CALLER })
  const path = recordPath(ncco)
  const forged = other.addRecording(toneMp3(1))
  const res = await rig.webhook(path, { recording_url: forged, recording_uuid: 'rec-x', start_time: '2026-12-03T09:00:00Z', end_time: '2026-12-03T09:00:05Z' })
  assert.equal(res.statusCode, 204)
  await waitFor(() => rig.logs.some(l => String(l.msg).startsWith('recording URL refused')), 5000, 'the refusal in the log')
  assert.equal(other.requests.length, 0, 'nothing was asked of the other host (no JWT sent there)')
  assert.equal(rig.stt.requests.length, 0)

  const noToken = await rig.webhook(path.replace(/&t=[^&]+/, '&t=forged'), { recording_url: rig.vonage.addRecording(toneMp3(1)) })
  assert.equal(noToken.statusCode, 403)
  const otherCall = await rig.webhook(path.replace('call=call-forged-1', 'call=call-someone-else'), { recording_url: rig.vonage.addRecording(toneMp3(1)) })
  assert.equal(otherCall.statusCode, 403, 'a token binds one call')
  assert.equal(rig.vonage.requests.filter(r => r.path.startsWith('/v1/files/')).length, 0)
})

test('a mid-call failure moves the live call to voicemail: PUT transfer to [talk, record]', async (t) => {
  const rig = await conversationRig(t, { DATA_DIR: await embeddedDataDir(t) })
  await rig.app.callStore.opened
  const session = rig.app.bridge.sessions.get(rig.uuid)!
  rig.conn.ws.terminate()
  await waitFor(() => rig.vonage.requests.some(r => r.method === 'PUT'), 10_000, 'the transfer')
  const put = rig.vonage.requests.find(r => r.method === 'PUT')!
  assert.equal(put.path, `/v1/calls/${rig.uuid}`)
  assert.ok(put.auth.ok)
  const body = put.body as { action: string, destination: { type: string, ncco: Array<Record<string, any>> } }
  assert.equal(body.action, 'transfer')
  assert.deepEqual(body.destination.ncco.map(a => a.action), ['talk', 'record', 'talk'])
  assert.match(String(body.destination.ncco[1]!.eventUrl[0]), /^https:\/\/bridge\.example\.test\/voicemail\/recording\?call=/)
  await waitFor(() => session.ended, 5000, 'the session ended after the transfer')
  assert.equal(session.notes.outcome, 'voicemail')
})

test('budget reached: the call goes to voicemail without a model session, and the owner is told once that day', async (t) => {
  const rig = await voicemailRig(t, { DAILY_BUDGET_USD: 0.5 })
  const db = rig.app.callStore.db()!
  await db.query("INSERT INTO calls (id, started_at, direction, from_masked, to_masked, outcome, cost_usd) VALUES ('earlier', $1, 'inbound', '***5678', '***3332', 'completed', 0.75)", [new Date().toISOString()])
  const reached: unknown[] = []
  rig.app.budget.on('reached', (e) => reached.push(e))
  const first = await rig.answer({ uuid: 'call-budget-1', from: CALLER })
  const second = await rig.answer({ uuid: 'call-budget-2', from: CALLER })
  for (const ncco of [first, second]) assert.deepEqual(ncco.map(a => a.action), ['talk', 'record', 'talk'])
  assert.equal(rig.fake.handshakes, 0, 'no WebSocket to the model at all')
  assert.equal(reached.length, 1, 'told once')
  assert.deepEqual(reached[0], { day: (reached[0] as { day: string }).day, spentUsd: 0.75, budgetUsd: 0.5 })
  const budget = await rig.app.inject({ method: 'GET', url: '/api/budget', headers: auth })
  assert.equal(budget.json().reached, true)
  assert.equal(budget.json().budgetUsd, 0.5)
})

test('under the budget the call is bridged as usual', async (t) => {
  const rig = await voicemailRig(t, { DAILY_BUDGET_USD: 5 })
  const ncco = await rig.answer({ uuid: 'call-ok-1', from: CALLER })
  assert.ok(ncco.some(a => a.action === 'connect'), 'greeting + media socket')
  assert.equal(rig.fake.handshakes, 1)
})

test('transcription down: the message is kept (audio and row) without a transcript, and the owner is still told', async (t) => {
  const rig = await voicemailRig(t, {}, 503)
  rig.stt.failNext(500)
  const ncco = await rig.answer({ uuid: 'call-stt-down', from: CALLER })
  const stored = once(rig.app.voicemail, 'stored') as Promise<[VoicemailStored]>
  const mp3 = toneMp3(1)
  await rig.webhook(recordPath(ncco), { recording_url: rig.vonage.addRecording(mp3), recording_uuid: 'rec-2', start_time: '2026-12-03T09:00:00Z', end_time: '2026-12-03T09:00:04Z' })
  const [event] = await stored
  assert.equal(event.transcript, '')
  assert.equal(event.from, CALLER)
  const call = (await rig.app.inject({ method: 'GET', url: '/api/calls/call-stt-down', headers: auth })).json()
  assert.equal(call.voicemail.transcript, null)
  assert.match(call.voicemail.transcriptionError, /HTTP 500/)
  assert.equal(call.voicemail.audio.size, mp3.length)
})

test('Vonage cannot reach the media socket: the media leg\'s failed event is answered with the voicemail NCCO', async (t) => {
  const rig = await voicemailRig(t)
  const ncco = await rig.answer({ uuid: 'call-media-fail', from: CALLER })
  const connect = ncco.find(a => a.action === 'connect')!
  const u = new URL(String(connect.eventUrl[0]))
  const res = await rig.webhook(u.pathname + u.search, { uuid: 'leg-ws-1', status: 'failed', direction: 'outbound' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json().map((a: { action: string }) => a.action), ['talk', 'record', 'talk'])
  await waitFor(() => rig.app.bridge.sessions.get('call-media-fail') === undefined, 5000, 'the model session closed')
})
