import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { startServer } from '../fakes/server-process.js'
import { assistantPcm24k, callerPcm16k } from '../helpers/call-rig.js'
import { rmsDbfs } from '../helpers/audio-quality.js'
import { openBrowser, chromiumSkip } from '../helpers/browser.js'

const CALLER_WAV = new URL('../fixtures/audio/caller-ja-16k.wav', import.meta.url).pathname
const ASSISTANT_TEXT = 'こんにちは。チャッピーです。ご予約ですね。'
const CALLER_TEXT = 'もしもし、あしたの午後三時に予約をお願いしたいのですが。'

/** Loudness per 20 ms, in dB. */
function envelope (x: Int16Array, rate: number): number[] {
  const n = rate / 50
  const out: number[] = []
  for (let i = 0; i + n <= x.length; i += n) {
    let sum = 0
    for (let j = i; j < i + n; j++) sum += x[j]! * x[j]!
    out.push(10 * Math.log10(sum / n + 1))
  }
  return out
}

/**
 * How well `got` follows `file`'s loudness, at the best offset into the file
 * (the fake microphone loops it from whenever capture began): Pearson
 * correlation of the envelopes, 1 = same shape.
 */
function envelopeMatch (got: Int16Array, gotRate: number, file: Int16Array, fileRate: number): number {
  const a = envelope(got, gotRate)
  const b = envelope(file, fileRate)
  const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length
  let best = -1
  for (let lag = 0; lag < b.length; lag++) {
    const y = a.map((_, i) => b[(i + lag) % b.length]!)
    const ma = mean(a)
    const my = mean(y)
    let sxy = 0
    let sxx = 0
    let syy = 0
    for (let i = 0; i < a.length; i++) {
      sxy += (a[i]! - ma) * (y[i]! - my)
      sxx += (a[i]! - ma) ** 2
      syy += (y[i]! - my) ** 2
    }
    best = Math.max(best, sxy / Math.sqrt(sxx * syy))
  }
  return best
}

type PageDoc = { querySelector: (selector: string) => { textContent: string | null, dataset: Record<string, string | undefined> } | null }

/** Waits until a data attribute of `selector` exceeds `min` (functions, not strings: the page's CSP forbids eval). */
async function untilAbove (page: Page, selector: string, name: string, min: number, timeout: number): Promise<void> {
  await page.waitForFunction(([sel, key, floor]) => {
    const el = (globalThis as unknown as { document: PageDoc }).document.querySelector(sel)
    return Number(el?.dataset[key]) > floor
  }, [selector, name, min] as const, { timeout })
}

async function untilText (page: Page, selector: string, text: string, timeout: number): Promise<void> {
  await page.waitForFunction(([sel, want]) => (globalThis as unknown as { document: PageDoc }).document.querySelector(sel)?.textContent === want, [selector, text] as const, { timeout })
}

/** A number the page exposes in a data attribute. */
async function dataNumber (page: Page, selector: string, name: string): Promise<number> {
  return Number(await page.locator(selector).getAttribute(`data-${name}`))
}

// .ci/run installs Debian's chromium; a developer without it gets a skip, CI never does.
const skip = chromiumSkip

test('browser softphone: mic audio reaches the model, the assistant is heard and transcribed, barge-in flushes, hang-up closes the upstream', { skip, timeout: 60_000 }, async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 4), transcript: ASSISTANT_TEXT, transcriptDeltas: true })
  t.after(() => fake.close())
  const server = await startServer(t, { OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: fake.baseUrl })

  // A fake microphone that plays the caller's recording, and no permission prompt.
  const { page } = await openBrowser(t, { viewport: null, args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${CALLER_WAV}`] })
  const consoleLines: string[] = []
  page.on('console', m => consoleLines.push(`${m.type()}: ${m.text()}`))
  page.on('pageerror', e => consoleLines.push(`pageerror: ${e.message}`))
  t.after(() => { if (consoleLines.length > 0) t.diagnostic(consoleLines.join('\n')) })

  await page.goto(`${server.url}/softphone`)
  const upstream = fake.nextConnection()
  await page.click('#call')
  const c = await upstream
  await page.locator('body[data-state="in-call"]').waitFor({ timeout: 10_000 })

  // The caller: the fake microphone's speech arrives upstream as 24 kHz PCM with real energy.
  await waitFor(() => c.audioSamples >= 24000 * 2, 10_000, '2 s of caller audio upstream')
  const caller = new Int16Array(c.audioSamples)
  let off = 0
  for (const chunk of c.audio) { caller.set(chunk, off); off += chunk.length }
  const callerDb = rmsDbfs(caller)
  t.diagnostic(`caller audio received upstream: ${(caller.length / 24000).toFixed(2)} s, ${callerDb.toFixed(1)} dBFS RMS`)
  assert.ok(callerDb > -45, `caller audio has energy (${callerDb.toFixed(1)} dBFS)`)
  const match = envelopeMatch(caller, 24000, callerPcm16k, 16000)
  t.diagnostic(`caller audio vs the fake microphone's file: loudness envelope correlation ${match.toFixed(3)}`)
  assert.ok(match > 0.8, `it is the file's speech, not Chromium's built-in beep (correlation ${match.toFixed(3)})`)

  // The assistant: its audio plays (the meter moves) and its words show.
  await untilAbove(page, '#meter-assistant', 'peak', 0.01, 10_000)
  const assistantPeak = await dataNumber(page, '#meter-assistant', 'peak')
  const callerPeak = await dataNumber(page, '#meter-caller', 'peak')
  t.diagnostic(`page meters: assistant peak RMS ${assistantPeak}, caller peak RMS ${callerPeak}`)
  assert.ok(callerPeak > 0.01, `the caller meter moved (${callerPeak})`)
  await untilText(page, '#transcript p.assistant:not(.partial)', ASSISTANT_TEXT, 5000)

  // Barge-in while the assistant is still talking: playback stops at once.
  const [playing, bufferedMs] = await page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: PageDoc }).document
    const level = Number(doc.querySelector('#meter-assistant')?.dataset.level)
    const queued = Number(doc.querySelector('#stats')?.dataset.bufferedMs)
    return level > 0.01 && queued > 0 ? [level, queued] : null
  }, null, { timeout: 5000 }).then(async h => await h.jsonValue() as [number, number])
  fake.send(c, { type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(c.audioSamples / 24), item_id: 'item_caller_e2e' })
  const bargeAt = Date.now()
  await page.locator('#stats[data-clears="1"]').waitFor({ timeout: 2000 })
  await page.locator('#meter-assistant[data-level="0.0000"]').waitFor({ timeout: 1000 })
  await page.locator('#stats[data-buffered-ms="0"]').waitFor({ timeout: 1000 })
  const silentAfterMs = Date.now() - bargeAt
  const flushMs = await dataNumber(page, '#stats', 'flush-ms')
  t.diagnostic(`barge-in: assistant level ${playing} with ${bufferedMs} ms queued in the page → player flushed ${flushMs} ms after the clear arrived; silent as seen by the test within ${silentAfterMs} ms of speech_started`)
  assert.ok(flushMs <= 50, `the player flushed within 50 ms (${flushMs} ms)`)
  // Nothing of the cut answer follows: the bridge sent its last frame before the clear (checked below,
  // once a later message on the same socket has arrived).
  const receivedAtClear = await dataNumber(page, '#stats', 'received')
  await waitFor(() => c.events.some(e => e.type === 'conversation.item.truncate'), 2000, 'truncate upstream')

  // The caller's words, transcribed by the model, show on their own line.
  fake.send(c, { type: 'conversation.item.input_audio_transcription.delta', item_id: 'item_caller_e2e', content_index: 0, delta: 'もしもし' })
  fake.send(c, { type: 'conversation.item.input_audio_transcription.completed', item_id: 'item_caller_e2e', content_index: 0, transcript: CALLER_TEXT, usage: { type: 'duration', seconds: 3 } })
  await untilText(page, '#transcript p.caller:not(.partial)', CALLER_TEXT, 5000)
  // The transcript travelled the same socket after anything the bridge sent before it: the explicit
  // signal that no frame of the cut answer came after the clear.
  assert.equal(await dataNumber(page, '#stats', 'received'), receivedAtClear, 'no audio after the clear')
  assert.equal(await dataNumber(page, '#meter-assistant', 'level'), 0)

  mkdirSync('test-artifacts', { recursive: true })
  await page.screenshot({ path: 'test-artifacts/softphone.png', fullPage: true })

  // Hang-up ends the call: the model's socket is closed.
  assert.equal(c.closedAt, null)
  await page.click('#hangup')
  await waitFor(() => c.closedAt !== null, 5000, 'upstream closed')
  await page.locator('body[data-state="ended"]').waitFor({ timeout: 2000 })
  await waitFor(() => server.output().includes('"msg":"call ended"'), 5000, 'call ended log')
  assert.match(server.output(), /"reason":"caller-hangup"/)
  const sent = await dataNumber(page, '#stats', 'sent')
  t.diagnostic(`frames sent by the page: ${sent}; received: ${await dataNumber(page, '#stats', 'received')}; underruns: ${await dataNumber(page, '#stats', 'underruns')}`)
  assert.doesNotMatch(server.output(), /frame size does not match/, 'the page sends Vonage-sized 20 ms frames')
  assert.deepEqual(c.invalid, [], 'every client event the bridge sent is schema-valid')
  assert.deepEqual(fake.selfInvalid, [])
  assert.deepEqual(consoleLines.filter(l => /^(error|pageerror)/.test(l)), [], 'no errors in the page (its CSP included)')
})
