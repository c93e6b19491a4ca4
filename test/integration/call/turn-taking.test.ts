import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { callRig, conversationRig, callerPcm16k, assistantPcm24k, mediaSettled, settled, type CallRig } from '../../helpers/call-rig.js'
import { build } from '../../helpers/build.js'
import { prng } from '../../helpers/prng.js'
import { waitFor, type FakeConnection, type FakeRealtimeOptions } from '../../fakes/realtime-server.js'
import type { VonageMediaClient } from '../../fakes/vonage-media-client.js'
import type { CallSession } from '../../../lib/call/session.js'
import { frameDbfs } from '../../../lib/call/turn-taking.js'
import { TURN_PROFILES } from '../../../lib/realtime/turn-profiles.js'
import { concat } from '../../helpers/tones.js'

/**
 * Issue #17 end to end: the real app, the fake Realtime API playing OpenAI's
 * server VAD on the caller audio it receives (`vad` + `speechDetection`: the
 * events come at the audio positions where the speech starts and stops), and
 * Vonage's media socket streaming real caller audio in real time.
 */
const RATE = 16000
const BARGE_IN_MIN_MS = TURN_PROFILES.standard.bargeInMinMs
const FRAME_MS = 20

/** Line noise: deterministic white noise at `dbfs` RMS. */
function noise (ms: number, dbfs: number, seed = 7): Int16Array {
  const rnd = prng(seed)
  const amp = 32768 * 10 ** (dbfs / 20) * Math.sqrt(3)
  const out = new Int16Array(ms * RATE / 1000)
  for (let i = 0; i < out.length; i++) out[i] = Math.round((rnd() * 2 - 1) * amp)
  return out
}

/** caller-ja-16k.wav is voiced from its first frame for 800 ms: its start is a 「はい」, its first 1.5 s a real interruption. */
const hai = callerPcm16k.subarray(0, RATE * 0.25)
const speech = callerPcm16k.subarray(0, RATE * 1.5)
/** A click or crackle: 150 ms of white noise at -20 dBFS. */
const burst = noise(150, -20, 11)
const LINE = -60
const answer4s = assistantPcm24k.subarray(0, 24000 * 4)

/** The caller now says `pcm`, then the line stays quiet (frames go on: Vonage streams silence too). */
function say (client: VonageMediaClient, pcm: Int16Array): void {
  client.stop()
  void client.stream(concat(pcm, noise(20_000, LINE)))
}

interface Call { rig: CallRig, conn: FakeConnection, client: VonageMediaClient, session: CallSession }

async function startCall (t: Parameters<typeof callRig>[0], fake: FakeRealtimeOptions, env: Record<string, string | number> = {}): Promise<Call> {
  const rig = await callRig(t, env, { vad: true, ...fake })
  const uuid = `turn-${Math.random().toString(36).slice(2)}`
  const next = rig.fake.nextConnection()
  const ncco = await rig.answer({ uuid })
  const conn = await next
  const session = rig.app.bridge.sessions.get(uuid)!
  const client = await rig.dial(ncco)
  void client.stream(noise(20_000, LINE))
  return { rig, conn, client, session }
}

const creates = (conn: FakeConnection): FakeConnection['events'] => conn.events.filter(e => e.type === 'response.create')
const deletes = (conn: FakeConnection): unknown[] => conn.events.filter(e => e.type === 'conversation.item.delete').map(e => e.item_id)
const clears = (client: VonageMediaClient): number => client.texts.filter(m => m.msg.action === 'clear').length
/** response.cancel the session sent before settled()'s marker. */
const cancels = (conn: FakeConnection): number => conn.events.filter(e => e.type === 'response.cancel').length

function assertBridgeDecides (conn: FakeConnection): void {
  const td = conn.turnDetection!
  assert.equal(td.type, 'server_vad')
  assert.equal(td.create_response, false, 'the model does not answer on its own')
  assert.equal(td.interrupt_response, false, 'the model does not stop at the first sound')
}

test('a 250 ms 「はい」 in the middle of a 4 s answer: the answer plays to its end, nothing cleared or truncated, no reply, the item deleted', async (t) => {
  const { conn, client, session } = await startCall(t, { answer: answer4s, speechDetection: { transcribe: () => 'はい' } })
  const heard = once(session, 'backchannel')
  await waitFor(() => client.frames.length >= 50, 5000, '1 s of the answer')
  say(client, hai)
  const [bc] = await heard as [{ ms: number, text: string | null }]
  assert.equal(bc.text, 'はい')
  assert.ok(bc.ms > 0 && bc.ms < BARGE_IN_MIN_MS, `${bc.ms} ms of voiced sound`)
  await waitFor(() => deletes(conn).length === 1, 2000, 'the 「はい」 removed from the conversation')
  const item = conn.events.find(e => e.type === 'conversation.item.delete')
  await session.whenPlayed()
  await mediaSettled(session, client)
  await settled(session, conn)
  assertBridgeDecides(conn)
  assert.ok(client.frames.length >= 4000 / FRAME_MS, `the whole answer played: ${client.frames.length} frames`)
  assert.equal(clears(client), 0, 'no clear to Vonage')
  assert.ok(!conn.events.some(e => e.type === 'conversation.item.truncate'), 'no truncate')
  assert.equal(cancels(conn), 1, 'no response.cancel but settled()\'s marker')
  assert.equal(creates(conn).length, 1, 'no reply to the 「はい」: only the greeting was asked for')
  assert.equal(session.stats.usage.responses, 1, 'and the model made no other response')
  assert.deepEqual(deletes(conn), [item!.item_id])
  assert.equal(session.stats.backchannels, 1)
  assert.equal(session.stats.interruptions, 0)
  assert.equal(session.stats.bargeIns, 0)
  assert.ok(!client.texts.some(m => m.msg.event === 'turn'), 'Vonage gets no softphone messages')
  assert.deepEqual(conn.invalid, [])
})

test('a 150 ms noise burst: over the answer it cuts nothing, in silence it is not answered; both are deleted', async (t) => {
  const { conn, client, session } = await startCall(t, { answer: answer4s, speechDetection: { transcribe: () => '' } })
  const sounds: Array<{ ms: number, text: string | null }> = []
  session.on('backchannel', (e) => sounds.push(e))
  await waitFor(() => client.frames.length >= 50, 5000, '1 s of the answer')
  say(client, burst)
  await waitFor(() => sounds.length === 1, 5000, 'the burst over the answer let pass')
  await session.whenPlayed()
  const framesPlayed = client.frames.length
  say(client, burst)
  await waitFor(() => sounds.length === 2, 5000, 'the burst in silence let pass')
  await mediaSettled(session, client)
  await settled(session, conn)
  assert.deepEqual(sounds.map(s => s.text), [null, null], 'no words')
  assert.ok(framesPlayed >= 4000 / FRAME_MS, `the whole answer played: ${framesPlayed} frames`)
  assert.equal(clears(client), 0)
  assert.ok(!conn.events.some(e => e.type === 'conversation.item.truncate'))
  assert.equal(cancels(conn), 1, 'no response.cancel but the marker')
  assert.equal(creates(conn).length, 1, 'no reply to either burst')
  assert.equal(deletes(conn).length, 2)
  assert.equal(session.stats.backchannels, 1, 'the burst over the answer')
  assert.equal(session.stats.noises, 1, 'the burst in silence')
  assert.equal(session.stats.interruptions, 0)
  assert.deepEqual(conn.invalid, [])
})

/** Where the caller's speech starts in the audio the model received: the first voiced 20 ms frame (TurnTaker's -45 dBFS). */
function speechOnsetSample (conn: FakeConnection, fromSample: number): number {
  const all = concat(...conn.audio)
  const per = 24000 * FRAME_MS / 1000
  for (let off = Math.floor(fromSample / per) * per; off + per <= all.length; off += per) {
    if (frameDbfs(all.subarray(off, off + per)) >= TURN_PROFILES.standard.voicedDbfs) return off
  }
  throw new Error('no speech in the audio the model received')
}

test('a real interruption: clear and truncate within BARGE_IN_MIN_MS + one frame of its start, the answer cancelled, then one reply', async (t) => {
  const { conn, client, session } = await startCall(t, {
    answer: answer4s,
    // Streamed a little faster than it plays (as the API does): still in progress when the caller cuts in.
    burst: false,
    paceFactor: 1.5,
    respondToAll: true,
    speechDetection: { transcribe: () => 'すみません、営業時間だけ教えてください。' }
  })
  await waitFor(() => client.frames.length >= 50, 5000, '1 s of the answer')
  const before = conn.audioSamples
  say(client, speech)
  await waitFor(() => clears(client) >= 1, 5000, 'clear')
  await waitFor(() => conn.events.some(e => e.type === 'conversation.item.truncate'), 2000, 'truncate')
  const clear = client.texts.find(m => m.msg.action === 'clear')!
  const truncate = conn.events.find(e => e.type === 'conversation.item.truncate')!
  // Positions in the caller's audio, not wall-clock time: how much of the speech the model had when the truncate came.
  const onset = speechOnsetSample(conn, before)
  const cutAfterMs = (conn.audioAt.get(truncate)! - onset) / 24
  assert.ok(cutAfterMs <= BARGE_IN_MIN_MS + FRAME_MS, `cut ${cutAfterMs} ms into the speech (≤ ${BARGE_IN_MIN_MS} + ${FRAME_MS})`)
  assert.ok(cutAfterMs >= BARGE_IN_MIN_MS / 2, `not at the first sound: ${cutAfterMs} ms`)
  // Truncated at what the caller heard: no more than what reached Vonage before the clear.
  const framesAtClear = client.frames.filter(f => f.at <= clear.at).length
  assert.equal(truncate.item_id, conn.lastItemId)
  assert.ok(Number(truncate.audio_end_ms) <= framesAtClear * FRAME_MS)
  assert.ok(conn.events.some(e => e.type === 'response.cancel'), 'the answer was cancelled')
  // The caller finishes; the model answers exactly once.
  await waitFor(() => creates(conn).length === 2, 5000, 'the reply')
  await waitFor(() => session.stats.usage.responses === 2, 10_000, 'the reply made')
  await mediaSettled(session, client)
  await settled(session, conn)
  assert.equal(creates(conn).length, 2, 'the greeting and one reply')
  assert.ok(conn.events.indexOf(creates(conn)[1]!) > conn.events.indexOf(truncate))
  assert.equal(session.stats.interruptions, 1)
  assert.equal(session.stats.bargeIns, 1)
  assert.equal(clears(client), 1)
  assert.deepEqual(deletes(conn), [])
  assert.deepEqual(conn.invalid, [])
})

test('after a real utterance while the assistant is silent, the model answers exactly once', async (t) => {
  const { conn, client, session } = await startCall(t, {
    answer: assistantPcm24k.subarray(0, 24000 / 2),
    respondToAll: true,
    speechDetection: { transcribe: () => '明日の予約を変更したいのですが。' }
  })
  await waitFor(() => client.frames.length >= 25, 5000, 'the greeting')
  await session.whenPlayed()
  say(client, speech)
  await waitFor(() => creates(conn).length === 2, 5000, 'the answer asked for')
  await waitFor(() => session.stats.usage.responses === 2, 5000, 'the answer made')
  await mediaSettled(session, client)
  await settled(session, conn)
  assertBridgeDecides(conn)
  assert.equal(creates(conn).length, 2, 'the greeting and exactly one answer')
  assert.equal(session.stats.usage.responses, 2, 'the model did not answer on its own as well')
  assert.equal(clears(client), 0)
  assert.deepEqual(deletes(conn), [])
  assert.deepEqual(conn.invalid, [])
})

test('caller silence: one check-in, then a polite goodbye, and the call ends once it has played', async (t) => {
  const { rig, conn, client } = await startCall(t, { answer: assistantPcm24k.subarray(0, 24000 * 0.4), respondToAll: true }, { IDLE_PROMPT_SECONDS: 1 })
  await waitFor(() => client.closedAt !== null, 15_000, 'the call ended')
  const asked = creates(conn)
  assert.equal(asked.length, 3, 'greeting, check-in, goodbye')
  assert.equal(asked[0]!.response, undefined, 'the greeting')
  const instructions = (e: Record<string, unknown>): string => String((e.response as { instructions?: string }).instructions)
  assert.match(instructions(asked[1]!), /もしもし、お聞きになれますか/)
  assert.match(instructions(asked[2]!), /失礼いたします/)
  // The goodbye played before the line closed: three responses of 0.4 s reached the caller.
  const played = client.frames.filter(f => f.at <= client.closedAt!).length
  assert.ok(played >= 3 * 400 / FRAME_MS, `${played} frames before the close`)
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 2000, 'the call record')
  assert.equal((rig.logs.find(l => l.msg === 'call ended')!.call as { reason: string }).reason, 'idle')
  assert.deepEqual(conn.invalid, [])
})

test('a slow tool gets one filler (no tools in it), then its answer; a fast tool gets none', async (t) => {
  let release: () => void = () => {}
  let hold = true
  const hook = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const reply = (): void => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"shipped"}') }
      if (!hold) return reply()
      release = reply
    })
  })
  hook.listen(0, '127.0.0.1')
  await once(hook, 'listening')
  t.after(() => { hook.closeAllConnections(); hook.close() })
  const url = `http://127.0.0.1:${(hook.address() as { port: number }).port}/tools`
  const rig = await conversationRig(t, { TOOLS_WEBHOOK_URL: url, TOOLS_WEBHOOK_SECRET: 'x-secret-123456', TOOLS_FILE: './tools.example.json' })
  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const before = rig.responseCreates().length

  // The webhook answers only once the filler was asked for: the tool is as slow as it takes.
  await rig.fake.functionCall(rig.conn, { name: 'lookup_order', arguments: '{"order_id":"A-12345"}' })
  await waitFor(() => rig.responseCreates().length === before + 1, 5000, 'the filler')
  const filler = rig.conn.events[rig.responseCreates()[before]!]!
  assert.match(String((filler.response as { instructions?: string }).instructions), /少々お待ちください/)
  assert.equal((filler.response as { tool_choice?: string }).tool_choice, 'none', 'the filler cannot call another tool')
  assert.equal(rig.outputs().length, 0, 'the tool is still running')
  release()
  await waitFor(() => rig.outputs().length === 1 && rig.responseCreates().length === before + 2, 5000, 'the answer with the result')
  assert.ok(rig.responseCreates()[before + 1]! > rig.outputs()[0]!.index, 'the answer follows the output')

  // A fast tool: its answer, and no filler before it.
  hold = false
  await waitFor(() => !session.gate.active, 5000, 'the answer done')
  await rig.fake.functionCall(rig.conn, { name: 'lookup_order', arguments: '{"order_id":"B-12345"}' })
  await waitFor(() => rig.outputs().length === 2 && rig.responseCreates().length >= before + 3, 5000, 'the fast answer')
  await settled(session, rig.conn)
  assert.equal(rig.responseCreates().length, before + 3, 'one filler in all')
  assert.equal(rig.conn.events.filter(e => e.type === 'response.create' && (e.response as { tool_choice?: string } | undefined)?.tool_choice === 'none').length, 1)
  assert.deepEqual(rig.conn.invalid, [])
  assert.ok(!rig.logs.some(l => l.msg === 'realtime error event'))
})

test('startup: a BARGE_IN_MIN_MS the profiles cannot take stops the server with a clear error', async (t) => {
  await assert.rejects(build(t, { BARGE_IN_MIN_MS: 5 }), /BARGE_IN_MIN_MS must be 0 \(the profile's\) or 20-3000 ms, not 5/)
})
