import { test } from 'node:test'
import assert from 'node:assert/strict'
import { callRig, callerPcm16k, assistantPcm24k, mediaSettled } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { sineInt16, sinadDb, rmsDbfs } from '../../helpers/audio-quality.js'

function concat (parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.length }
  return out
}

test('a call holds a conversation: caller audio reaches the model, the greeting reaches the caller', async (t) => {
  const rig = await callRig(t)
  const ncco = await rig.answer()
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  void client.stream(callerPcm16k.subarray(0, 16000 * 2))
  // 2 s of greeting at 16 kHz = 100 frames of 640 bytes.
  await waitFor(() => client.frames.length >= 100, 5000, 'greeting frames')
  await waitFor(() => conn.audioSamples >= 24000 * 1.9, 5000, 'caller audio at the model')
  const heard = concat(conn.audio)
  assert.ok(rmsDbfs(heard) > -40, `caller audio reached the model with energy (${rmsDbfs(heard).toFixed(1)} dBFS)`)
  const types = conn.events.map(e => e.type)
  assert.deepEqual(types.slice(0, 2), ['session.update', 'response.create'])
  assert.deepEqual(conn.invalid, [], 'every event the bridge sent is a valid GA client event')
  assert.deepEqual(rig.fake.selfInvalid, [])
  const session = conn.events[0]!.session as Record<string, any>
  assert.equal(session.type, 'realtime')
  assert.deepEqual(session.audio.input.format, { type: 'audio/pcm', rate: 24000 })
  assert.deepEqual(session.audio.output.format, { type: 'audio/pcm', rate: 24000 })
  assert.equal(session.audio.output.voice, 'marin')
  assert.equal(session.audio.input.turn_detection.type, 'server_vad')
  assert.deepEqual(session.audio.input.noise_reduction, { type: 'near_field' })
  assert.deepEqual(session.audio.input.transcription, { model: 'gpt-transcribe', languages: ['ja'] }, 'the default model takes the languages list')
  assert.match(session.instructions, /チャッピー/)
  assert.match(session.instructions, /末尾 5678/)
  assert.doesNotMatch(session.instructions, /8012345678/)
  await client.close()
})

for (const rate of [8000, 16000, 24000] as const) {
  test(`at ${rate} Hz every frame is exactly 20 ms and the last one is padded with silence`, async (t) => {
    // 1.23 s does not fill a whole number of frames.
    const answer = assistantPcm24k.subarray(0, Math.round(24000 * 1.23))
    const rig = await callRig(t, { VONAGE_AUDIO_RATE: rate }, { answer })
    const client = await rig.dial(await rig.answer({ uuid: `frames-${rate}` }))
    const frameBytes = rate / 50 * 2
    await waitFor(() => client.frames.length >= 62, 5000, 'all frames')
    const session = rig.app.bridge.sessions.get(`frames-${rate}`)!
    await session.whenPlayed()
    await mediaSettled(session, client)
    assert.equal(client.frames.length, 62, '1.23 s → 61.5 frames → 62 with the padded last one')
    for (const f of client.frames) assert.equal(f.bytes, frameBytes)
    const last = new Int16Array(client.frames.at(-1)!.data.buffer.slice(client.frames.at(-1)!.data.byteOffset, client.frames.at(-1)!.data.byteOffset + frameBytes))
    assert.ok(last.subarray(last.length * 3 / 4).every(s => s === 0), 'the tail of the last frame is silence')
  })
}

test('at 24 kHz assistant audio passes through bit for bit (no resampling)', async (t) => {
  const answer = assistantPcm24k.subarray(0, 24000)
  const rig = await callRig(t, { VONAGE_AUDIO_RATE: 24000 }, { answer })
  const client = await rig.dial(await rig.answer())
  await waitFor(() => client.frames.length >= 50, 5000, 'frames')
  assert.deepEqual(client.audio().subarray(0, 24000), answer)
})

for (const hz of [200, 1000, 3000, 6000]) {
  test(`a ${hz} Hz tone crosses the bridge both ways at 16 kHz with SINAD ≥ 60 dB`, async (t) => {
    const rig = await callRig(t, {}, { answer: sineInt16(hz, 24000, 24000) })
    const ncco = await rig.answer()
    const conn = await rig.fake.nextConnection()
    const client = await rig.dial(ncco)
    void client.stream(sineInt16(hz, 16000, 16000 * 0.6))
    await waitFor(() => client.frames.length >= 50 && conn.audioSamples >= 24000 * 0.55, 5000, 'audio both ways')
    const down = client.audio()
    const up = concat(conn.audio)
    // Skip the filters' start-up and the padded end.
    const downSinad = sinadDb(down, hz, 16000, 400, 15000)
    const upSinad = sinadDb(up, hz, 24000, 600, 13000)
    assert.ok(downSinad >= 60, `24k→16k SINAD ${downSinad.toFixed(1)} dB`)
    assert.ok(upSinad >= 60, `16k→24k SINAD ${upSinad.toFixed(1)} dB`)
    await client.close()
  })
}

test('pacing: after the lead, one frame per 20 ms and never a burst', async (t) => {
  const rig = await callRig(t, { PLAYBACK_LEAD_MS: 100 }, { answer: assistantPcm24k.subarray(0, 24000 * 3) })
  const client = await rig.dial(await rig.answer())
  await waitFor(() => client.frames.length >= 150, 6000, 'frames')
  const at = client.frames.map(f => f.at)
  const spread = at[149]! - at[0]!
  // 3 s of audio with 100 ms queued ahead arrives over about 2.9 s, not in a burst.
  assert.ok(spread > 2600, `3 s of audio arrived over ${spread.toFixed(0)} ms`)
  const maxIn100 = (from: number): number => {
    let max = 0
    for (let i = from, j = from; i < at.length; i++) {
      while (at[i]! - at[j]! >= 100) j++
      max = Math.max(max, i - j + 1)
    }
    return max
  }
  // Any 100 ms carries at most the 100 ms lead plus 100 ms of real time (+1 for timer slack):
  // a stalled event loop refills the lead, it never dumps seconds of audio.
  assert.ok(maxIn100(0) <= 11, `at most lead + real time in any 100 ms (saw ${maxIn100(0)})`)
})
