import { test } from 'node:test'
import assert from 'node:assert/strict'
import { conversationRig } from '../helpers/call-rig.js'
import { waitFor } from '../fakes/realtime-server.js'
import { openAIRest } from '../fakes/openai-rest.js'
import { startFakeLine } from '../fakes/line-api.js'
import { startFakeSlack } from '../fakes/slack-webhook.js'
import { embeddedDataDir } from '../integration/records/store-backends.js'
import { openBrowser, chromiumSkip, shoot } from '../helpers/browser.js'

const GREETING = 'お電話ありがとうございます。チャッピーです。ご用件をどうぞ。'
const CALLER = '明日の夜7時に4人で予約したいです。田中と申します。駐車場はありますか。'
const skip = chromiumSkip

test('console: the summary comes first in the call detail and in the history, with each channel\'s notification status, the callback filter and the overview\'s count', { skip, timeout: 120_000 }, async (t) => {
  const rest = openAIRest()
  rest.summary = () => ({
    caller_name: '田中',
    callback_number: null,
    request: '明日19時に4名で予約したい。駐車場の有無を知りたい。',
    urgency: 'normal',
    callback: { wanted: true, when: '本日17時以降' },
    reservation: { date: '2026-12-04', time: '19:00', party_size: 4, name: '田中' },
    outcome: 'resolved',
    open_items: ['駐車場の有無を折り返しで伝える']
  })
  const line = await startFakeLine(t)
  const slack = await startFakeSlack(t)
  slack.down = 404
  const rig = await conversationRig(t, {
    DATA_DIR: await embeddedDataDir(t),
    SUMMARY_MODEL: 'gpt-5.6-luna',
    NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: line.token,
    NOTIFY_LINE_TO: 'U' + 'a'.repeat(32),
    LINE_API_BASE_URL: line.url,
    NOTIFY_SLACK_WEBHOOK_URL: slack.url
  }, { transcript: GREETING, rest })
  rig.fake.transcribeInput(rig.conn, CALLER)
  await rig.media.close()
  await waitFor(() => line.accepted.length === 1 && slack.requests === 1, 30_000, 'LINE sent, Slack refused (404: the webhook was removed)')

  const { page } = await openBrowser(t, { locale: 'ja-JP', timezoneId: 'Asia/Tokyo' })
  const pageErrors: string[] = []
  page.on('pageerror', e => pageErrors.push(e.message))
  page.on('console', m => { if (m.type() === 'error') pageErrors.push(m.text()) })
  const base = `http://127.0.0.1:${rig.port}`

  // History: the request in its own column, the callback badge; the filter keeps only calls to ring back.
  await page.goto(`${base}/console#history`)
  const row = page.locator(`#history-table tr[data-call-id="${rig.uuid}"]`)
  await row.waitFor({ timeout: 15_000 })
  assert.match(await row.locator('td.summary-cell').textContent() ?? '', /折り返し希望明日19時に4名で予約したい/)
  await page.check('input[name="callback"]')
  await page.click('#filters button[type="submit"]')
  await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#history-table tbody tr').length === 1, null, { timeout: 10_000 })
  await shoot(page, 'summary-history')

  // Detail: the summary before anything else, then each channel's state (Slack failed, with why).
  await row.click()
  const summary = page.locator('#call-summary')
  await summary.waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('.detail > section').first().getAttribute('id'), 'call-summary', 'the summary comes first')
  assert.match(await summary.textContent() ?? '', /明日19時に4名で予約したい。/)
  assert.match(await summary.textContent() ?? '', /折り返し希望 本日17時以降/)
  assert.match(await summary.textContent() ?? '', /2026-12-04 · 19:00 · 4名 · 田中/)
  await page.locator('#call-notifications li[data-channel="slack"][data-status="failed"]').waitFor({ timeout: 10_000 })
  assert.match(await page.locator('#call-notifications li[data-channel="slack"]').textContent() ?? '', /失敗.*HTTP 404: no_service/)
  assert.match(await page.locator('#call-notifications li[data-channel="line"]').textContent() ?? '', /送信済み/)
  await shoot(page, 'summary-detail')

  // Overview: the calls to ring back, and the channel that failed.
  await page.click('a[data-view="overview"]')
  await page.locator('#callbacks-wanted').waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('#callbacks-wanted').textContent(), '1')
  assert.match(await page.locator('#failed-notifications').textContent() ?? '', /Slack.*失敗/)
  await shoot(page, 'summary-overview')
  assert.deepEqual(pageErrors, [], 'no errors in the page (its CSP included)')
})
