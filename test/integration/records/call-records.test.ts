import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { conversationRig, startFakeWebhook, type ConversationRig } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { estimateCost, type Prices } from '../../../lib/records/record.js'
import { RecordSender } from '../../../lib/records/sender.js'
import type { Usage } from '../../../lib/call/session.js'

const GREETING = 'チャッピーです。ご用件をお聞かせください。'
const ANSWER = '申し訳ありません、天気はお調べできません。'
const CALLER = '明日の天気を教えてください'
const LIST_PRICES: Prices = { audioInput: 32, audioOutput: 64, textInput: 4, textOutput: 16, cachedInput: 0.4 } // gpt-realtime's

/**
 * greeting (R1) → the caller's turn is committed → the model calls an unknown
 * tool (R2, no audio) → its reply (R3) → the caller's transcription arrives
 * late → the caller hangs up.
 */
async function conversation (t: TestContext, env: Record<string, string | number | boolean> = {}): Promise<ConversationRig> {
  const rig = await conversationRig(t, env, { transcript: GREETING })
  const item = rig.fake.commitInput(rig.conn)
  rig.fake.setOptions({ transcript: ANSWER })
  await rig.fake.functionCall(rig.conn, { name: 'get_weather', arguments: '{"city":"東京"}' })
  await waitFor(() => rig.logs.filter(l => l.msg === 'transcript').length >= (env.LOG_TRANSCRIPTS === true ? 2 : 0) && rig.responseCreates().length === 2, 3000, 'the reply')
  rig.fake.transcribeInput(rig.conn, CALLER, item)
  await waitFor(() => rig.media.frames.length >= 40, 3000, 'both answers played')
  await rig.media.close()
  await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the call record')
  return rig
}

test('transcripts: each turn logged at info with the call id; the record keeps conversation order, sums usage and prices it', async (t) => {
  const rig = await conversation(t, { OPENAI_MODEL: 'gpt-realtime', LOG_TRANSCRIPTS: true }) // priced from the table (lib/records/prices.ts)
  const lines = rig.logs.filter(l => l.msg === 'transcript')
  assert.deepEqual(lines.map(l => [l.role, l.text]), [['assistant', GREETING], ['assistant', ANSWER], ['caller', CALLER]], 'logged as transcribed')
  assert.ok(lines.every(l => l.level === 30 && l.callId === rig.uuid))

  const record = rig.logs.find(l => l.msg === 'call record')!.record as Record<string, any>
  assert.equal(record.type, 'call.record')
  assert.equal(record.callId, rig.uuid)
  assert.equal(record.direction, 'inbound')
  assert.equal(record.from, '********5678')
  assert.equal(record.to, '********3332')
  assert.equal(record.outcome, 'completed')
  assert.equal(record.endReason, 'caller-hangup')
  assert.ok(Date.parse(record.endedAt) >= Date.parse(record.startedAt))
  assert.ok(record.durationMs > 0 && record.durationMs < 30_000)
  assert.deepEqual(record.transcript.map((x: { role: string, text: string }) => [x.role, x.text]), [['assistant', GREETING], ['caller', CALLER], ['assistant', ANSWER]], 'in conversation order')
  assert.deepEqual(record.turns, { caller: 1, assistant: 2 })
  assert.equal(record.bargeIns, 0)
  assert.deepEqual(record.tools.map((x: { name: string, error?: string }) => [x.name, x.error]), [['get_weather', 'unknown_tool']])

  // R1 and R3: 100 input tokens (80 text, 20 audio), 400 ms of audio out = 8 tokens; R2: 100 in, 10 text out.
  assert.deepEqual(record.usage, {
    responses: 3,
    inputTokens: 300,
    outputTokens: 26,
    inputAudioTokens: 60,
    inputTextTokens: 240,
    inputCachedTokens: 0,
    outputAudioTokens: 16,
    outputTextTokens: 10,
    inputCachedAudioTokens: 0,
    inputCachedTextTokens: 0
  })
  const ended = rig.logs.find(l => l.msg === 'call ended')!.call as { usage: Usage }
  assert.deepEqual({ ...record.usage, inputCachedAudioTokens: undefined, inputCachedTextTokens: undefined }, { ...ended.usage, inputCachedAudioTokens: undefined, inputCachedTextTokens: undefined })
  assert.deepEqual(record.cost, {
    currency: 'USD',
    total: 0.004064,
    audioInput: 0.00192,
    audioOutput: 0.001024,
    textInput: 0.00096,
    textOutput: 0.00016,
    cachedInput: 0,
    pricesPer1M: LIST_PRICES
  })
  assert.ok(record.audio.assistantMs >= 800)
  assert.ok(!JSON.stringify(rig.logs).includes('818012345678'), 'no full number in the log')
  assert.deepEqual(rig.conn.invalid, [])
  assert.deepEqual(rig.fake.selfInvalid, [])
})

test('by default (LOG_TRANSCRIPTS unset) no word of the call reaches any log line, at any level; the webhook record keeps the transcript', async (t) => {
  const hook = await startFakeWebhook(t)
  const rig = await conversation(t, { LOG_LEVEL: 'trace', CALL_RECORD_WEBHOOK_URL: hook.url, CALL_RECORD_WEBHOOK_SECRET: 'record-secret-0123456789', PRICE_AUDIO_OUTPUT_PER_1M: 100 })
  assert.equal(rig.app.config.LOG_TRANSCRIPTS, false, 'the default is off')
  assert.equal(rig.logs.filter(l => l.msg === 'transcript').length, 0)
  const record = rig.logs.find(l => l.msg === 'call record')!.record as Record<string, any>
  assert.equal(record.transcript, undefined)
  assert.deepEqual(record.turns, { caller: 1, assistant: 2 })
  const text = JSON.stringify(rig.logs)
  assert.equal(rig.app.log.level, 'trace', 'every line the app wrote was kept')
  for (const words of [GREETING, ANSWER, CALLER]) assert.ok(!text.includes(words), `"${words}" is not in the log`)
  assert.equal(record.cost.audioOutput, 0.0016, 'PRICE_* settings are used')
  await waitFor(() => hook.received.length === 1, 5000, 'the webhook record')
  assert.deepEqual(hook.received[0]!.body.transcript.map((x: { text: string }) => x.text), [GREETING, CALLER, ANSWER], 'the webhook keeps the words')
})

test('LOG_TRANSCRIPTS=false said outright: the same', async (t) => {
  const rig = await conversation(t, { LOG_TRANSCRIPTS: false })
  assert.equal(rig.logs.filter(l => l.msg === 'transcript').length, 0)
  const text = JSON.stringify(rig.logs)
  for (const words of [GREETING, ANSWER, CALLER]) assert.ok(!text.includes(words))
})

test('the record webhook: HMAC-signed raw body, retried with backoff after a 503, the call never waits for it', async (t) => {
  const hook = await startFakeWebhook(t)
  hook.reply = (_r, n) => n === 1 ? { status: 503, body: { error: 'busy' } } : { status: 204 }
  const secret = 'record-secret-0123456789'
  const rig = await conversation(t, { CALL_RECORD_WEBHOOK_URL: hook.url, CALL_RECORD_WEBHOOK_SECRET: secret, LOG_TRANSCRIPTS: false })
  const loggedAt = performance.now()
  await waitFor(() => hook.received.length === 2, 5000, 'the retry')
  const [first, second] = hook.received
  assert.equal(first!.raw, second!.raw, 'the same record both times')
  for (const r of [first!, second!]) {
    assert.equal(r.headers['x-signature'], `sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`)
    assert.equal(r.headers['content-type'], 'application/json')
  }
  assert.deepEqual([first!.headers['x-delivery-attempt'], second!.headers['x-delivery-attempt']], ['1', '2'])
  const gap = second!.at - first!.at
  assert.ok(gap >= 700 && gap < 3000, `backoff of about 1 s (${Math.round(gap)} ms)`)
  assert.ok(first!.at - loggedAt < 1000)
  // The webhook gets the whole record, transcript included, and the numbers masked.
  assert.equal(first!.body.callId, rig.uuid)
  assert.deepEqual(first!.body.transcript.map((x: { text: string }) => x.text), [GREETING, CALLER, ANSWER])
  assert.equal(first!.body.from, '********5678')
  const retry = rig.logs.find(l => l.msg === 'call record webhook failed: retrying')!
  assert.equal(retry.failure, 'HTTP 503')
  await waitFor(() => rig.app.callRecords.sender?.pending === 0, 2000, 'delivered')
  assert.ok(!rig.logs.some(l => l.msg === 'transcript'))
})

test('a call still up at shutdown gets its record delivered before the server closes', async (t) => {
  const hook = await startFakeWebhook(t)
  const rig = await conversationRig(t, { CALL_RECORD_WEBHOOK_URL: hook.url, CALL_RECORD_WEBHOOK_SECRET: 'record-secret-0123456789' })
  await rig.app.close()
  assert.equal(hook.received.length, 1)
  assert.equal(hook.received[0]!.body.outcome, 'shutdown')
})

function quietLog (): { lines: Array<{ level: string, obj: Record<string, unknown>, msg?: string }>, info: (o: object, m?: string) => void, warn: (o: object, m?: string) => void, debug: (o: object, m?: string) => void } {
  const lines: Array<{ level: string, obj: Record<string, unknown>, msg?: string }> = []
  return {
    lines,
    info: (obj, msg) => { lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }) },
    warn: (obj, msg) => { lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }) },
    debug: (obj, msg) => { lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }) }
  }
}

test('RecordSender: bounded retries on 5xx, none on 4xx, and a clean close', async (t) => {
  const hook = await startFakeWebhook(t)
  const key = Buffer.from('k')

  hook.reply = () => ({ status: 500 })
  const log = quietLog()
  const sender = new RecordSender({ url: hook.url, key, retries: 2, timeoutMs: 1000, log, baseDelayMs: 20 })
  sender.send('a', { n: 1 })
  await waitFor(() => sender.pending === 0, 3000, 'give up')
  assert.equal(hook.received.length, 3, 'first try + 2 retries')
  assert.match(log.lines.at(-1)!.msg!, /giving up/)
  assert.equal(log.lines.at(-1)!.obj.attempts, 3)

  hook.received.length = 0
  hook.reply = () => ({ status: 400 })
  sender.send('b', { n: 2 })
  await waitFor(() => sender.pending === 0, 3000)
  assert.equal(hook.received.length, 1, 'a refusal is not retried')

  // close(): a record waiting out a long backoff gets one immediate last try.
  hook.received.length = 0
  hook.reply = (_r, n) => n === 1 ? { status: 502 } : { status: 200 }
  const slowLog = quietLog()
  const slow = new RecordSender({ url: hook.url, key, retries: 3, timeoutMs: 1000, log: slowLog, baseDelayMs: 60_000 })
  slow.send('c', { n: 3 })
  await waitFor(() => slowLog.lines.some(l => /retrying/.test(l.msg ?? '')), 2000, 'the first try failed and a retry is scheduled')
  const started = performance.now()
  await slow.close()
  assert.ok(performance.now() - started < 2000)
  assert.equal(hook.received.length, 2)
  assert.equal(slow.pending, 0)

  // close(): a receiver that never answers is abandoned after the grace time.
  hook.received.length = 0
  hook.reply = () => ({ status: 200, delayMs: 30_000 })
  const stuckLog = quietLog()
  const stuck = new RecordSender({ url: hook.url, key, retries: 3, timeoutMs: 20_000, log: stuckLog, baseDelayMs: 10 })
  stuck.send('d', { n: 4 })
  await waitFor(() => hook.received.length === 1, 2000)
  const closing = performance.now()
  await stuck.close(200)
  assert.ok(performance.now() - closing < 2000)
  assert.equal(stuck.pending, 0)
  assert.ok(stuckLog.lines.some(l => l.level === 'warn' && l.obj.callId === 'd'), 'the abandoned record is named in the log')
})

test('estimateCost: cached tokens at the cached price, split by modality when reported, in proportion otherwise', () => {
  const usage: Usage = { responses: 1, inputTokens: 1000, outputTokens: 300, inputAudioTokens: 600, inputTextTokens: 400, inputCachedTokens: 500, outputAudioTokens: 200, outputTextTokens: 100, inputCachedAudioTokens: 0, inputCachedTextTokens: 0 }
  const reported = estimateCost(usage, LIST_PRICES, { audio: 300, text: 200 })
  // (600-300)*32 + (400-200)*4 + 500*0.4 + 200*64 + 100*16 = 25000 per 1M
  assert.equal(reported.total, 0.025)
  assert.equal(reported.cachedInput, 0.0002)
  const proportional = estimateCost(usage, LIST_PRICES)
  assert.equal(proportional.audioInput, 0.0096, '300 of the 500 cached tokens are audio (600/1000)')
  assert.equal(proportional.total, 0.025)
  assert.equal(estimateCost({ ...usage, inputCachedTokens: 0 }, LIST_PRICES).total, 0.0352)
})
