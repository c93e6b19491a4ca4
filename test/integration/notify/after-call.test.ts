import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { conversationRig, startFakeWebhook, type ConversationRig } from '../../helpers/call-rig.js'
import { build } from '../../helpers/build.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { openAIRest, type FakeOpenAIRest } from '../../fakes/openai-rest.js'
import { startFakeLine, type FakeLine } from '../../fakes/line-api.js'
import { startFakeSlack, type FakeSlack } from '../../fakes/slack-webhook.js'
import { startFakeSmtp, type FakeSmtp } from '../../fakes/smtp.js'
import { embeddedDataDir } from '../records/store-backends.js'

const GREETING = 'お電話ありがとうございます。チャッピーです。'
const CALLER = '明日の夜7時に4人で予約したいです。田中です。'
const LINE_TO = 'U' + 'a'.repeat(32)
/** The rig's caller, 818012345678, as the owner dials it back. */
const FULL = '08012345678'

interface Parties { rest: FakeOpenAIRest, line: FakeLine, slack: FakeSlack, smtp: FakeSmtp }

async function parties (t: TestContext): Promise<Parties> {
  return { rest: openAIRest(), line: await startFakeLine(t), slack: await startFakeSlack(t), smtp: await startFakeSmtp(t) }
}

function notifyEnv (p: Parties, dataDir: string): Record<string, string | number | boolean> {
  return {
    DATA_DIR: dataDir,
    SUMMARY_MODEL: 'gpt-5.6-luna',
    NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: p.line.token,
    NOTIFY_LINE_TO: LINE_TO,
    LINE_API_BASE_URL: p.line.url,
    NOTIFY_SLACK_WEBHOOK_URL: p.slack.url,
    SMTP_URL: p.smtp.url,
    NOTIFY_EMAIL_TO: 'owner@example.jp',
    NOTIFY_EMAIL_FROM: 'phone@example.jp',
    NOTIFY_RETRY_BASE_MS: 20,
    NOTIFY_MAX_ATTEMPTS: 3
  }
}

/** The greeting, the caller's words, then the caller hangs up. */
async function callAndHangUp (t: TestContext, p: Parties, env: Record<string, string | number | boolean>): Promise<ConversationRig> {
  const rig = await conversationRig(t, env, { transcript: GREETING, rest: p.rest })
  rig.fake.transcribeInput(rig.conn, CALLER)
  await waitFor(() => rig.app.bridge.sessions.get(rig.uuid) !== undefined, 1000)
  await rig.media.close()
  return rig
}

/** Waits for an async condition (a query), checking again after each answer. */
async function until (pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function api (rig: ConversationRig, url: string): Promise<any> {
  const res = await rig.app.inject({ method: 'GET', url })
  assert.equal(res.statusCode, 200, res.body)
  return res.json()
}

test('a call ends → its Japanese summary is stored, in the record webhook and the API, and one message per channel carries it with the full number', async (t) => {
  const p = await parties(t)
  const hook = await startFakeWebhook(t)
  const dataDir = await embeddedDataDir(t)
  const rig = await callAndHangUp(t, p, { ...notifyEnv(p, dataDir), CALL_RECORD_WEBHOOK_URL: hook.url, CALL_RECORD_WEBHOOK_SECRET: 'record-secret-0123456789' })
  const ended = performance.now()
  await waitFor(() => p.line.accepted.length === 1 && p.slack.posted.length === 1 && p.smtp.mails.length === 1, 30_000, 'one message per channel')
  const tookMs = performance.now() - ended

  // The summary request: Structured Outputs, strict, over the transcript.
  assert.deepEqual(p.rest.invalid, [])
  assert.equal(p.rest.requests.length, 1)
  const req = p.rest.requests[0]!
  assert.equal(req.path, '/responses')
  assert.equal(req.headers.authorization, 'Bearer sk-test-0123456789abcdef')
  assert.equal(req.body.model, 'gpt-5.6-luna')
  assert.equal(req.body.text.format.type, 'json_schema')
  assert.equal(req.body.text.format.strict, true)
  assert.match(req.body.input[0].content, new RegExp(`発信者: ${CALLER}`))
  assert.match(req.body.input[0].content, new RegExp(`AI: ${GREETING}`))

  // Each channel: once, the summary and the number in full.
  const line = p.line.accepted[0]!
  assert.equal(line.to, LINE_TO)
  assert.match(line.retryKey ?? '', /^[0-9a-f-]{36}$/)
  const text = line.messages[0]!.text
  for (const got of [text, p.slack.posted[0]!.text, p.smtp.mails[0]!.text]) {
    assert.match(got, new RegExp(`田中様（${FULL}）からお電話がありました`))
    assert.match(got, /用件: 明日19時に4名で予約したい。/)
    assert.match(got, /折り返し: 希望あり（本日17時以降）/)
    assert.match(got, /予約: 2026-12-04 19:00 4名 田中様/)
    assert.ok(got.includes(`詳細: https://bridge.example.test/console#call/${rig.uuid}`), got)
  }
  const mail = p.smtp.mails[0]!
  assert.deepEqual(mail.to, ['owner@example.jp'])
  assert.equal(mail.from, 'phone@example.jp')
  assert.equal(mail.subject, '【折り返し希望】田中様 明日19時に4名で予約したい。')
  assert.equal(p.smtp.logins, 1)
  assert.deepEqual([p.line.invalid, p.slack.invalid], [[], []])
  t.diagnostic(`call end → all three messages: ${Math.round(tookMs)} ms`)

  // The record webhook waits for the summary and carries it (numbers masked, as in the record).
  await waitFor(() => hook.received.length === 1, 10_000, 'the record webhook')
  const record = hook.received[0]!.body
  assert.equal(record.summary.request, '明日19時に4名で予約したい。')
  assert.equal(record.summary.callerNumber, '********5678')
  assert.equal(record.summary.model, 'gpt-5.6-luna')
  assert.ok(record.summary.costUsd > 0)

  // Stored with the call, first in the API, and the callback filter finds it.
  await until(async () => (await api(rig, `/api/calls/${rig.uuid}`)).notifications.every((n: { status: string }) => n.status === 'sent'), 10_000, 'all marked sent')
  const detail = await api(rig, `/api/calls/${rig.uuid}`)
  assert.equal(detail.summary.callerName, '田中')
  assert.equal(detail.summary.callerNumber, '********5678', 'the store keeps masked numbers (STORE_FULL_NUMBERS=false)')
  assert.equal(detail.callbackWanted, true)
  assert.deepEqual(detail.notifications.map((n: { channel: string, status: string, attempts: number }) => [n.channel, n.status, n.attempts]), [['email', 'sent', 1], ['line', 'sent', 1], ['slack', 'sent', 1]])
  const wanted = await api(rig, '/api/calls?callback=1')
  assert.deepEqual(wanted.calls.map((c: { id: string }) => c.id), [rig.uuid])
  assert.equal((await api(rig, '/api/overview?days=1')).callbacksWanted, 1)
  const bad = await rig.app.inject({ method: 'GET', url: '/api/calls?callback=yes' })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.json().message, /callback/)

  // The logs hold neither the full number nor a secret, nor the caller's words.
  const logs = JSON.stringify(rig.logs)
  for (const secret of ['818012345678', FULL, p.line.token, 'smtp-pass-0123456789', 'abcdefghijklmnopqrstuvwx', CALLER, '明日19時']) assert.ok(!logs.includes(secret), `"${secret}" is not in the log`)
})

test('one channel down: retried with backoff, then marked failed and logged once; the others are unaffected; a 429 honours Retry-After', async (t) => {
  const p = await parties(t)
  p.slack.down = 500
  p.line.plan.push({ status: 429, retryAfter: '1' })
  const rig = await callAndHangUp(t, p, notifyEnv(p, await embeddedDataDir(t)))
  await waitFor(() => p.smtp.mails.length === 1, 30_000, 'the email')
  await waitFor(() => p.line.accepted.length === 1, 30_000, 'LINE after its 429')
  const [first, second] = p.line.requests
  assert.equal(first!.status, 429)
  assert.equal(second!.retryKey, first!.retryKey, 'the same retry key on the retry')
  await until(async () => (await api(rig, `/api/calls/${rig.uuid}`)).notifications.find((n: { channel: string }) => n.channel === 'slack')?.status === 'failed', 30_000, 'slack marked failed')
  assert.equal(p.slack.requests, 3, 'NOTIFY_MAX_ATTEMPTS tries')
  assert.equal(p.slack.posted.length, 0)
  const detail = await api(rig, `/api/calls/${rig.uuid}`)
  const byChannel = Object.fromEntries(detail.notifications.map((n: { channel: string }) => [n.channel, n]))
  assert.equal(byChannel.slack.lastError, 'HTTP 500: internal_error')
  assert.equal(byChannel.line.status, 'sent')
  assert.equal(byChannel.line.attempts, 2)
  assert.equal(byChannel.email.status, 'sent')
  const failures = rig.logs.filter(l => l.msg === 'notification not delivered: marked failed (shown in the console)')
  assert.equal(failures.length, 1, 'logged once')
  assert.equal(failures[0]!.channel, 'slack')
  const overview = await api(rig, '/api/overview?days=1')
  assert.deepEqual(overview.notificationsFailed.map((n: { callId: string, channel: string }) => [n.callId, n.channel]), [[rig.uuid, 'slack']])
  assert.ok(!JSON.stringify(rig.logs).includes('abcdefghijklmnopqrstuvwx'), 'the webhook URL\'s secret path is not logged')
})

test('LINE: a crash between LINE accepting the push and our mark → the restarted server sends it again with the same retry key, LINE answers 409, no duplicate', async (t) => {
  const p = await parties(t)
  const dataDir = await embeddedDataDir(t)
  const env = { ...notifyEnv(p, dataDir), NOTIFY_SLACK_WEBHOOK_URL: '', SMTP_URL: '', NOTIFY_EMAIL_TO: '', NOTIFY_EMAIL_FROM: '' }
  p.line.plan.push('accept-and-hang')
  const rig = await callAndHangUp(t, p, env)
  await waitFor(() => p.line.accepted.length === 1, 30_000, 'LINE accepted the push (its answer never comes)')
  const db = rig.app.callStore.db()!
  await until(async () => (await db.query<{ status: string }>('SELECT status FROM notifications')).map(r => r.status).join() === 'sending', 5000, 'the row marked sending before the send')
  await rig.app.close()

  const again = await build(t, env)
  await waitFor(() => p.line.requests.some(r => r.status === 409), 30_000, 'the resumed push')
  const db2 = again.app.callStore.db()!
  await until(async () => (await db2.query<{ status: string }>('SELECT status FROM notifications')).map(r => r.status).join() === 'sent', 5000, 'marked sent')
  assert.equal(p.line.accepted.length, 1, 'LINE delivered it once')
  const keys = new Set(p.line.requests.map(r => r.retryKey))
  assert.equal(keys.size, 1, 'one retry key for both tries')
  assert.ok(again.logs.some(l => l.msg === 'notifications resumed from the outbox'))
})

test('a short call in which the caller said nothing sends no message (NOTIFY_MIN_SECONDS); without SUMMARY_MODEL the message carries the first words', async (t) => {
  const line = await startFakeLine(t)
  const hook = await startFakeWebhook(t)
  const env = { NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: line.token, NOTIFY_LINE_TO: LINE_TO, LINE_API_BASE_URL: line.url, CALL_RECORD_WEBHOOK_URL: hook.url, CALL_RECORD_WEBHOOK_SECRET: 'record-secret-0123456789' }
  const silent = async (minSeconds: number): Promise<ConversationRig> => {
    const rig = await conversationRig(t, { ...env, NOTIFY_MIN_SECONDS: minSeconds }, { transcript: GREETING })
    const before = hook.received.length
    await rig.media.close()
    // The record goes to the webhook after the after-call steps: by then any message is queued.
    await waitFor(() => hook.received.length === before + 1, 10_000, 'the record')
    return rig
  }
  const short = await silent(60)
  assert.deepEqual(await short.app.notifier.statusFor(short.uuid), [], 'nothing queued')
  const counted = await silent(0)
  assert.equal((await counted.app.notifier.statusFor(counted.uuid)).length, 1, 'the same call is notified when it is long enough')
  await waitFor(() => line.accepted.length === 1, 10_000, 'its message')
  assert.match(line.accepted[0]!.messages[0]!.text, /相手は何も話さずに切りました/)

  const rig = await conversationRig(t, { ...env, SUMMARY_MODEL: '' }, { transcript: GREETING })
  rig.fake.transcribeInput(rig.conn, CALLER)
  await waitFor(() => rig.app.bridge.sessions.get(rig.uuid) !== undefined, 1000)
  await rig.media.close()
  await waitFor(() => line.accepted.length === 2, 10_000, 'the message without a summary')
  assert.match(line.accepted[1]!.messages[0]!.text, new RegExp(`^📞 ${FULL}からお電話がありました\n最初のお話: 「${CALLER}」\n（要約はありません）`))
})

test('a model that never answers holds nothing up: after SUMMARY_TIMEOUT_MS the record and the message go without a summary', async (t) => {
  const p = await parties(t)
  p.rest.routes.set('POST /responses', () => ({ hang: true }))
  const hook = await startFakeWebhook(t)
  const rig = await callAndHangUp(t, p, { NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: p.line.token, NOTIFY_LINE_TO: LINE_TO, LINE_API_BASE_URL: p.line.url, SUMMARY_MODEL: 'gpt-5.6-luna', SUMMARY_TIMEOUT_MS: 1000, CALL_RECORD_WEBHOOK_URL: hook.url, CALL_RECORD_WEBHOOK_SECRET: 'record-secret-0123456789' })
  await waitFor(() => hook.received.length === 1 && p.line.accepted.length === 1, 15_000, 'the record and the message')
  assert.equal(p.rest.requests.length, 1, 'the summary was asked for')
  assert.equal(hook.received[0]!.body.summary, undefined)
  assert.match(p.line.accepted[0]!.messages[0]!.text, /（要約はありません）/)
  const failed = rig.logs.find(l => l.msg === 'after-call summary failed: the record and the notification go without it')!
  assert.equal(failed.error, 'timeout after 1000 ms')
})
