import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InputClock, AHEAD_MS, GAP_MS } from '../../../lib/live/input-clock.js'
import { Delegations } from '../../../lib/live/delegation.js'
import { TranscriptLines } from '../../../lib/live/transcript-lines.js'
import { liveEndpoint } from '../../../lib/live/endpoint.js'
import { checkLiveSettings } from '../../../lib/live/settings.js'
import { pricesFor } from '../../../lib/records/prices.js'
import { estimateCost } from '../../../lib/records/record.js'
import type { RawConfig } from '../../../lib/config/schema.js'

test('the input clock fills a gap in the caller\'s frames with silence as it happens, and never lets audio run ahead of real time', () => {
  const clock = new InputClock(16000)
  assert.equal(clock.admit(320, 0), 320, 'the first frame starts the clock')
  assert.equal(clock.gap(20 + GAP_MS - 1), 0, 'jitter below GAP_MS is not a gap')
  const filled = clock.gap(500)
  assert.ok(filled > 0 && filled <= 16 * 500, `a 500 ms stall is filled (${filled} samples)`)
  assert.equal(clock.gap(500), 0, 'filled once, not again')
  // The late frames then arrive in a burst: only AHEAD_MS of them may go.
  let taken = 0
  for (let i = 0; i < 50; i++) taken += clock.admit(320, 501)
  assert.ok(taken <= 16 * (AHEAD_MS + 60), `a burst is cut to about AHEAD_MS (${taken / 16} ms)`)
})

test('delegation: the continuation waits for the response to complete and every call to be answered', () => {
  const d = new Delegations()
  d.created('deleg_1', 'resp_1')
  d.called('deleg_1', 'call_a')
  d.called('deleg_1', 'call_b')
  assert.equal(d.continueNow(), false, 'calls open')
  d.answered('call_a')
  assert.equal(d.continueNow(), false, 'one still open')
  d.answered('call_b')
  assert.equal(d.continueNow(), false, 'the response is not complete yet')
  d.completed('deleg_1')
  assert.equal(d.pendingReady(), true, 'asked for earlier: goes now')
  assert.equal(d.continueNow(), false, 'only once')
  d.completed('deleg_2')
  assert.equal(d.continueNow(), false, 'a response without calls has nothing to continue')
})

test('transcript lines: fragments join into a line; a pause on the timeline starts the next one', () => {
  const got: string[] = []
  const lines = new TranscriptLines('ai', { started: (id) => got.push(`start ${id}`), delta: () => {}, done: (id, text) => got.push(`${id} ${text}`) }, 800)
  lines.push('お電話', 0, 300)
  lines.push('ありがとうございます。', 300, 900)
  lines.push('ご用件を', 2000, 2300)
  lines.finish()
  assert.deepEqual(got, ['start ai_1', 'ai_1 お電話ありがとうございます。', 'start ai_2', 'ai_2 ご用件を'])
})

test('the GPT-Live endpoint: /live/sessions under OPENAI_BASE_URL, no query string, a Bearer key', () => {
  const e = liveEndpoint({ OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'https://api.openai.com/v1/', AZURE_OPENAI_ENDPOINT: '' })
  assert.equal(e.url, 'wss://api.openai.com/v1/live/sessions')
  assert.deepEqual(e.headers, { Authorization: 'Bearer sk-x' })
  assert.equal(liveEndpoint({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1?x=1', AZURE_OPENAI_ENDPOINT: '' }).url, 'ws://127.0.0.1:9/v1/live/sessions')
})

test('engine settings: a Realtime model in OPENAI_LIVE_MODEL, or the Azure preview version with live, are named problems', () => {
  const raw = { OPENAI_ENGINE: 'live', OPENAI_LIVE_MODEL: 'gpt-realtime-2.1', OPENAI_API_VERSION: '2025-04-01-preview' } as unknown as RawConfig
  const problems = checkLiveSettings(raw)
  assert.equal(problems.length, 2)
  assert.match(problems[0]!, /^OPENAI_ENGINE=live cannot use OPENAI_API_VERSION/)
  assert.match(problems[1]!, /^OPENAI_LIVE_MODEL is a Realtime model/)
  assert.deepEqual(checkLiveSettings({ ...raw, OPENAI_ENGINE: 'realtime' } as RawConfig), [])
})

test('GPT-Live prices: $0.05 per minute of session plus the delegate\'s tokens; a 3-minute call', () => {
  const p = pricesFor({ OPENAI_MODEL: 'gpt-realtime-2.1', OPENAI_TRANSCRIPTION_MODEL: 'gpt-transcribe', OPENAI_ENGINE: 'live', OPENAI_LIVE_MODEL: 'gpt-live-1', OPENAI_LIVE_DELEGATE_MODEL: 'gpt-5.4-mini' })
  assert.equal(p.known, true)
  assert.equal(p.transcription, null, 'the session transcribes itself')
  assert.equal(p.tokens.sessionPerMinute, 0.05)
  const usage = { responses: 1, sessionSeconds: 180, inputTokens: 0, outputTokens: 0, inputAudioTokens: 0, inputTextTokens: 0, inputCachedTokens: 0, outputAudioTokens: 0, outputTextTokens: 0, inputCachedAudioTokens: 0, inputCachedTextTokens: 0 }
  assert.equal(estimateCost(usage, p.tokens).total, 0.15)
  const withTools = estimateCost({ ...usage, inputTokens: 4000, inputTextTokens: 4000, outputTokens: 200, outputTextTokens: 200 }, p.tokens)
  assert.equal(withTools.total, 0.15 + 4000 * 0.75 / 1e6 + 200 * 4.5 / 1e6)
  assert.equal(pricesFor({ OPENAI_MODEL: 'x', OPENAI_TRANSCRIPTION_MODEL: '', OPENAI_ENGINE: 'live', OPENAI_LIVE_MODEL: 'gpt-live-1', PRICE_LIVE_PER_MINUTE: 0.04 }).tokens.sessionPerMinute, 0.04)
})
