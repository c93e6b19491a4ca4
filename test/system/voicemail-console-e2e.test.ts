import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { voicemailRig, CALLER, KEY, MESSAGE } from '../integration/voicemail/rig.js'
import { toneMp3 } from '../helpers/mp3.js'
import { openBrowser, chromiumSkip, ARTIFACTS } from '../helpers/browser.js'

const skip = chromiumSkip

test('console: a voicemail shows first in the call detail with a player that plays it; the overview shows today\'s spend against the budget', { skip, timeout: 180_000 }, async (t) => {
  const rig = await voicemailRig(t, { DAILY_BUDGET_USD: 2 }, 503)
  // An earlier call of today, stored before this one is answered (the budget reads the store at most every 5 s).
  const db = rig.app.callStore.db()!
  await db.query("INSERT INTO calls (id, started_at, direction, from_masked, to_masked, outcome, cost_usd) VALUES ('earlier', $1, 'inbound', '***5678', '***3332', 'completed', 0.84)", [new Date().toISOString()])
  const uuid = 'call-console-vm-1'
  const ncco = await rig.answer({ uuid, from: CALLER })
  const record = ncco.find(a => a.action === 'record')!
  const u = new URL(String(record.eventUrl[0]))
  const stored = once(rig.app.voicemail, 'stored')
  await rig.webhook(u.pathname + u.search, { recording_url: rig.vonage.addRecording(toneMp3(3)), recording_uuid: 'rec-1', start_time: '2026-12-03T09:00:00Z', end_time: '2026-12-03T09:00:14Z' })
  await stored

  const { page } = await openBrowser(t, { locale: 'ja-JP', args: ['--autoplay-policy=no-user-gesture-required'] })
  const errors: string[] = []
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()) })
  page.on('pageerror', e => errors.push(e.message))
  const base = `http://127.0.0.1:${rig.port}`
  await page.goto(`${base}/console?key=${KEY}`)
  await page.goto(`${base}/console#call/${uuid}`)
  await page.waitForSelector('#detail-voicemail')
  assert.equal(await page.textContent('#detail-voicemail .vm-text'), MESSAGE)
  // The player really loads the audio through the console's CSP and cookie: its duration is the MP3's.
  // (Typed by hand: the tests compile without the DOM library.)
  interface Player { duration: number, error: { code: number } | null, onloadedmetadata: unknown, onerror: unknown }
  const duration = await page.$eval('#detail-voicemail audio', async (el) => {
    const a = el as unknown as Player
    if (Number.isNaN(a.duration)) await new Promise((resolve, reject) => { a.onloadedmetadata = resolve; a.onerror = () => reject(new Error(`media error ${a.error?.code}`)) })
    return a.duration
  })
  assert.ok(duration > 2.5 && duration < 3.6, `the player reads the 3 s message (${duration} s)`)
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, 'console-voicemail-desktop.png'), fullPage: true })

  await page.goto(`${base}/console#overview`)
  await page.waitForSelector('#budget-spend')
  assert.equal(await page.textContent('#budget-spend'), '$0.84 / $2.00')
  assert.equal(await page.textContent('#voicemails-today'), '本日の留守番電話: 1')
  await page.screenshot({ path: join(ARTIFACTS, 'console-budget-desktop.png'), fullPage: true })
  assert.deepEqual(errors, [], 'no errors in the page (CSP included)')
})
