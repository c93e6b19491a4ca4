import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { startFakeRealtime, waitFor, type FakeRealtime } from '../fakes/realtime-server.js'
import { startServer, type ServerProcess } from '../fakes/server-process.js'
import { VonageMediaClient } from '../fakes/vonage-media-client.js'
import { handshakeHeaders, vonageHeaders } from '../helpers/vonage-sign.js'
import { embeddedDataDir } from '../integration/records/store-backends.js'
import { openBrowser, chromiumSkip, shoot } from '../helpers/browser.js'

const KEY = 'console-e2e-key-0123456789abcdef'
const GREETING = 'お電話ありがとうございます。チャッピーです。ご用件をどうぞ。'
const CALLER_TEXT = '明日の午後三時に二名で予約をお願いしたいのですが。'
const ANSWER_TEXT = 'かしこまりました。明日の十五時、二名様でお取りします。'

// .ci/run installs Debian's chromium; a developer without it gets a skip, CI never does.
const skip = chromiumSkip

/** An inbound call as Vonage places it: the answer webhook, then the media socket the NCCO names. */
async function placeCall (t: TestContext, server: ServerProcess, fake: FakeRealtime, from: string): Promise<{ uuid: string, media: VonageMediaClient, conn: Awaited<ReturnType<FakeRealtime['nextConnection']>> }> {
  const uuid = `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
  const upstream = fake.nextConnection()
  const body = JSON.stringify({ uuid, conversation_uuid: 'CON-e2e', from, to: '815031023332' })
  const res = await fetch(`${server.url}/incoming-call`, { method: 'POST', headers: vonageHeaders(body), body })
  assert.equal(res.status, 200)
  const ncco = await res.json() as Array<{ action: string, endpoint?: Array<{ uri: string }> }>
  const uri = ncco.find(a => a.action === 'connect')!.endpoint![0]!.uri
  const media = await VonageMediaClient.connect(uri.replace('wss://bridge.example.test', `ws://127.0.0.1:${server.port}`), { headers: handshakeHeaders() })
  t.after(() => media.close())
  return { uuid, media, conn: await upstream }
}

test('console: a call shows live with its transcript while it runs, is hung up from the page, then is in the history, its detail and the CSV', { skip, timeout: 120_000 }, async (t) => {
  const fake = await startFakeRealtime({ answer: new Int16Array(24000 * 1).fill(800), transcript: GREETING })
  t.after(() => fake.close())
  const dataDir = await embeddedDataDir(t)
  const server = await startServer(t, {
    OPENAI_API_KEY: 'sk-test-0123456789abcdef',
    OPENAI_BASE_URL: fake.baseUrl,
    SERVER_URL: 'https://bridge.example.test',
    DATA_DIR: dataDir,
    CONSOLE_KEY: KEY
  })
  await waitFor(() => server.output().includes('"msg":"call store open"'), 60_000, 'the call store to open')

  const { page } = await openBrowser(t, { locale: 'ja-JP' })
  const pageErrors: string[] = []
  page.on('console', m => { if (m.type() === 'error') pageErrors.push(`${m.text()} ${JSON.stringify(m.location())}`) })
  page.on('pageerror', e => pageErrors.push(e.message))

  // The key opens the console once; the cookie carries it on and the address bar loses it.
  await page.goto(`${server.url}/console?key=${KEY}`)
  assert.equal(new URL(page.url()).search, '')
  await page.locator('#no-live').waitFor({ timeout: 10_000 })

  // A first call, ended by the caller, so the history has more than one row.
  const first = await placeCall(t, server, fake, '818011112222')
  await page.locator(`.live-call[data-call-id="${first.uuid}"]`).waitFor({ timeout: 10_000 })
  fake.transcribeInput(first.conn, 'もしもし、営業時間を教えてください。')
  await page.locator(`.live-call[data-call-id="${first.uuid}"] li.caller`).waitFor({ timeout: 10_000 })
  await first.media.close()
  await page.locator(`.live-call[data-call-id="${first.uuid}"]`).waitFor({ state: 'detached', timeout: 10_000 })

  // The call under test: live card, masked number, ticking duration, transcript as it is spoken.
  const call = await placeCall(t, server, fake, '818012345678')
  const card = page.locator(`.live-call[data-call-id="${call.uuid}"]`)
  await card.waitFor({ timeout: 10_000 })
  assert.equal(await card.locator('.number').textContent(), '********5678')
  assert.equal(await card.locator('.badge.inbound').textContent(), '着信')
  await card.locator('li.assistant', { hasText: GREETING }).waitFor({ timeout: 10_000 })
  fake.transcribeInput(call.conn, CALLER_TEXT)
  await card.locator('li.caller', { hasText: CALLER_TEXT }).waitFor({ timeout: 10_000 })
  fake.setOptions({ transcript: ANSWER_TEXT })
  await fake.respond(call.conn)
  await card.locator('li.assistant', { hasText: ANSWER_TEXT }).waitFor({ timeout: 10_000 })
  // The cost so far, updated as responses end.
  await page.waitForFunction((sel) => /^\$0\.0*[1-9]/.test((globalThis as any).document.querySelector(sel)?.textContent ?? ''), `.live-call[data-call-id="${call.uuid}"] .cost`, { timeout: 5000 })
  const shown = await card.locator('.duration').textContent()
  await page.waitForFunction(([sel, before]) => (globalThis as any).document.querySelector(sel)?.textContent !== before, [`.live-call[data-call-id="${call.uuid}"] .duration`, shown] as const, { timeout: 5000 })
  await shoot(page, 'live')

  // Hang-up from the console ends the call: the caller's socket closes, the card goes.
  await card.locator('button.hangup').click()
  await waitFor(() => call.media.closedAt !== null, 10_000, 'the call to be hung up')
  await card.waitFor({ state: 'detached', timeout: 10_000 })

  // History: both calls, newest first; the search finds the call by its words.
  await page.click('a[data-view="history"]')
  const row = page.locator(`#history-table tr[data-call-id="${call.uuid}"]`)
  await row.waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('#history-table tbody tr').count(), 2)
  await shoot(page, 'history')
  await page.fill('input[name="q"]', '二名')
  await page.click('#filters button[type="submit"]')
  await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#history-table tbody tr').length === 1, null, { timeout: 10_000 })
  assert.equal(await page.locator('#history-table tbody tr').getAttribute('data-call-id'), call.uuid)

  // Detail: the whole transcript with timings, the figures.
  await page.locator(`#history-table tr[data-call-id="${call.uuid}"]`).click()
  const lines = page.locator('#detail-transcript li')
  await lines.first().waitFor({ timeout: 10_000 })
  assert.deepEqual(await lines.evaluateAll(els => els.map(e => e.className)), ['assistant', 'caller', 'assistant'])
  assert.match(await lines.nth(1).textContent() ?? '', new RegExp(CALLER_TEXT))
  assert.match(await lines.nth(1).locator('.at').textContent() ?? '', /^発信者 · \d+:\d\d\.\d$/)
  assert.match(await page.locator('.detail').textContent() ?? '', /\$0\.\d{4}/)
  await shoot(page, 'detail')

  // The CSV of the filtered history, with the browser's cookie.
  const csv = await page.request.get(`${server.url}/api/calls.csv?q=${encodeURIComponent('二名')}`)
  assert.equal(csv.status(), 200)
  const rows = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\r\n')
  assert.equal(rows.length, 2)
  assert.match(rows[1]!, new RegExp(`^${call.uuid},.*,inbound,\\*{8}5678,.*,completed,ended,`))

  // Overview, then the English toggle.
  await page.click('a[data-view="overview"]')
  await page.locator('#median-ttfa').waitFor({ timeout: 10_000 })
  assert.match(await page.locator('#overview').textContent() ?? '', /合計 2 件/)
  await shoot(page, 'overview')
  await page.click('#lang')
  await page.locator('#overview', { hasText: 'Total 2 calls' }).waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('html').getAttribute('lang'), 'en')
  await shoot(page, 'overview-en')

  assert.deepEqual(pageErrors, [], 'no errors in the page (its CSP included)')
})
