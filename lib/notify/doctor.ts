import type { AppConfig } from '../config/schema.js'
import type { Check } from '../doctor/checks.js'
import { configuredChannels } from './channels/index.js'
import { LineChannel } from './channels/line.js'
import { EmailChannel } from './channels/email.js'
import { SlackChannel } from './channels/slack.js'

/**
 * The owner's channels, checked without sending: LINE's token (GET /v2/bot/info),
 * the SMTP login (EHLO, AUTH, no mail), the Slack webhook's form (Slack offers no
 * dry run). With `sendTest`, one test message to each.
 */
export async function notifyChecks (c: AppConfig, sendTest: boolean, timeoutMs: number): Promise<Check[]> {
  const checks: Check[] = []
  const channels = configuredChannels(c)
  if (channels.length === 0) {
    // Not a problem: the console shows every call. Said, so the owner knows the option exists.
    checks.push({ status: 'ok', ja: '通話の通知: 通知先（LINE・Slack・メール）は未設定です（docs/notifications.md）', en: 'call notifications: no channel (LINE, Slack, email) is set (docs/notifications.md)' })
    return checks
  }
  for (const ch of channels) {
    const signal = AbortSignal.timeout(timeoutMs)
    if (ch instanceof LineChannel) {
      const r = await ch.check(signal)
      checks.push(r.ok
        ? { status: 'ok', ja: `LINE: トークンを確認しました（ボット「${r.name}」）`, en: `LINE: token accepted (bot "${r.name}")` }
        : { status: 'fail', ja: `LINE: トークンを確認できません（${r.error}）`, en: `LINE: the token was not accepted (${r.error})`, fix: { ja: 'LINE Developers コンソールの Messaging API 設定でチャネルアクセストークン（長期）を発行し直し、NOTIFY_LINE_CHANNEL_ACCESS_TOKEN に設定してください', en: 'issue a channel access token (long-lived) in the LINE Developers console (Messaging API tab) and set NOTIFY_LINE_CHANNEL_ACCESS_TOKEN' } })
    } else if (ch instanceof EmailChannel) {
      const r = await ch.check()
      checks.push(r.ok
        ? { status: 'ok', ja: `メール: SMTP サーバーにログインできました（宛先 ${c.NOTIFY_EMAIL_TO}）`, en: `email: logged in to the SMTP server (to ${c.NOTIFY_EMAIL_TO})` }
        : { status: 'fail', ja: `メール: SMTP サーバーに接続・ログインできません（${r.error}）`, en: `email: cannot connect or log in to the SMTP server (${r.error})`, fix: { ja: 'SMTP_URL のホスト・ポート・ユーザー・パスワードを確認してください', en: 'check the host, port, user and password in SMTP_URL' } })
      ch.close()
    } else if (ch instanceof SlackChannel) {
      const host = new URL(c.NOTIFY_SLACK_WEBHOOK_URL).hostname
      checks.push(host === 'hooks.slack.com'
        ? { status: 'ok', ja: 'Slack: Webhook の URL は正しい形です（送信しないと確かめられません: --notify-test）', en: 'Slack: the webhook URL looks right (only a post proves it: --notify-test)' }
        : { status: 'warn', ja: `Slack: Webhook の URL が hooks.slack.com ではありません（${host}）`, en: `Slack: the webhook URL is not on hooks.slack.com (${host})`, fix: { ja: 'Slack アプリの Incoming Webhooks で作った URL を貼ってください', en: 'paste the URL from the Slack app\'s Incoming Webhooks page' } })
    }
  }
  if (sendTest) {
    const text = '📞 通知のテストです。通話のあと、このような形でお知らせします。\n(npm run doctor -- --notify-test)'
    for (const ch of configuredChannels(c)) {
      const r = await ch.send({ callId: 'doctor', kind: 'test', subject: '【テスト】電話の通知', text, retryKey: crypto.randomUUID() }, AbortSignal.timeout(timeoutMs))
      checks.push(r.ok
        ? { status: 'ok', ja: `${ch.name}: テストメッセージを送りました`, en: `${ch.name}: test message sent` }
        : { status: 'fail', ja: `${ch.name}: テストメッセージを送れません（${r.error}）`, en: `${ch.name}: the test message failed (${r.error})`, fix: { ja: 'docs/notifications.md の設定手順を確認してください', en: 'see the setup steps in docs/notifications.md' } })
      if (ch instanceof EmailChannel) ch.close()
    }
  }
  return checks
}
