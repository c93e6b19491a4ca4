import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { waitFor } from '../../fakes/realtime-server.js'
import { callRig } from '../../helpers/call-rig.js'
import { sineInt16, sinadDb } from '../../helpers/audio-quality.js'

const PERSONA = './test/fixtures/persona.txt'

test('OPENAI_ENGINE=live: session.start first (gpt-live-1, audio/pcm 16000, the persona), at /v1/live/sessions with no query string and a Bearer key', async (t) => {
  const rig = await callRig(t, { SYSTEM_MESSAGE_PATH: PERSONA }, {}, { engine: 'live', live: { greeting: sineInt16(1000, 16000, 16000 * 0.4) } })
  const next = rig.live!.nextConnection()
  const ncco = await rig.answer()
  const conn = await next
  await waitFor(() => conn.events.length > 0, 3000, 'the first client event')
  assert.equal(conn.url, '/v1/live/sessions')
  assert.equal(conn.headers.authorization, 'Bearer sk-test-0123456789abcdef')
  assert.equal(conn.headers['openai-beta'], undefined)
  const first = conn.events[0] as { type: string, session: { model: string, instructions: string, audio: { format: unknown, output: { voice: string } }, delegation: { type: string, responses: { model: string, tools: Array<{ name: string }> } } } }
  assert.equal(first.type, 'session.start')
  assert.equal(first.session.model, 'gpt-live-1')
  assert.deepEqual(first.session.audio.format, { type: 'audio/pcm', rate: 16000 })
  assert.equal(first.session.audio.output.voice, 'marin')
  assert.ok(first.session.instructions.startsWith(readFileSync(PERSONA, 'utf8').trim().slice(0, 40)), 'the persona leads the instructions')
  assert.match(first.session.instructions, /着信/, 'the call facts follow it')
  assert.equal(first.session.delegation.type, 'responses')
  assert.equal(first.session.delegation.responses.model, 'gpt-5.4-mini')
  assert.ok(first.session.delegation.responses.tools.some(x => x.name === 'end_call'))
  // Prepared during the greeting: nothing but session.start until media streams, and no audio before session.started.
  const client = await rig.dial(ncco)
  void client.stream(sineInt16(1000, 16000, 16000))
  await waitFor(() => conn.audioSamples > 1600, 3000, 'caller audio')
  assert.deepEqual(conn.violations, [])
  assert.ok(conn.events.slice(1).every(e => e.type === 'session.input_audio.append'))
  await client.close()
})

test('GPT-Live: a 1 kHz tone crosses both ways untouched (SINAD ≥ 80 dB), and 2 s of answer reach Vonage paced, over ≥ 1.7 s', async (t) => {
  const rig = await callRig(t, {}, {}, { engine: 'live', live: { greeting: sineInt16(1000, 16000, 16000 * 2), greetingText: '' } })
  const next = rig.live!.nextConnection()
  const client = await rig.dial(await rig.answer())
  const conn = await next
  void client.stream(sineInt16(1000, 16000, 16000 * 2))
  await waitFor(() => client.frames.length >= 100 && conn.audioSamples >= 16000 * 1.5, 8000, 'audio both ways')
  const at = client.frames.map(f => f.at)
  const spread = at[99]! - at[0]!
  assert.ok(spread >= 1700, `2 s of answer arrived over ${spread.toFixed(0)} ms`)
  const down = client.audio().subarray(0, 32000)
  const downSinad = sinadDb(down, 1000, 16000, 0, 32000)
  assert.ok(downSinad >= 80, `answer SINAD ${downSinad.toFixed(1)} dB`)
  // The caller's tone, past the first frames (the input clock may start on silence).
  const up = Int16Array.from(conn.audio.flatMap(c => [...c]))
  const firstLoud = up.findIndex(s => Math.abs(s) > 1000)
  const upSinad = sinadDb(up, 1000, 16000, firstLoud + 320, firstLoud + 320 + 16000)
  assert.ok(upSinad >= 80, `caller SINAD ${upSinad.toFixed(1)} dB`)
  assert.deepEqual(conn.violations, [])
  await client.close()
})

test('GPT-Live: hanging up sends session.close and waits for session.closed; the record carries the session seconds at $0.05/min', async (t) => {
  const rig = await callRig(t, {}, {}, { engine: 'live', live: { greeting: sineInt16(440, 16000, 16000 * 0.3) } })
  const next = rig.live!.nextConnection()
  const client = await rig.dial(await rig.answer())
  const conn = await next
  void client.stream(new Int16Array(16000 * 3))
  await waitFor(() => conn.audioSamples >= 16000 * 1.2, 5000, 'a second of session')
  await client.close()
  await waitFor(() => conn.events.some(e => e.type === 'session.close'), 3000, 'session.close')
  await waitFor(() => rig.logs.some(l => l.msg === 'GPT-Live session closed'), 3000, 'session.closed')
  assert.equal(rig.logs.find(l => l.msg === 'GPT-Live session closed')!.reason, 'close_requested')
  await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 3000, 'the record')
  const record = rig.logs.find(l => l.msg === 'call record')!.record as { usage: { sessionSeconds: number }, cost: { total: number, session: number, pricesPer1M: { sessionPerMinute: number } } }
  assert.ok(record.usage.sessionSeconds >= 1)
  assert.equal(record.cost.pricesPer1M.sessionPerMinute, 0.05)
  assert.equal(record.cost.session, Math.round(record.usage.sessionSeconds / 60 * 0.05 * 1e6) / 1e6)
  assert.deepEqual(conn.violations, [])
})

test('GPT-Live: a refused session.start, and a session GPT-Live closes (expired), end the call with the apology like the Realtime engine', async (t) => {
  const refused = await callRig(t, {}, {}, { engine: 'live', live: { startError: { code: 'invalid_value', message: 'Unknown model' } } })
  const client = await refused.dial(await refused.answer())
  void client.stream(new Int16Array(16000 * 2), { loop: true })
  await waitFor(() => client.closeCode !== null, 8000, 'the call ended')
  assert.ok(client.frames.length >= 50, `the apology played (${client.frames.length} frames)`)
  const failed = refused.logs.find(l => l.msg === 'the model failed: apologising and ending the call')!
  assert.equal(failed.cause, 'config-refused')
  assert.match(String(failed.detail), /GPT-Live refused session\.start: check OPENAI_LIVE_MODEL.*Unknown model/)
  await waitFor(() => refused.logs.some(l => l.msg === 'call ended'), 3000, 'call ended')
  assert.equal((refused.logs.find(l => l.msg === 'call ended')!.call as { reason: string }).reason, 'upstream-failed')

  const rig = await callRig(t, {}, {}, { engine: 'live', live: { greeting: sineInt16(440, 16000, 16000 * 0.2) } })
  const next = rig.live!.nextConnection()
  const media = await rig.dial(await rig.answer())
  const conn = await next
  void media.stream(new Int16Array(16000 * 2), { loop: true })
  await waitFor(() => media.frames.length >= 10, 3000, 'the greeting')
  rig.live!.closeSession(conn, 'expired')
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 8000, 'call ended')
  const ended = rig.logs.find(l => l.msg === 'call ended')!.call as { reason: string, upstreamFailure: string }
  assert.equal(ended.reason, 'upstream-closed')
  assert.match(String(rig.logs.find(l => l.msg === 'the model failed: apologising and ending the call')!.detail), /expired \(the session reached its time limit\)/)
  assert.ok(media.frames.length >= 60, 'the apology followed the greeting')
})

test('GPT-Live at VONAGE_AUDIO_RATE=24000: session.start asks for 24 kHz, and the answer reaches Vonage bit for bit', async (t) => {
  const answer = sineInt16(1000, 24000, 24000)
  const rig = await callRig(t, { VONAGE_AUDIO_RATE: 24000 }, {}, { engine: 'live', live: { greeting: answer, greetingText: '' } })
  const next = rig.live!.nextConnection()
  const client = await rig.dial(await rig.answer())
  const conn = await next
  void client.stream(new Int16Array(24000 * 2), { loop: true })
  await waitFor(() => client.frames.length >= 50, 5000, 'frames')
  assert.deepEqual((conn.events[0] as { session?: { audio?: { format?: unknown } } }).session?.audio?.format, { type: 'audio/pcm', rate: 24000 })
  assert.deepEqual(client.audio().subarray(0, 24000), answer)
  await client.close()
})

test('GPT-Live: when Vonage\'s frames stop, the input clock runs on with silence as it happens — never a burst afterwards', async (t) => {
  const rig = await callRig(t, {}, {}, { engine: 'live', live: { greeting: sineInt16(440, 16000, 16000 * 0.2) } })
  const next = rig.live!.nextConnection()
  const client = await rig.dial(await rig.answer())
  const conn = await next
  void client.stream(sineInt16(1000, 16000, 16000 * 0.5))
  await waitFor(() => conn.audioSamples >= 16000 * 0.45, 3000, 'the caller\'s half second')
  // Vonage goes quiet (the stream has ended): the model still hears time pass, as silence.
  const atStall = conn.audioSamples
  await waitFor(() => conn.audioSamples >= atStall + 16000 * 0.5, 3000, 'half a second of filled silence')
  const filled = Int16Array.from(conn.audio.flatMap(c => [...c]).slice(atStall + 1600))
  assert.ok(filled.every(s => s === 0), 'the fill is silence')
  // Then the caller speaks again: frames go up at real time, with no backlog sent in a burst.
  void client.stream(sineInt16(1000, 16000, 16000 * 0.5))
  const resumedAt = conn.audioSamples
  await waitFor(() => conn.audioSamples >= resumedAt + 16000 * 0.4, 3000, 'the caller again')
  const appends = conn.events.filter(e => e.type === 'session.input_audio.append').map(e => Number(e.bytes))
  assert.ok(Math.max(...appends) <= 16000 * 2 * 0.2, `no append over 200 ms (largest ${Math.max(...appends) / 32} ms)`)
  assert.deepEqual(conn.violations, [])
  await client.close()
})

test('GPT-Live at MAX_CALL_SECONDS: the goodbye is asked for as appended instructions, plays, and the call ends', async (t) => {
  const rig = await callRig(t, { MAX_CALL_SECONDS: 10 }, {}, { engine: 'live', live: { greeting: sineInt16(440, 16000, 16000 * 0.2), continuation: sineInt16(440, 16000, 16000 * 0.6), speakOnInstructions: true } })
  const next = rig.live!.nextConnection()
  const client = await rig.dial(await rig.answer())
  const conn = await next
  void client.stream(new Int16Array(16000 * 2), { loop: true })
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 25_000, 'the call ended at its limit')
  assert.equal((rig.logs.find(l => l.msg === 'call ended')!.call as { reason: string }).reason, 'max-duration')
  const note = conn.events.find(e => e.type === 'session.instructions.append') as { content?: string } | undefined
  assert.match(String(note?.content), /通話時間の上限になりました/)
  assert.ok(client.frames.length >= 10 + 30, 'the greeting and the goodbye played')
})
