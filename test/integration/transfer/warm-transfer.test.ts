import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assistantPcm24k, conversationRig, settled, type ConversationRig } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { STAFF_UNAVAILABLE_MESSAGE } from '../../../lib/tools/transfer-call.js'
import { DECLINED_MESSAGE, NO_KEY_MESSAGE } from '../../../lib/transfer/ncco.js'
import { embeddedDataDir } from '../records/store-backends.js'
import { openAIRest } from '../../fakes/openai-rest.js'
import { startFakeLine } from '../../fakes/line-api.js'

const TRANSFER_ENV = { VONAGE_TRANSFER_NUMBER: '+81312345678', VONAGE_TRANSFER_ALLOWLIST: '+81611112222, +81922223333' }
const BRIEFING = '山田様から、明日の予約時間の変更についてのご相談です。'

interface Ringing {
  uuid: string
  body: Record<string, any>
  eventPath: string
  inputPath: string
}

/** The model calls transfer_call; resolves with the staff leg Vonage was asked to ring. */
async function startTransfer (rig: ConversationRig, args: Record<string, unknown> = { briefing: BRIEFING, reason: 'wants a human' }, n = 1): Promise<Ringing> {
  await rig.fake.functionCall(rig.conn, { name: 'transfer_call', arguments: JSON.stringify(args), say: assistantPcm24k.subarray(0, 24000 / 4) })
  await waitFor(() => rig.vonage.created.length >= n, 20_000, 'the staff phone rung')
  const { uuid } = rig.vonage.created[n - 1]!
  const body = rig.vonage.created[n - 1]!.body as Record<string, any>
  const input = (body.ncco as Array<Record<string, any>>).find(a => a.action === 'input')!
  const path = (url: string): string => url.replace(/^https:\/\/bridge\.example\.test/, '')
  return { uuid, body, eventPath: path(body.event_url[0]), inputPath: path(input.eventUrl[0]) }
}

async function callRecord (rig: ConversationRig): Promise<Record<string, any>> {
  await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the call record')
  return rig.logs.find(l => l.msg === 'call record')!.record as Record<string, any>
}

test('warm transfer: one POST /v1/calls with the briefing and the DTMF input; the caller stays with the AI; 1 puts both in one conversation', async (t) => {
  const rig = await conversationRig(t, TRANSFER_ENV)
  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const ring = await startTransfer(rig, { briefing: BRIEFING, reason: 'wants a human', number: '+81 6-1111-2222' })

  const post = rig.vonage.requests.find(r => r.method === 'POST' && r.path === '/v1/calls')!
  assert.ok(post.auth.ok, `JWT: ${post.auth.reason ?? ''}`)
  assert.deepEqual(ring.body.to, [{ type: 'phone', number: '81611112222' }])
  assert.deepEqual(ring.body.from, { type: 'phone', number: '815031023332' }, 'the staff sees our number')
  assert.equal(ring.body.ringing_timer, 20)
  assert.equal(ring.body.machine_detection, 'continue')
  assert.equal(ring.body.event_method, 'POST')
  const [talk, input] = ring.body.ncco as Array<Record<string, any>>
  assert.equal(talk!.action, 'talk')
  assert.equal(talk!.bargeIn, true)
  assert.equal(talk!.language, 'ja-JP')
  assert.ok(talk!.text.includes(BRIEFING), talk!.text)
  assert.match(talk!.text, /末尾は5678です。おつなぎする場合は1を、お断りする場合は2を押してください。$/)
  assert.deepEqual({ ...input, eventUrl: undefined }, { action: 'input', type: ['dtmf'], dtmf: { maxDigits: 1, timeOut: 8 }, eventMethod: 'POST', eventUrl: undefined })
  // Both staff-leg URLs carry one unguessable token.
  const token = /^\/transfer\/([A-Za-z0-9_-]{32})\/event$/.exec(ring.eventPath)?.[1]
  assert.ok(token !== undefined, ring.eventPath)
  assert.equal(ring.inputPath, `/transfer/${token}/input`)

  // While it rings: no PUT of the caller, the call and the model are up, and the caller hears a word (the filler), not dead air.
  assert.equal((await rig.webhook(ring.eventPath, { uuid: ring.uuid, status: 'ringing' })).statusCode, 204)
  assert.equal((await rig.webhook(ring.eventPath, { uuid: ring.uuid, status: 'answered' })).statusCode, 204)
  await waitFor(() => rig.conn.events.some(e => e.type === 'response.create' && String((e.response as any)?.instructions ?? '').includes('少々お待ちください')), 5000, 'a word to the caller while it rings')
  assert.equal(rig.vonage.requests.filter(r => r.method === 'PUT').length, 0, 'no cold PUT of the caller before acceptance')
  assert.equal(session.ended, false)
  // A second transfer_call while the first rings rings no second phone.
  const outputs = rig.outputs().length
  await rig.fake.functionCall(rig.conn, { name: 'transfer_call', arguments: JSON.stringify({ briefing: BRIEFING }) })
  await waitFor(() => rig.outputs().length === outputs + 1, 3000, 'the second call refused')
  assert.equal(rig.outputs().at(-1)!.parsed.error, 'transfer_in_progress')
  assert.equal(rig.vonage.created.length, 1)
  assert.equal(rig.conn.closedAt, null)

  const accepted = await rig.webhook(ring.inputPath, { uuid: ring.uuid, conversation_uuid: 'CON-staff', dtmf: { digits: '1', timed_out: false }, speech: { results: [] } })
  assert.equal(accepted.statusCode, 200)
  const staffNcco = accepted.json() as Array<Record<string, any>>
  const room = staffNcco.find(a => a.action === 'conversation')!
  assert.match(room.name, /^transfer-/)
  assert.equal(room.endOnExit, true)
  await waitFor(() => rig.vonage.requests.some(r => r.method === 'PUT'), 5000, 'the caller moved')
  const put = rig.vonage.requests.find(r => r.method === 'PUT')!
  assert.equal(put.path, `/v1/calls/${rig.uuid}`)
  assert.deepEqual(put.body, { action: 'transfer', destination: { type: 'ncco', ncco: [{ action: 'conversation', name: room.name, startOnEnter: true, endOnExit: true }] } })
  await waitFor(() => rig.conn.closedAt !== null, 3000, 'the model session closed')

  const record = await callRecord(rig)
  assert.equal(record.outcome, 'transferred')
  assert.deepEqual(record.tools.map((x: { name: string, ok: boolean }) => [x.name, x.ok]), [['transfer_call', false], ['transfer_call', true]], 'the refused second call, then the transfer')
  assert.deepEqual(record.outcomeDetail, { destination: '+*******2222', takenBy: '+*******2222', transfer: 'warm' })
  const [note] = record.transfers
  assert.equal(note.state, 'accepted')
  assert.equal(note.to, '+*******2222')
  assert.ok(note.briefing.includes(BRIEFING))
  assert.ok(Date.parse(note.ringingAt) <= Date.parse(note.answeredAt) && Date.parse(note.answeredAt) <= Date.parse(note.decidedAt))
  assert.equal(rig.app.transfers.byToken.size, 0, 'the token is forgotten')
  assert.equal((await rig.webhook(ring.inputPath, { uuid: ring.uuid, dtmf: { digits: '1' } })).statusCode, 404, 'and cannot be used again')
  assert.ok(!JSON.stringify(rig.logs).includes('81611112222'), 'the staff number is masked in the log')
  assert.deepEqual(rig.conn.invalid, [])
})

test('staff presses 2, the ring times out, a voicemail answers, no key: the caller stays with the AI, which is asked to take a message', async (t) => {
  const rig = await conversationRig(t, TRANSFER_ENV)
  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const cases: Array<{ name: string, staff: (r: Ringing) => Promise<void>, outcome: string, detail: string, hangsUp: boolean }> = [
    {
      name: 'declined',
      staff: async (r) => {
        await rig.webhook(r.eventPath, { uuid: r.uuid, status: 'answered' })
        const res = await rig.webhook(r.inputPath, { uuid: r.uuid, dtmf: { digits: '2', timed_out: false } })
        assert.deepEqual(res.json(), [{ action: 'talk', text: DECLINED_MESSAGE, language: 'ja-JP', premium: false }], 'the staff leg ends after a word')
      },
      outcome: 'declined',
      detail: 'key-2',
      hangsUp: false
    },
    { name: 'timeout', staff: async (r) => { await rig.webhook(r.eventPath, { uuid: r.uuid, status: 'timeout' }) }, outcome: 'no-answer', detail: 'timeout', hangsUp: false },
    { name: 'machine', staff: async (r) => { await rig.webhook(r.eventPath, { uuid: r.uuid, status: 'machine' }) }, outcome: 'no-answer', detail: 'machine', hangsUp: true },
    {
      name: 'no key',
      staff: async (r) => {
        const res = await rig.webhook(r.inputPath, { uuid: r.uuid, dtmf: { digits: '', timed_out: true } })
        assert.equal(res.json()[0].text, NO_KEY_MESSAGE)
      },
      outcome: 'no-answer',
      detail: 'no-key',
      hangsUp: false
    }
  ]
  let n = 0
  for (const c of cases) {
    n++
    const outputs = rig.outputs().length
    const ring = await startTransfer(rig, { briefing: BRIEFING }, n)
    const creates = rig.responseCreates().length
    await c.staff(ring)
    await waitFor(() => rig.outputs().length === outputs + 1, 5000, `${c.name}: the outcome told to the model`)
    const out = rig.outputs().at(-1)!.parsed
    assert.deepEqual(out, { ok: true, transferred: false, outcome: c.outcome, message: STAFF_UNAVAILABLE_MESSAGE }, c.name)
    assert.match(out.message, /伝言をお預かりしてください。お名前、折り返しのお電話番号、ご用件/)
    await waitFor(() => rig.responseCreates().length > creates, 3000, `${c.name}: the model asked to speak`)
    const hangups = rig.vonage.requests.filter(r => r.method === 'PUT' && r.path === `/v1/calls/${ring.uuid}`)
    assert.deepEqual(hangups.map(r => r.body), c.hangsUp ? [{ action: 'hangup' }] : [], `${c.name}: the staff leg hung up only when still up`)
    assert.equal(rig.vonage.requests.filter(r => r.method === 'PUT' && r.path === `/v1/calls/${rig.uuid}`).length, 0, 'the caller is never moved')
    assert.equal(session.ended, false, `${c.name}: still connected to the AI`)
    assert.equal(session.notes.transfers!.at(-1)!.state, c.outcome)
    assert.equal(session.notes.transfers!.at(-1)!.detail, c.detail)
    await settled(session, rig.conn)
  }
  assert.equal(rig.conn.closedAt, null)
  assert.deepEqual(rig.conn.invalid, [])
})

test('the numbers of today stay: off the allowlist nothing rings; no number → VONAGE_TRANSFER_NUMBER; a briefing is required', async (t) => {
  const rig = await conversationRig(t, TRANSFER_ENV)
  const update = rig.conn.events.find(e => e.type === 'session.update')!.session as { tools: Array<{ name: string, parameters: any }> }
  const spec = update.tools.find(x => x.name === 'transfer_call')!
  assert.deepEqual(spec.parameters.required, ['briefing'])
  await rig.fake.functionCall(rig.conn, { name: 'transfer_call', arguments: JSON.stringify({ number: '+819099998888', briefing: BRIEFING }) })
  await waitFor(() => rig.outputs().length === 1, 3000, 'the refusal')
  assert.equal(rig.outputs()[0]!.parsed.error, 'destination_not_allowed')
  assert.ok(!rig.outputs()[0]!.output.includes('9099998888'))
  await settled(rig.app.bridge.sessions.get(rig.uuid)!, rig.conn)
  await rig.fake.functionCall(rig.conn, { name: 'transfer_call', arguments: '{}' })
  await waitFor(() => rig.outputs().length === 2, 3000, 'the schema refusal')
  assert.match(rig.outputs()[1]!.output, /briefing/)
  assert.equal(rig.vonage.created.length, 0)
  await settled(rig.app.bridge.sessions.get(rig.uuid)!, rig.conn)
  const ring = await startTransfer(rig)
  assert.deepEqual(ring.body.to, [{ type: 'phone', number: '81312345678' }])
  await rig.webhook(ring.eventPath, { uuid: ring.uuid, status: 'busy' })
  await waitFor(() => rig.outputs().length === 3, 3000, 'busy told')
  assert.equal(rig.outputs()[2]!.parsed.outcome, 'no-answer')
})

test('Vonage refusing the staff call is told to the model (take a message); the call goes on', async (t) => {
  const rig = await conversationRig(t, TRANSFER_ENV)
  rig.vonage.fail({ method: 'POST', path: '/v1/calls', status: 500, title: 'Internal Error' })
  await rig.fake.functionCall(rig.conn, { name: 'transfer_call', arguments: JSON.stringify({ briefing: BRIEFING, number: '+81922223333' }) })
  await waitFor(() => rig.outputs().length === 1, 8000, 'the failure')
  const out = rig.outputs()[0]!.parsed
  assert.equal(out.error, 'transfer_failed')
  assert.match(out.message, /HTTP 500.*take a message/)
  assert.equal(rig.app.bridge.sessions.get(rig.uuid)?.ended, false)
  assert.ok(!JSON.stringify(rig.logs).includes('81922223333'), 'the destination is masked in the log')
})

test('the caller hangs up while the staff phone rings: the staff leg is hung up', async (t) => {
  const rig = await conversationRig(t, TRANSFER_ENV)
  const ring = await startTransfer(rig)
  assert.equal((await rig.webhook('/event', { uuid: rig.uuid, status: 'completed' })).statusCode, 204)
  await waitFor(() => rig.vonage.requests.some(r => r.method === 'PUT' && r.path === `/v1/calls/${ring.uuid}`), 5000, 'the staff leg hung up')
  const record = await callRecord(rig)
  assert.equal(record.transfers[0].state, 'cancelled')
  // The staff pressing 1 now joins no one.
  assert.equal((await rig.webhook(ring.inputPath, { uuid: ring.uuid, dtmf: { digits: '1' } })).statusCode, 404)
})

test('the call store keeps each transfer with its times and the briefing; the live view follows the ring', async (t) => {
  const dataDir = await embeddedDataDir(t)
  // The embedded store may take seconds to open on a busy machine: no idle check-in or goodbye meanwhile.
  const rig = await conversationRig(t, { ...TRANSFER_ENV, DATA_DIR: dataDir, IDLE_PROMPT_SECONDS: 0 })
  // Vonage streams even silence; without it the call would end after CALLER_SILENCE_MS while the store opens.
  void rig.media.stream(new Int16Array(rig.media.rate), { loop: true })
  t.after(() => rig.media.stop())
  assert.ok(await rig.app.callStore.opened !== null, 'the store opened')
  const states: string[] = []
  rig.app.callStore.live.on('transfer', (id: string, transfers: Array<{ state: string }>) => { if (id === rig.uuid) states.push(transfers.at(-1)!.state) })
  const ring = await startTransfer(rig)
  await rig.webhook(ring.eventPath, { uuid: ring.uuid, status: 'answered' })
  assert.deepEqual(rig.app.callStore.live.calls.get(rig.uuid)?.transfers?.map((x: any) => x.state), ['answered'])
  await rig.webhook(ring.inputPath, { uuid: ring.uuid, dtmf: { digits: '2', timed_out: false } })
  await waitFor(() => rig.outputs().length === 1, 5000, 'the outcome')
  await settled(rig.app.bridge.sessions.get(rig.uuid)!, rig.conn)
  assert.equal((await rig.webhook('/event', { uuid: rig.uuid, status: 'completed' })).statusCode, 204)
  assert.deepEqual(states, ['ringing', 'answered', 'declined'])

  const detail = async (): Promise<any> => (await rig.app.inject({ url: `/api/calls/${rig.uuid}` })).json()
  let call = await detail()
  // The end is written by the next flush (250 ms): wait for that answer, not a fixed time.
  for (const deadline = Date.now() + 10_000; call.transfers?.length !== 1 && Date.now() < deadline;) call = await detail()
  assert.equal(call.transfers.length, 1)
  const [x] = call.transfers
  assert.equal(x.state, 'declined')
  assert.equal(x.detail, 'key-2')
  assert.equal(x.to, '+*******5678')
  assert.ok(x.briefing.startsWith('AI受付です。お客様からお電話です。山田様から'))
  assert.ok(Date.parse(x.ringingAt) <= Date.parse(x.answeredAt) && Date.parse(x.answeredAt) <= Date.parse(x.decidedAt))
})

test('a staff phone that declines: the owner\'s LINE message says nobody took the caller, and so does what the summary model reads', async (t) => {
  const rest = openAIRest()
  const line = await startFakeLine(t)
  const dataDir = await embeddedDataDir(t)
  const rig = await conversationRig(t, {
    ...TRANSFER_ENV,
    DATA_DIR: dataDir,
    IDLE_PROMPT_SECONDS: 0,
    SUMMARY_MODEL: 'gpt-5.6-luna',
    NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: line.token,
    NOTIFY_LINE_TO: 'U' + 'b'.repeat(32),
    LINE_API_BASE_URL: line.url
  }, { rest })
  rig.fake.transcribeInput(rig.conn, '担当の方とお話ししたいです。')
  const ring = await startTransfer(rig)
  await rig.webhook(ring.eventPath, { uuid: ring.uuid, status: 'answered' })
  await rig.webhook(ring.inputPath, { uuid: ring.uuid, dtmf: { digits: '2', timed_out: false } })
  await waitFor(() => rig.outputs().length === 1, 5000, 'the outcome told to the model')
  await settled(rig.app.bridge.sessions.get(rig.uuid)!, rig.conn)
  await rig.media.close()

  await waitFor(() => line.accepted.length === 1, 30_000, 'the owner\'s LINE message')
  const text = line.accepted[0]!.messages[0]!.text
  assert.match(text, /\n転送: 担当者が受けられませんでした\n/)
  assert.equal(rest.requests.length, 1)
  assert.match(rest.requests[0]!.body.input[0].content, /終わり方: 会話のあと相手が切った。担当者への転送を試みたが、つながらなかった（担当者が受けられませんでした）/)
  assert.deepEqual([rest.invalid, line.invalid], [[], []])
})
