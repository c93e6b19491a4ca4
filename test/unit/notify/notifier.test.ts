import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Notifier, displayNumber } from '../../../lib/notify/notifier.js'
import { MemoryOutbox } from '../../../lib/notify/outbox.js'
import { retryAfterMs, type Channel, type OutgoingMessage, type SendOutcome } from '../../../lib/notify/channels/channel.js'
import { callMessage, transferNotReached } from '../../../lib/notify/message.js'
import type { TransferNote } from '../../../lib/transfer/warm-transfer.js'
import { checkNotifySettings } from '../../../lib/notify/settings.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { configSchema, type RawConfig } from '../../../lib/config/schema.js'

class ScriptedChannel implements Channel {
  readonly sent: OutgoingMessage[] = []
  constructor (readonly name: 'line' | 'slack' | 'email', readonly script: SendOutcome[] = []) {}
  async send (m: OutgoingMessage): Promise<SendOutcome> {
    this.sent.push(m)
    return this.script.shift() ?? { ok: true }
  }
}

const quiet = { info: () => {}, warn: () => {}, debug: () => {} }

function notifier (channels: Channel[], o: { fullNumbers?: boolean, maxAttempts?: number } = {}): { n: Notifier, outbox: MemoryOutbox } {
  const outbox = new MemoryOutbox()
  return { n: new Notifier({ channels, outbox: async () => outbox, log: quiet, maxAttempts: o.maxAttempts ?? 3, baseDelayMs: 5, fullNumbers: o.fullNumbers ?? true }), outbox }
}

test('send is idempotent per (callId, kind, channel): a second send of the same message sends nothing', async () => {
  const line = new ScriptedChannel('line')
  const { n } = notifier([line])
  await n.send({ callId: 'c1', kind: 'call', text: 'a {number}', number: '818012345678' })
  await waitFor(() => line.sent.length === 1, 2000)
  await n.send({ callId: 'c1', kind: 'call', text: 'a {number}', number: '818012345678' })
  await n.send({ callId: 'c1', kind: 'voicemail', text: 'b' })
  await waitFor(() => line.sent.length === 2, 2000)
  await waitFor(() => n.busy === 0, 2000)
  assert.deepEqual(line.sent.map(m => [m.kind, m.text]), [['call', 'a 08012345678'], ['voicemail', 'b']])
})

test('the full number goes to the channel, the outbox keeps it masked; NOTIFY_FULL_NUMBERS=false masks it everywhere', async () => {
  for (const fullNumbers of [true, false]) {
    const line = new ScriptedChannel('line')
    const { n, outbox } = notifier([line], { fullNumbers })
    await n.send({ callId: 'c1', kind: 'call', subject: '{number}', text: '電話: {number}', number: '818012345678' })
    await waitFor(() => line.sent.length === 1, 2000)
    assert.equal(line.sent[0]!.text, fullNumbers ? '電話: 08012345678' : '電話: *******5678')
    const [row] = await outbox.forCall('c1')
    assert.equal(row!.body, '電話: *******5678')
    assert.equal(row!.subject, '*******5678')
  }
})

test('4xx is not retried; 5xx is retried with the same retry key until maxAttempts, then failed', async () => {
  const slack = new ScriptedChannel('slack', [{ ok: false, retryable: false, error: 'HTTP 404: no_service' }])
  const line = new ScriptedChannel('line', [{ ok: false, retryable: true, error: 'HTTP 500' }, { ok: false, retryable: true, error: 'HTTP 502' }, { ok: false, retryable: true, error: 'HTTP 503' }])
  const { n } = notifier([line, slack])
  await n.send({ callId: 'c1', kind: 'call', text: 'x' })
  await waitFor(() => n.busy === 0 && line.sent.length === 3, 3000)
  const status = Object.fromEntries((await n.statusFor('c1')).map(s => [s.channel, s]))
  assert.deepEqual([status.slack!.status, status.slack!.attempts, status.slack!.lastError], ['failed', 1, 'HTTP 404: no_service'])
  assert.deepEqual([status.line!.status, status.line!.attempts, status.line!.lastError], ['failed', 3, 'HTTP 503'])
  assert.equal(new Set(line.sent.map(m => m.retryKey)).size, 1)
  assert.equal(slack.sent.length, 1)
})

test('Retry-After: seconds or an HTTP date', () => {
  assert.equal(retryAfterMs('3'), 3000)
  assert.equal(retryAfterMs(null), undefined)
  assert.equal(retryAfterMs(new Date(Date.UTC(2026, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2026, 0, 1)), 10_000)
  assert.equal(retryAfterMs('soon'), undefined)
})

test('numbers as the owner dials them back', () => {
  assert.equal(displayNumber('818012345678'), '08012345678')
  assert.equal(displayNumber('+81312345678'), '0312345678')
  assert.equal(displayNumber('14155550100'), '+14155550100')
})

test('the message: who, what, callback, reservation, link; without a summary, the first words', () => {
  const base = { callId: 'c1', direction: 'inbound', startedAt: '2026-12-03T05:05:00Z', durationMs: 130_000, firstWords: '予約したい', link: 'https://shop.example/console#call/c1', timeZone: 'Asia/Tokyo' }
  const summary = {
    callerName: '佐藤',
    callerNumber: null,
    callbackNumber: '09011112222',
    request: '予約の変更',
    urgency: 'high' as const,
    callback: { wanted: true, when: null },
    reservation: { date: '2026-12-05', time: null, partySize: 2, name: null },
    outcome: 'hung-up' as const,
    openItems: ['変更先の日時を聞く'],
    model: 'm',
    usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 },
    costUsd: 0
  }
  const m = callMessage({ ...base, summary })
  assert.equal(m.text, [
    '📞 佐藤様（{number}）からお電話がありました',
    '用件: 予約の変更',
    '緊急度: 至急',
    '折り返し: 希望あり',
    '折り返し先: 09011112222',
    '予約: 2026-12-05 2名',
    '結果: 途中で切れました',
    '対応事項: 変更先の日時を聞く',
    '通話: 12/3 14:05 · 2分10秒',
    '詳細: https://shop.example/console#call/c1'
  ].join('\n'))
  assert.equal(m.subject, '【折り返し希望】佐藤様 予約の変更')
  const plain = callMessage({ ...base, summary: null, link: null })
  assert.equal(plain.text, '📞 {number}からお電話がありました\n最初のお話: 「予約したい」\n（要約はありません）\n通話: 12/3 14:05 · 2分10秒')
  // The owner's clock, not the server's: the same call seen from Honolulu (TIMEZONE=Pacific/Honolulu).
  assert.match(callMessage({ ...base, summary: null, link: null, timeZone: 'Pacific/Honolulu' }).text, /通話: 12\/2 19:05 · 2分10秒$/)
})

test('the message: a staff phone rung and nobody took the caller says so, and is the subject\'s tag when nothing more pressing is', () => {
  const base = { callId: 'c2', direction: 'inbound', startedAt: '2026-12-03T05:05:00Z', durationMs: 65_000, summary: null, firstWords: '担当の方をお願いします', link: null, timeZone: 'Asia/Tokyo' }
  const ring = (state: TransferNote['state']): TransferNote => ({ to: '+*******2222', state, ringingAt: '2026-12-03T05:05:30Z', briefing: 'b' })
  const declined = callMessage({ ...base, transfers: [ring('declined')] })
  assert.equal(declined.text, '📞 {number}からお電話がありました\n最初のお話: 「担当の方をお願いします」\n（要約はありません）\n転送: 担当者が受けられませんでした\n通話: 12/3 14:05 · 1分05秒')
  assert.equal(declined.subject, '【転送できず】{number} お電話がありました')
  // The last ring tells; one that was taken means the caller was put through.
  assert.match(callMessage({ ...base, transfers: [ring('declined'), ring('no-answer')] }).text, /\n転送: 担当者が出ませんでした\n/)
  assert.equal(transferNotReached([ring('no-answer'), ring('accepted')]), null)
  assert.equal(transferNotReached([]), null)
  assert.equal(transferNotReached(undefined), null)
  assert.equal(transferNotReached([ring('cancelled')]), '呼び出し中に相手が電話を切りました')
  assert.doesNotMatch(callMessage(base).text, /転送/)
  assert.equal(callMessage(base).subject, '【着信】{number} お電話がありました')
})

function raw (over: Partial<RawConfig>): RawConfig {
  const d = Object.fromEntries(Object.entries(configSchema.properties).map(([k, v]) => [k, (v as { default?: unknown }).default ?? ''])) as unknown as RawConfig
  return { ...d, ...over }
}

test('settings: each problem names the setting and what to write', () => {
  assert.deepEqual(checkNotifySettings(raw({})), [])
  const p = checkNotifySettings(raw({ NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: 'tok en', NOTIFY_LINE_TO: '@mybot', SMTP_URL: 'http://x', NOTIFY_EMAIL_TO: 'owner', NOTIFY_SLACK_WEBHOOK_URL: 'hooks.slack.com/x' })).join('\n')
  for (const re of [/NOTIFY_LINE_TO is malformed \("@mybot"\)/, /NOTIFY_LINE_CHANNEL_ACCESS_TOKEN contains spaces/, /SMTP_URL is malformed/, /NOTIFY_EMAIL_FROM is required/, /NOTIFY_EMAIL_TO has a malformed address \("owner"\)/, /NOTIFY_SLACK_WEBHOOK_URL is malformed/]) assert.match(p, re)
  assert.match(checkNotifySettings(raw({ NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: 'token-0123456789' })).join(), /NOTIFY_LINE_TO is required/)
  assert.match(checkNotifySettings(raw({ NOTIFY_EMAIL_TO: 'a@b.jp' })).join(), /SMTP_URL is required/)
})

test('a message queued while shutting down is written, not sent; the next start sends it', async () => {
  const line = new ScriptedChannel('line')
  const { n, outbox } = notifier([line])
  await n.close()
  await n.send({ callId: 'c9', kind: 'call', text: 'late' })
  assert.equal(line.sent.length, 0)
  assert.deepEqual((await outbox.unfinished()).map(r => [r.callId, r.status]), [['c9', 'pending']])
  const next = new Notifier({ channels: [line], outbox: async () => outbox, log: quiet, maxAttempts: 3, baseDelayMs: 5, fullNumbers: true })
  assert.equal(await next.resume(), 1)
  await waitFor(() => line.sent.length === 1 && next.busy === 0, 2000)
  assert.deepEqual((await next.statusFor('c9')).map(s => s.status), ['sent'])
})
