import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pricesFor, REALTIME_PRICES, TRANSCRIPTION_PRICES_PER_MINUTE } from '../../../lib/records/prices.js'
import { configSchema } from '../../../lib/config/schema.js'
import { buildCallRecord, CallRecorder } from '../../../lib/records/record.js'
import type { CallStats } from '../../../lib/call/session.js'

const defaults = { OPENAI_MODEL: configSchema.properties.OPENAI_MODEL.default, OPENAI_TRANSCRIPTION_MODEL: configSchema.properties.OPENAI_TRANSCRIPTION_MODEL.default }

test('the default models have prices in the table', () => {
  assert.ok(REALTIME_PRICES[defaults.OPENAI_MODEL] !== undefined)
  assert.ok(TRANSCRIPTION_PRICES_PER_MINUTE[defaults.OPENAI_TRANSCRIPTION_MODEL] !== undefined)
})

test('prices follow the model; a PRICE_* setting above 0 overrides its one price', () => {
  const p21 = pricesFor(defaults)
  assert.deepEqual(p21.tokens, { audioInput: 32, audioOutput: 64, textInput: 4, textOutput: 24, cachedInput: 0.4 })
  assert.deepEqual(p21.transcription, { model: 'gpt-transcribe', perMinute: 0.0045 })
  assert.equal(pricesFor({ ...defaults, OPENAI_TRANSCRIPTION_MODEL: 'gpt-live-transcribe' }).transcription?.perMinute, 0.017)
  assert.equal(p21.known, true)
  const mini = pricesFor({ OPENAI_MODEL: 'gpt-realtime-2.1-mini', OPENAI_TRANSCRIPTION_MODEL: '' })
  assert.equal(mini.tokens.audioOutput, 20)
  assert.equal(mini.transcription, null)
  const over = pricesFor({ ...defaults, PRICE_AUDIO_OUTPUT_PER_1M: 100, PRICE_TEXT_INPUT_PER_1M: 0, PRICE_TRANSCRIPTION_PER_MINUTE: 0.02 })
  assert.equal(over.tokens.audioOutput, 100)
  assert.equal(over.tokens.textInput, 4, '0 keeps the list price')
  assert.equal(over.transcription?.perMinute, 0.02)
  const azure = pricesFor({ OPENAI_MODEL: 'my-azure-deployment', OPENAI_TRANSCRIPTION_MODEL: 'gpt-4o-transcribe' })
  assert.equal(azure.known, false)
  assert.deepEqual(azure.tokens, REALTIME_PRICES['gpt-realtime-2.1'])
  assert.equal(azure.transcription?.perMinute, 0.006)
})

test('the call record prices the transcribed caller audio per minute', () => {
  const usage = { responses: 0, inputTokens: 0, outputTokens: 0, inputAudioTokens: 0, inputTextTokens: 0, inputCachedTokens: 0, inputCachedAudioTokens: 0, inputCachedTextTokens: 0, outputAudioTokens: 0, outputTextTokens: 0 }
  const stats: CallStats = { callId: 'c1', direction: 'inbound', from: '', to: '', reason: 'caller-hangup', durationMs: 130_000, callerAudioMs: 120_000, assistantAudioMs: 0, connectToFirstAudioMs: null, bargeIns: 0, backchannels: 0, noises: 0, interruptions: 0, droppedFrames: 0, lateDeltasDropped: 0, upstreamErrors: 0, overRateMs: 0, upstreamFailure: null, usage }
  const { tokens, transcription } = pricesFor(defaults)
  const record = buildCallRecord({ stats, call: { direction: 'inbound' }, recorder: new CallRecorder(), tools: [], prices: tokens, transcription })
  assert.deepEqual(record.transcription, { model: 'gpt-transcribe', minutes: 2, usdPerMinute: 0.0045, cost: 0.009 })
  const none = buildCallRecord({ stats, call: { direction: 'inbound' }, recorder: new CallRecorder(), tools: [], prices: tokens, transcription: null })
  assert.equal(none.transcription, undefined)
})
