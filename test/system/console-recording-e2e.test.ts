import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { startServer } from '../fakes/server-process.js'
import { VonageMediaClient } from '../fakes/vonage-media-client.js'
import { embeddedDataDir } from '../integration/records/store-backends.js'
import { tone } from '../helpers/tones.js'
import { handshakeHeaders, vonageHeaders } from '../helpers/vonage-sign.js'
import { openBrowser, chromiumSkip, ARTIFACTS, DESKTOP, PHONE } from '../helpers/browser.js'

const KEY = 'console-rec-key-0123456789abcdef'
const skip = chromiumSkip

test('console: a recorded call has its mark in the history, a player that plays it in the detail, and a delete button behind a confirm', { skip, timeout: 180_000 }, async (t) => {
  const fake = await startFakeRealtime({ answer: tone(1000, 2000, 24000), transcript: 'お電話ありがとうございます。ご用件をどうぞ。' })
  t.after(() => fake.close())
  const server = await startServer(t, {
    OPENAI_API_KEY: 'sk-test-0123456789abcdef',
    OPENAI_BASE_URL: fake.baseUrl,
    SERVER_URL: 'https://bridge.example.test',
    DATA_DIR: await embeddedDataDir(t),
    CONSOLE_KEY: KEY,
    RECORDING: 'on'
  })
  await waitFor(() => server.output().includes('"msg":"call store open"'), 60_000, 'the call store to open')

  const uuid = `rec-${Date.now()}`
  const body = JSON.stringify({ uuid, from: '818012345678', to: '815031023332' })
  const res = await fetch(`${server.url}/incoming-call`, { method: 'POST', headers: vonageHeaders(body), body })
  const ncco = await res.json() as Array<{ action: string, text?: string, endpoint?: Array<{ uri: string }> }>
  assert.match(String(ncco[0]!.text), /録音/)
  const media = await VonageMediaClient.connect(ncco.find(a => a.action === 'connect')!.endpoint![0]!.uri.replace('wss://bridge.example.test', `ws://127.0.0.1:${server.port}`), { headers: handshakeHeaders() })
  void media.stream(tone(440, 3000, 16000))
  await waitFor(() => media.frames.length >= 100, 10_000, 'the greeting')
  await media.close()
  await waitFor(() => server.output().includes('"msg":"recording stored"'), 60_000, 'the recording to be stored')

  const { page } = await openBrowser(t, { locale: 'ja-JP', args: ['--autoplay-policy=no-user-gesture-required'] })
  const pageErrors: string[] = []
  page.on('pageerror', e => pageErrors.push(e.message))

  await page.goto(`${server.url}/console?key=${KEY}`)
  await page.goto(`${server.url}/console#history`)
  const row = page.locator(`#history-table tr[data-call-id="${uuid}"]`)
  await row.locator('.badge.rec').waitFor({ timeout: 10_000 })
  await row.click()
  const player = page.locator('#recording-player')
  await player.waitFor({ timeout: 10_000 })
  // The browser loads it (the page's CSP allows media from the server) and knows its length.
  await page.waitForFunction(() => {
    const a = (globalThis as any).document.getElementById('recording-player')
    return a !== null && a.readyState >= 1 && a.duration > 1
  }, null, { timeout: 15_000 })
  // Seeking near the end: Chromium asks for a byte range, and plays from there.
  await page.evaluate(async () => {
    const a = (globalThis as any).document.getElementById('recording-player')
    a.currentTime = Math.max(0, a.duration - 0.5)
    await new Promise(resolve => a.addEventListener('seeked', resolve, { once: true }))
  })
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, 'console-recording-desktop.png'), fullPage: true })
  await page.setViewportSize(PHONE)
  await page.screenshot({ path: join(ARTIFACTS, 'console-recording-375.png'), fullPage: true })
  await page.setViewportSize(DESKTOP)

  // Dismissed: nothing happens.
  page.once('dialog', d => { void d.dismiss() })
  await page.locator('#delete-call').click()
  const still = await fetch(`${server.url}/api/calls/${uuid}`, { headers: { authorization: `Bearer ${KEY}` } })
  assert.equal(still.status, 200)
  // Confirmed: the call is gone, and the page goes back to the history.
  page.once('dialog', d => { assert.match(d.message(), /削除/); void d.accept() })
  await page.locator('#delete-call').click()
  await page.waitForFunction(() => (globalThis as any).location.hash === '#history', null, { timeout: 10_000 })
  const gone = await fetch(`${server.url}/api/calls/${uuid}`, { headers: { authorization: `Bearer ${KEY}` } })
  assert.equal(gone.status, 404)
  const audio = await fetch(`${server.url}/api/calls/${uuid}/recording`, { headers: { authorization: `Bearer ${KEY}` } })
  assert.equal(audio.status, 404)
  assert.deepEqual(pageErrors, [])
})
