import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Page } from 'playwright-core'
import { conversationRig } from '../helpers/call-rig.js'
import { waitFor } from '../fakes/realtime-server.js'
import { embeddedDataDir } from '../integration/records/store-backends.js'
import { openBrowser, chromiumSkip, ARTIFACTS } from '../helpers/browser.js'

const BRIEFING = '山田様から、明日の予約時間の変更についてのご相談です。'
const skip = chromiumSkip

async function shoot (page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true })
}

test('console: a warm transfer shows live as it rings and is accepted, the detail shows the briefing; an outbound transcript says 「相手」', { skip, timeout: 120_000 }, async (t) => {
  const dataDir = await embeddedDataDir(t)
  // No check-in and goodbye on silence: a slow browser start must not find the call already hung up.
  const rig = await conversationRig(t, { VONAGE_TRANSFER_NUMBER: '+81312345678', DATA_DIR: dataDir, IDLE_PROMPT_SECONDS: 0 })
  // Vonage streams even silence; without it the call would end after CALLER_SILENCE_MS while the browser starts.
  void rig.media.stream(new Int16Array(rig.media.rate), { loop: true })
  t.after(() => rig.media.stop())
  assert.ok(await rig.app.callStore.opened !== null)
  const { page } = await openBrowser(t, { locale: 'ja-JP' })
  const pageErrors: string[] = []
  page.on('pageerror', e => pageErrors.push(e.message))
  page.on('console', m => { if (m.type() === 'error') pageErrors.push(m.text()) })
  // This machine needs no key (CONSOLE_KEY unset).
  await page.goto(`http://127.0.0.1:${rig.port}/console`)
  const card = page.locator(`.live-call[data-call-id="${rig.uuid}"]`)
  await card.waitFor({ timeout: 30_000 })

  // An outbound call in progress: the person we called is 「相手」, not 「発信者」.
  const outUuid = `out-${Date.now()}`
  const next = rig.fake.nextConnection()
  const ncco = await rig.answer({ uuid: outUuid, from: '815031023332', to: '819011112222' }, '/answer')
  const outConn = await next
  const outMedia = await rig.dial(ncco)
  void outMedia.stream(new Int16Array(outMedia.rate), { loop: true })
  t.after(() => outMedia.stop())
  rig.fake.transcribeInput(outConn, 'はい、山田です。')
  const outLine = page.locator(`.live-call[data-call-id="${outUuid}"] li.caller`)
  await outLine.waitFor({ timeout: 30_000 })
  assert.match(await outLine.locator('.at').textContent() ?? '', /^相手 · /)
  rig.fake.transcribeInput(rig.conn, '担当の方に代わってもらえますか。')
  const inLine = card.locator('li.caller')
  await inLine.waitFor({ timeout: 30_000 })
  assert.match(await inLine.locator('.at').textContent() ?? '', /^発信者 · /)

  // The ring, live: ringing → picked up.
  await rig.fake.functionCall(rig.conn, { name: 'transfer_call', arguments: JSON.stringify({ briefing: BRIEFING }) })
  await waitFor(() => rig.vonage.created.length === 1, 20_000, 'the staff rung')
  const { uuid: staff, body } = rig.vonage.created[0]!
  const path = (u: string): string => u.replace(/^https:\/\/bridge\.example\.test/, '')
  const eventPath = path((body.event_url as string[])[0]!)
  const inputPath = path(((body.ncco as Array<Record<string, any>>)[1]!.eventUrl as string[])[0]!)
  await card.locator('.transfer-line[data-transfer-state="ringing"]', { hasText: '呼び出し中' }).waitFor({ timeout: 30_000 })
  await rig.webhook(eventPath, { uuid: staff, status: 'answered' })
  await card.locator('.transfer-line[data-transfer-state="answered"]', { hasText: '担当者が応答' }).waitFor({ timeout: 30_000 })
  await shoot(page, 'transfer-live')

  // Accepted: the call leaves the AI (the card goes), and the detail tells the story.
  await rig.webhook(inputPath, { uuid: staff, dtmf: { digits: '1', timed_out: false } })
  await card.waitFor({ state: 'detached', timeout: 30_000 })
  const detail = async (): Promise<any> => (await rig.app.inject({ url: `/api/calls/${rig.uuid}` })).json()
  for (let c = await detail(), deadline = Date.now() + 10_000; c.transfers?.length !== 1 && Date.now() < deadline;) c = await detail()
  await page.goto(`http://127.0.0.1:${rig.port}/console#call/${encodeURIComponent(rig.uuid)}`)
  const section = page.locator('section.card.transfer[data-transfer-state="accepted"]')
  await section.waitFor({ timeout: 30_000 })
  assert.match(await section.textContent() ?? '', /担当者が対応.*1 を押して受けました/)
  assert.match(await section.locator('blockquote.briefing').textContent() ?? '', new RegExp(BRIEFING))
  assert.match(await page.locator('.detail').textContent() ?? '', /担当者への転送/)
  await shoot(page, 'transfer-detail')
  assert.deepEqual(pageErrors, [])
})
