import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MPEGDecoder } from 'mpg123-decoder'
import { conversationRig, type ConversationRig } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { embeddedDataDir } from '../records/store-backends.js'
import { goertzel, tone, concat } from '../../helpers/tones.js'
import { DEFAULT_RECORDING_NOTICE } from '../../../lib/recording/settings.js'
import { buildApp } from '../../../app.js'
import { ConfigError } from '../../../lib/config/schema.js'
import { baseEnv, build } from '../../helpers/build.js'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { statAudio } from '../../../lib/records/store/audio-store.js'
import { openDb } from '../../../lib/records/store/db.js'
import { pino } from 'pino'

/**
 * Issue #24 end to end: the real app, a call through the fake Vonage media
 * socket and the fake Realtime API (its server VAD acting on the caller's
 * audio), RECORDING=on. The caller speaks a 440 Hz tone, the assistant
 * answers in a 1 kHz tone; the served MP3 is decoded by a real decoder
 * (mpg123 as WebAssembly) and each channel is checked for its own tone.
 */
const KEY = 'k'.repeat(16)
const auth = { authorization: `Bearer ${KEY}` }
const CALLER_HZ = 440
const ASSISTANT_HZ = 1000
const RATE = 16000

/** Line noise low enough to be silence (the frames go on, as Vonage's do). */
function quiet (ms: number): Int16Array {
  const out = new Int16Array(ms * RATE / 1000)
  for (let i = 0; i < out.length; i++) out[i] = (i * 7919) % 5 - 2
  return out
}

/** The caller now says `pcm`, then the line stays quiet. */
function say (rig: ConversationRig, pcm: Int16Array): void {
  rig.media.stop()
  void rig.media.stream(concat(pcm, quiet(30_000)))
}

async function recordedCall (t: Parameters<typeof conversationRig>[0], env: Record<string, string>): Promise<ConversationRig> {
  return await conversationRig(t, { RECORDING: 'on', CONSOLE_KEY: KEY, ...env }, {
    answer: tone(ASSISTANT_HZ, 3000, 24000),
    vad: true,
    burst: false,
    paceFactor: 1.5,
    transcript: 'ご予約は明日の午後三時で承りました。',
    speechDetection: { transcribe: () => '予約の確認をお願いします。' }
  })
}

async function hangUp (rig: ConversationRig): Promise<void> {
  const res = await rig.webhook('/event', { uuid: rig.uuid, status: 'completed' })
  assert.equal(res.statusCode, 204)
  await waitFor(() => rig.app.bridge.sessions.get(rig.uuid) === undefined, 5000, 'the call to end')
}

async function stored (rig: ConversationRig): Promise<void> {
  await waitFor(() => (rig.app.recording.recordings?.counters.stored ?? 0) >= 1, 60_000, 'the recording to be stored')
}

test('RECORDING=on: the notice comes before the AI, the recording has the caller left and the AI right, as heard (cut at the barge-in), as long as the call', async (t) => {
  const rig = await recordedCall(t, { DATA_DIR: await embeddedDataDir(t) })
  // The notice: spoken by Vonage before the media leg (the AI) is connected.
  const ncco = await rig.answer({ uuid: 'notice-check' })
  assert.equal(ncco[0]!.action, 'talk')
  assert.ok(String(ncco[0]!.text).startsWith(DEFAULT_RECORDING_NOTICE), ncco[0]!.text)
  assert.equal(ncco[1]!.action, 'connect')
  rig.app.bridge.endCall('notice-check', 'caller-hangup')
  const outbound = await rig.answer({ uuid: 'notice-outbound' }, '/answer')
  assert.ok(String(outbound[0]!.text).startsWith(DEFAULT_RECORDING_NOTICE), 'outbound calls are told too')
  rig.app.bridge.endCall('notice-outbound', 'caller-hangup')

  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const firstFrameAt = rig.media.frames[0]!.at
  // The caller asks something; the AI answers in its tone; 1 s into it the caller cuts in.
  say(rig, tone(CALLER_HZ, 1000, RATE))
  await waitFor(() => session.gate.active, 10_000, 'the answer')
  const answerFrom = rig.media.frames.length
  await waitFor(() => rig.media.frames.length >= answerFrom + 50, 10_000, '1 s of the answer')
  say(rig, tone(CALLER_HZ, 1500, RATE))
  await waitFor(() => rig.media.texts.some(m => m.msg.action === 'clear'), 5000, 'the barge-in')
  const cutSec = (rig.media.texts.find(m => m.msg.action === 'clear')!.at - firstFrameAt) / 1000
  // The caller finishes, the line is quiet a moment, then the caller hangs up.
  await waitFor(() => rig.media.frames.at(-1)!.at - firstFrameAt > (cutSec + 1.6) * 1000 || performance.now() - firstFrameAt > (cutSec + 2.5) * 1000, 10_000, 'a moment after the barge-in')
  await hangUp(rig)
  await stored(rig)

  const call = await rig.app.inject({ url: `/api/calls/${rig.uuid}`, headers: auth })
  assert.equal(call.statusCode, 200)
  assert.deepEqual(call.json().audio, ['recording'])
  const list = await rig.app.inject({ url: '/api/calls', headers: auth })
  assert.deepEqual(list.json().calls.find((c: { id: string }) => c.id === rig.uuid).audio, ['recording'])

  const res = await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: auth })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'audio/mpeg')
  assert.equal(res.headers['accept-ranges'], 'bytes')
  const mp3 = res.rawPayload
  assert.equal(Number(res.headers['content-length']), mp3.length)

  const decoder = new MPEGDecoder()
  await decoder.ready
  t.after(() => decoder.free())
  const pcm = decoder.decode(mp3)
  assert.equal(pcm.channelData.length, 2, 'two channels')
  assert.equal(pcm.sampleRate, RATE)
  const [left, right] = pcm.channelData as [Float32Array, Float32Array]
  const seconds = pcm.samplesDecoded / pcm.sampleRate
  const durationSec = Number(call.json().durationMs) / 1000
  assert.ok(Math.abs(seconds - durationSec) <= 1, `recording ${seconds.toFixed(2)} s, call ${durationSec.toFixed(2)} s`)

  const at = (sec: number): number => sec * pcm.sampleRate
  const power = (ch: Float32Array, from: number, to: number, hz: number): number => goertzel(ch, at(from), at(to), hz, pcm.sampleRate)
  if (process.env.DEBUG_RECORDING === '1') {
    for (let s = 0; s < seconds; s += 0.25) console.log(s.toFixed(2), power(left, s, s + 0.25, CALLER_HZ).toExponential(1), power(right, s, s + 0.25, ASSISTANT_HZ).toExponential(1))
    console.log('cut', cutSec)
  }
  const STRONG = 0.002
  const FAINT = 0.0002
  // The greeting (the AI's tone, first 2.5 s): on the right only.
  assert.ok(power(right, 0.2, 2.5, ASSISTANT_HZ) > STRONG, 'greeting on the AI channel')
  assert.ok(power(left, 0.2, 2.5, ASSISTANT_HZ) < FAINT, 'no AI on the caller channel')
  // Just before the cut: both speak (the caller is interrupting), each on its own channel.
  assert.ok(power(right, cutSec - 0.7, cutSec - 0.15, ASSISTANT_HZ) > STRONG, 'the answer plays until the cut')
  assert.ok(power(left, cutSec - 0.35, cutSec - 0.05, CALLER_HZ) > STRONG, 'the caller on the caller channel')
  assert.ok(power(right, cutSec - 0.35, cutSec - 0.05, CALLER_HZ) < FAINT, 'no caller on the AI channel')
  // After the cut: the AI channel is silent (what was queued at Vonage was never heard), the caller goes on.
  assert.ok(power(right, cutSec + 0.15, cutSec + 1.0, ASSISTANT_HZ) < FAINT, 'the AI channel is silent from the interruption on')
  assert.ok(power(left, cutSec + 0.15, cutSec + 1.0, CALLER_HZ) > STRONG, 'the caller goes on speaking')

  // A player seeking: byte ranges, 206 with Content-Range; past the end 416.
  const part = await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: { ...auth, range: 'bytes=1000-2999' } })
  assert.equal(part.statusCode, 206)
  assert.equal(part.headers['content-range'], `bytes 1000-2999/${mp3.length}`)
  assert.ok(part.rawPayload.equals(mp3.subarray(1000, 3000)))
  const tail = await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: { ...auth, range: 'bytes=-100' } })
  assert.equal(tail.statusCode, 206)
  assert.ok(tail.rawPayload.equals(mp3.subarray(mp3.length - 100)))
  const past = await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: { ...auth, range: `bytes=${mp3.length}-` } })
  assert.equal(past.statusCode, 416)
  assert.equal(past.headers['content-range'], `bytes */${mp3.length}`)
  // The key is needed like for the rest of the history.
  const stranger = await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: { authorization: 'Bearer wrong-key-wrong-key' }, remoteAddress: '203.0.113.9' })
  assert.equal(stranger.statusCode, 401)
})

test('RECORDING=off (the default): no notice, no recording, 404', async (t) => {
  const rig = await conversationRig(t, { DATA_DIR: await embeddedDataDir(t), CONSOLE_KEY: KEY })
  const ncco = await rig.answer({ uuid: 'no-notice' })
  assert.ok(!JSON.stringify(ncco).includes(DEFAULT_RECORDING_NOTICE))
  rig.app.bridge.endCall('no-notice', 'caller-hangup')
  await hangUp(rig)
  assert.equal(rig.app.recording.enabled, false)
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 5000, 'the call to end')
  assert.notEqual(await rig.app.callStore.opened, null)
  await rig.app.callStore.writer.flush()
  const call = await rig.app.inject({ url: `/api/calls/${rig.uuid}`, headers: auth })
  assert.equal(call.statusCode, 200)
  assert.deepEqual(call.json().audio, [])
  const res = await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: auth })
  assert.equal(res.statusCode, 404)
})

test('RECORDING=on without a store, or with an empty notice, stops startup naming the setting', async () => {
  for (const [env, needle] of [
    [{ RECORDING: 'on', DATA_DIR: '' }, /RECORDING=on needs a call store/],
    [{ RECORDING: 'on', DATA_DIR: './data', RECORDING_NOTICE: ' ' }, /RECORDING_NOTICE is empty/],
    [{ RECORDING: 'yes' }, /RECORDING/]
  ] as const) {
    const err = await buildApp({ config: { data: { ...baseEnv, ...env }, env: false, dotenv: false }, logger: pino({ level: 'silent' }) }).catch((e: unknown) => e)
    assert.ok(err instanceof ConfigError, `refused: ${JSON.stringify(env)}`)
    assert.match(err.problems.join('\n'), needle)
  }
})

test('a recording the previous run left on disk (it stopped before storing it) is stored at the next start, and its file removed', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const callId = 'left-by-a-crash'
  const spoolDir = join(dataDir, 'recording-spool')
  mkdirSync(spoolDir, { recursive: true })
  // 2 s of both channels, interleaved, as the tape writes them.
  const left = tone(CALLER_HZ, 2000, RATE)
  const right = tone(ASSISTANT_HZ, 2000, RATE)
  const pcm = new Int16Array(left.length * 2)
  for (let i = 0; i < left.length; i++) { pcm[2 * i] = left[i]!; pcm[2 * i + 1] = right[i]! }
  const file = join(spoolDir, `${Buffer.from(callId).toString('base64url')}.${RATE}.pcm`)
  writeFileSync(file, pcm)
  const { app } = await build(t, { RECORDING: 'on', DATA_DIR: dataDir })
  // Stored is counted before the spool file is removed: wait for both, so the file's removal is not raced.
  await waitFor(() => (app.recording.recordings?.counters.stored ?? 0) === 1 && !existsSync(file), 60_000, 'the left recording to be stored and its spool file removed')
  const db = app.callStore.db()!
  const audio = await statAudio(db, callId, 'recording')
  assert.equal(audio?.mime, 'audio/mpeg')
  assert.ok(audio.size > 1000)
  assert.equal(existsSync(file), false, 'the spool file is gone')
})

test('a shutdown with a call up ends it and stores its recording before the store closes', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const rig = await recordedCall(t, { DATA_DIR: dataDir })
  assert.notEqual(await rig.app.callStore.opened, null)
  assert.ok(rig.app.bridge.sessions.has(rig.uuid), 'the call is up')
  await rig.app.close()
  const db = await openDb({ url: '', dataDir })
  t.after(() => db.close())
  const audio = await statAudio(db, rig.uuid, 'recording')
  assert.equal(audio?.mime, 'audio/mpeg')
  assert.deepEqual(readdirSync(join(dataDir, 'recording-spool')), [], 'no spool file left')
})
