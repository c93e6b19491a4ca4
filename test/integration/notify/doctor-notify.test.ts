import { test } from 'node:test'
import assert from 'node:assert/strict'
import { notifyChecks } from '../../../lib/notify/doctor.js'
import { configSchema, type AppConfig } from '../../../lib/config/schema.js'
import { startFakeLine } from '../../fakes/line-api.js'
import { startFakeSlack } from '../../fakes/slack-webhook.js'
import { startFakeSmtp } from '../../fakes/smtp.js'

/** The schema's defaults with `over` on top: the settings as the server would read them. */
function config (over: Partial<AppConfig>): AppConfig {
  const d = Object.fromEntries(Object.entries(configSchema.properties).map(([k, v]) => [k, (v as { default?: unknown }).default ?? ''])) as unknown as AppConfig
  return { ...d, publicHost: '', ...over }
}

test('doctor: each configured channel is checked without sending anything; --notify-test sends one message to each', async (t) => {
  const line = await startFakeLine(t)
  const slack = await startFakeSlack(t)
  const smtp = await startFakeSmtp(t)
  const c = config({ NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: line.token, NOTIFY_LINE_TO: 'U' + 'a'.repeat(32), LINE_API_BASE_URL: line.url, NOTIFY_SLACK_WEBHOOK_URL: slack.url, SMTP_URL: smtp.url, NOTIFY_EMAIL_TO: 'owner@example.jp', NOTIFY_EMAIL_FROM: 'phone@example.jp' })

  const checks = await notifyChecks(c, false, 5000)
  assert.deepEqual(checks.map(x => x.status), ['ok', 'warn', 'ok'], JSON.stringify(checks))
  assert.match(checks[0]!.en, /LINE: token accepted \(bot "お店の電話番"\)/)
  assert.match(checks[1]!.en, /not on hooks\.slack\.com/, 'the fake\'s URL is not Slack\'s')
  assert.match(checks[2]!.en, /logged in to the SMTP server/)
  assert.equal(smtp.logins, 1)
  assert.deepEqual([line.accepted.length, slack.posted.length, smtp.mails.length], [0, 0, 0], 'nothing sent')

  const sent = await notifyChecks(c, true, 5000)
  assert.deepEqual(sent.slice(3).map(x => [x.status, x.en]), [['ok', 'line: test message sent'], ['ok', 'slack: test message sent'], ['ok', 'email: test message sent']])
  assert.deepEqual([line.accepted.length, slack.posted.length, smtp.mails.length], [1, 1, 1])
  assert.match(smtp.mails[0]!.subject, /【テスト】電話の通知/)

  const wrong = await notifyChecks({ ...c, NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: 'a-wrong-token-0123456789', SMTP_URL: smtp.url.replace('smtp-pass', 'bad-pass') }, false, 5000)
  assert.deepEqual(wrong.map(x => x.status), ['fail', 'warn', 'fail'])
  assert.match(wrong[0]!.en, /HTTP 401/)
  assert.ok(wrong[0]!.fix !== undefined && wrong[2]!.fix !== undefined)
  assert.ok(!JSON.stringify(wrong).includes('bad-pass'), 'no password in the checklist')
})

test('doctor: no channel set is said, not a problem', async () => {
  const checks = await notifyChecks(config({}), false, 1000)
  assert.deepEqual(checks.map(x => x.status), ['ok'])
  assert.match(checks[0]!.en, /no channel/)
})
