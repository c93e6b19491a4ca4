import { test, type TestContext } from 'node:test'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import assert from 'node:assert/strict'
import { waitFor } from '../../fakes/realtime-server.js'
import { callRig, conversationRig, ENGINES, type CallRig } from '../../helpers/call-rig.js'
import { APP_ID, privateKey, publicKey } from '../../helpers/keys.js'
import { startFakeVonage } from '../../fakes/vonage-rest.js'
import { VonageMediaClient } from '../../fakes/vonage-media-client.js'
import { embeddedDataDir } from '../records/store-backends.js'
import { getCall } from '../../../lib/records/store/queries.js'
import { collectSse } from '../../helpers/sse.js'

/**
 * The calls that matter, once per engine (OPENAI_ENGINE=realtime|live): the
 * same body drives either fake through rig.model.
 */
const GREETING_TEXT = 'お電話ありがとうございます。'
const CALLER_TEXT = '明日の予約をお願いします'

/** Each engine's fake set to greet with words: Realtime's answer transcript, GPT-Live's greeting fragments. */
const fakes = { transcript: GREETING_TEXT }
const live = { greetingText: GREETING_TEXT }

/** The console's Server-Sent Events, parsed, from a browser on this machine. */
async function consoleEvents (t: TestContext, port: number): Promise<Array<{ event: string, data: any }>> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/console/events', headers: { accept: 'text/event-stream' } }, resolve)
    req.on('error', reject)
    req.end()
  })
  t.after(() => res.destroy())
  return collectSse(res)
}

function record (rig: CallRig): Record<string, any> {
  return rig.logs.find(l => l.msg === 'call record')!.record as Record<string, any>
}

for (const engine of ENGINES) {
  test(`[${engine}] inbound call: the greeting reaches the caller, the caller reaches the model, hang-up ends it`, async (t) => {
    const rig = await callRig(t, {}, fakes, { engine, live: { greeting: new Int16Array(16000 * 0.4).fill(1000), ...live } })
    const session = rig.model.nextSession()
    const client = await rig.dial(await rig.answer())
    await session
    void client.stream(new Int16Array(16000 * 2).fill(500), { loop: true })
    await waitFor(() => client.frames.length >= 15 && rig.model.callerAudio().length > rig.model.inputRate * 0.3, 5000, 'audio both ways')
    await client.close()
    await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the record')
    assert.equal(record(rig).direction, 'inbound')
    assert.equal(record(rig).endReason, 'caller-hangup')
    if (engine === 'live') await waitFor(() => rig.model.eventTypes().includes('session.close'), 3000, 'session.close')
  })

  test(`[${engine}] outbound call: POST /connect, Vonage answers, the model knows it called with the given context`, async (t) => {
    const vonage = await startFakeVonage({ publicKey, applicationId: APP_ID })
    t.after(() => vonage.close())
    const rig = await callRig(t, { VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: privateKey, VONAGE_API_HOST: vonage.url, VONAGE_OUTBOUND_FROM: '+815031023332' }, fakes,
      { engine, live: { greeting: new Int16Array(16000 * 0.4).fill(1000), ...live } })
    const placed = await rig.app.inject({ method: 'POST', url: '/connect', headers: { 'content-type': 'application/json', 'x-api-key': APP_ID }, payload: { to: '+818012345678', context: { reason: '予約の確認' } } })
    assert.equal(placed.statusCode, 201)
    const answerUrl = new URL((vonage.requests.at(-1)!.body as { answer_url: string[] }).answer_url[0]!)
    const session = rig.model.nextSession()
    const ncco = await rig.answer({ from: '815031023332', to: '818012345678' }, `${answerUrl.pathname}${answerUrl.search}`)
    await session
    const client = await rig.dial(ncco)
    void client.stream(new Int16Array(16000 * 2), { loop: true })
    await waitFor(() => client.frames.length >= 15, 5000, 'the greeting')
    const config = rig.model.eventTypes()[0]
    assert.equal(config, engine === 'live' ? 'session.start' : 'session.update')
    await client.close()
    await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the record')
    assert.equal(record(rig).direction, 'outbound')
  })

  test(`[${engine}] end_call: the result goes back, the goodbye plays, then Vonage hangs up`, async (t) => {
    const rig = await conversationRig(t, {}, {}, { engine })
    const before = rig.media.frames.length
    await rig.model.callTool('end_call', { reason: '用件が済んだ' })
    const hangup = (): { at: number } | undefined => rig.vonage.requests.find(r => r.method === 'PUT' && (r.body as { action?: string }).action === 'hangup')
    await waitFor(() => hangup() !== undefined, 8000, 'the hangup')
    // The goodbye (0.4 s: 20 frames) played whole before the line was closed.
    assert.ok(rig.media.frames.length - before >= 20, `${rig.media.frames.length - before} frames of goodbye`)
    assert.ok(rig.media.frames.at(-1)!.at <= hangup()!.at, 'no audio after the hangup')
    const [out] = rig.model.toolOutputs()
    assert.equal(JSON.parse(out!.output).ok, true)
    // After Vonage's answer to the hangup, the call's own leg closes.
    await waitFor(() => rig.app.bridge.sessions.get(rig.uuid) === undefined, 3000, 'the session ended')
    await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the record')
    assert.equal(record(rig).outcome, 'ended-by-ai')
    if (engine === 'live') {
      await waitFor(() => rig.model.eventTypes().includes('session.close'), 3000, 'session.close')
      const types = rig.model.eventTypes()
      // The output first, then the one continuation, then the close.
      assert.ok(types.indexOf('response.item.create') < types.indexOf('response.create'))
      assert.equal(types.filter(x => x === 'response.create').length, 1)
      assert.deepEqual(rig.liveConn!.violations, [])
      assert.ok(record(rig).usage.inputTextTokens >= 1000, 'the delegation\'s tokens are counted')
    }
  })

  test(`[${engine}] transfer_call rings the staff with a briefing, and moves the caller once the staff presses 1`, async (t) => {
    const rig = await conversationRig(t, { VONAGE_TRANSFER_NUMBER: '+81312345678' }, {}, { engine })
    await rig.model.callTool('transfer_call', { briefing: '山田様から予約の変更のご相談です。', reason: '担当者へ' })
    await waitFor(() => rig.vonage.created.length === 1, 8000, 'the staff phone rung')
    const body = rig.vonage.created[0]!.body as { ncco: Array<Record<string, any>> }
    assert.ok(String(body.ncco[0]!.text).includes('山田様から予約の変更のご相談です。'), 'the staff hears the briefing')
    assert.equal(rig.vonage.requests.filter(r => r.method === 'PUT').length, 0, 'no cold PUT before the staff accepts')
    const inputPath = String(body.ncco.find(a => a.action === 'input')!.eventUrl[0]).replace(/^https:\/\/[^/]+/, '')
    const accepted = await rig.webhook(inputPath, { uuid: rig.vonage.created[0]!.uuid, dtmf: { digits: '1', timed_out: false } })
    assert.equal(accepted.statusCode, 200)
    await waitFor(() => rig.vonage.requests.some(r => r.method === 'PUT' && (r.body as { action?: string }).action === 'transfer'), 8000, 'the caller moved')
    // Handed over: the model's session is closed, no answer is asked of it.
    await waitFor(() => rig.app.bridge.sessions.get(rig.uuid) === undefined, 3000, 'the session closed')
    await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the record')
    assert.equal(record(rig).outcome, 'transferred')
  })

  test(`[${engine}] a keypad press reaches the model`, async (t) => {
    const rig = await conversationRig(t, {}, {}, { engine })
    rig.media.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit: '1', duration: 200 }))
    await waitFor(() => rig.model.notes().some(n => n.includes('キーパッドの 1')), 3000, 'the key press')
  })

  test(`[${engine}] the console's live view streams both sides' words and a running cost`, async (t) => {
    const rig = await conversationRig(t, {}, fakes, { engine, live })
    const events = await consoleEvents(t, rig.port)
    await waitFor(() => events.some(e => e.event === 'snapshot'), 5000, 'the snapshot')
    const snap = events.find(e => e.event === 'snapshot')!.data
    assert.deepEqual(snap.calls[0].lines.map((l: { role: string, text: string }) => [l.role, l.text]), [['assistant', GREETING_TEXT]])
    rig.model.hearCaller(CALLER_TEXT)
    await waitFor(() => events.some(e => e.event === 'line' && e.data.id === rig.uuid && e.data.line.role === 'caller' && e.data.line.text === CALLER_TEXT), 5000, 'the caller\'s line')
    // GPT-Live: every second of session; Realtime: every response (a key press asks for one).
    if (engine === 'realtime') rig.media.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit: '2', duration: 200 }))
    await waitFor(() => events.some(e => e.event === 'cost' && e.data.id === rig.uuid && e.data.costUsd > 0), 5000, 'a cost update')
  })

  test(`[${engine}] the call store keeps the call: lines, model and cost`, async (t) => {
    const dataDir = await embeddedDataDir(t)
    const rig = await conversationRig(t, { DATA_DIR: dataDir }, fakes, { engine, live })
    const db = (await rig.app.callStore.opened)!
    rig.model.hearCaller(CALLER_TEXT)
    await waitFor(() => rig.app.callStore.live.calls.get(rig.uuid)!.lines.length === 2, 3000, 'two lines')
    await rig.media.close()
    let c = await getCall(db, rig.uuid)
    const deadline = Date.now() + 10_000
    while ((c?.endedAt ?? null) === null && Date.now() < deadline) {
      await new Promise(resolve => setImmediate(resolve))
      c = await getCall(db, rig.uuid)
    }
    assert.ok(c !== null && c.endedAt !== null, 'the end was written')
    assert.deepEqual(c.transcript.map(l => l.role), ['assistant', 'caller'])
    assert.equal(c.model, engine === 'live' ? 'gpt-live-1' : rig.app.config.OPENAI_MODEL)
    assert.ok((c.costUsd ?? 0) > 0)
  })

  test(`[${engine}] the softphone: a browser call hears the greeting and gets its words`, async (t) => {
    const rig = await callRig(t, {}, { ...fakes, transcriptDeltas: true }, { engine, live: { greeting: new Int16Array(16000 * 0.4).fill(1000), ...live } })
    const session = rig.model.nextSession()
    const res = await rig.app.inject({ method: 'POST', url: '/softphone/call', headers: { host: `127.0.0.1:${rig.port}` } })
    assert.equal(res.statusCode, 200)
    const { wsUrl, rate } = res.json() as { wsUrl: string, rate: 16000 }
    await session
    const phone = await VonageMediaClient.connect(wsUrl, { rate })
    t.after(() => phone.close())
    void phone.stream(new Int16Array(16000 * 2), { loop: true })
    await waitFor(() => phone.frames.length >= 15, 5000, 'the greeting')
    const finals = (): Array<Record<string, unknown>> => phone.texts.map(m => m.msg).filter(m => m.event === 'transcript' && m.final === true)
    await waitFor(() => finals().some(m => m.role === 'assistant'), 3000, 'the greeting\'s words')
    assert.equal(finals().find(m => m.role === 'assistant')!.text, GREETING_TEXT)
  })
}
