import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TurnTaker, frameDbfs, type TurnDecision } from '../../../lib/call/turn-taking.js'
import { Backchannels, parseWordList } from '../../../lib/call/backchannels.js'
import { TURN_PROFILES, resolveTurnProfile } from '../../../lib/realtime/turn-profiles.js'

const FRAME_MS = 20
const SPEECH_DBFS = -22
const LINE_DBFS = -62

/** A call in frames: the clock moves only with the frames, as in a session. */
function rig (profile = TURN_PROFILES.standard, transcripts = true) {
  let now = 0
  const decisions: Array<TurnDecision & { at: number }> = []
  const turn = new TurnTaker({ profile, now: () => now, transcripts, decide: d => decisions.push({ ...d, at: now }) })
  const frames = (ms: number, dbfs: number): void => {
    for (let t = 0; t < ms; t += FRAME_MS) { now += FRAME_MS; turn.level(dbfs) }
  }
  const kinds = (): string[] => decisions.map(d => d.kind)
  return { turn, frames, decisions, kinds, at: () => now }
}

test('frameDbfs: full-scale square wave is 0 dBFS, silence is -100, a tenth of full scale is -20', () => {
  assert.ok(Math.abs(frameDbfs(new Int16Array(320).fill(32767))) < 0.01)
  assert.equal(frameDbfs(new Int16Array(320)), -100)
  assert.equal(Math.round(frameDbfs(new Int16Array(320).fill(3277))), -20)
  // The bytes a session forwards, at an odd offset inside a larger buffer.
  const samples = new Int16Array(320).map((_, i) => (i % 2 === 0 ? 3277 : -3277))
  const bytes = Buffer.alloc(641)
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, 1 + i * 2)
  assert.equal(frameDbfs(bytes.subarray(1)), frameDbfs(samples))
})

test('frame(): the session can feed the forwarded bytes themselves', () => {
  const decisions: string[] = []
  const turn = new TurnTaker({ profile: TURN_PROFILES.standard, now: () => 0, decide: d => decisions.push(d.kind) })
  turn.assistantSpeaking(true)
  turn.speechStarted('item_bytes')
  const loud = Buffer.alloc(640)
  for (let i = 0; i < 320; i++) loud.writeInt16LE(i % 2 === 0 ? 6000 : -6000, i * 2)
  for (let ms = 0; ms < TURN_PROFILES.standard.bargeInMinMs; ms += FRAME_MS) turn.frame(loud)
  assert.deepEqual(decisions, ['duck', 'interrupt'])
})

test('a 250 ms 「はい」 in the middle of a 4 s answer: no interrupt, no answer to it, the item is dropped as a backchannel', () => {
  const { turn, frames, decisions, kinds } = rig()
  turn.assistantSpeaking(true)
  frames(1500, LINE_DBFS)
  turn.speechStarted('item_hai')
  frames(250, SPEECH_DBFS)
  frames(500, LINE_DBFS) // the VAD's silence before speech_stopped
  turn.speechStopped('item_hai')
  assert.deepEqual(kinds(), ['duck', 'restore'], 'ducked while deciding, restored once it stopped short')
  turn.callerTranscript('item_hai', 'はい。')
  frames(1750, LINE_DBFS)
  turn.assistantSpeaking(false)
  assert.deepEqual(kinds(), ['duck', 'restore', 'backchannel'])
  assert.deepEqual(decisions[2], { kind: 'backchannel', itemId: 'item_hai', voicedMs: 260, text: 'はい。', at: decisions[2]!.at })
  assert.deepEqual(turn.stats, { backchannels: 1, noises: 0, interruptions: 0, responses: 0 })
})

test('a 150 ms noise burst over the answer, with no words: nothing but a backchannel (noise) record', () => {
  const { turn, frames, kinds } = rig()
  turn.assistantSpeaking(true)
  frames(1000, LINE_DBFS)
  turn.speechStarted('item_click')
  frames(150, -18)
  frames(500, LINE_DBFS)
  turn.speechStopped('item_click')
  turn.callerTranscript('item_click', '')
  assert.deepEqual(kinds(), ['duck', 'restore', 'backchannel'])
  assert.equal(turn.stats.interruptions, 0)
  assert.equal(turn.stats.responses, 0)
})

test('a noise burst the VAD never reports leaves no trace', () => {
  const { turn, frames, kinds } = rig()
  turn.assistantSpeaking(true)
  frames(1000, LINE_DBFS)
  frames(150, -18)
  frames(2000, LINE_DBFS)
  assert.deepEqual(kinds(), [])
})

test('a real interruption is decided within BARGE_IN_MIN_MS + one frame of its start, then answered once when the caller stops', () => {
  for (const bargeInMinMs of [200, 400, 700]) {
    const profile = resolveTurnProfile('standard', bargeInMinMs)
    const { turn, frames, decisions, kinds, at } = rig(profile)
    turn.assistantSpeaking(true)
    frames(1000, LINE_DBFS)
    const start = at()
    // The engine's VAD reports the start a little after the sound began.
    frames(100, SPEECH_DBFS)
    turn.speechStarted('item_matte')
    frames(1200, SPEECH_DBFS)
    const cut = decisions.find(d => d.kind === 'interrupt')
    assert.ok(cut !== undefined, `interrupt at ${bargeInMinMs} ms`)
    assert.ok(cut.at - start <= bargeInMinMs + FRAME_MS, `decided ${cut.at - start} ms after the start (BARGE_IN_MIN_MS ${bargeInMinMs})`)
    assert.ok(cut.at - start >= bargeInMinMs, 'not before BARGE_IN_MIN_MS of speech')
    assert.equal(cut.kind === 'interrupt' && cut.reason, 'long')
    assert.deepEqual(kinds(), ['duck', 'interrupt'], 'nothing is answered while the caller still speaks')
    frames(500, LINE_DBFS)
    turn.speechStopped('item_matte')
    turn.callerTranscript('item_matte', 'ちょっと待ってください、予約の時間を変えたいんです')
    frames(2000, LINE_DBFS)
    assert.deepEqual(kinds(), ['duck', 'interrupt', 'respond'])
  }
})

test('a short utterance that is not a backchannel interrupts when its words arrive, and is answered once', () => {
  const { turn, frames, decisions, kinds } = rig()
  turn.assistantSpeaking(true)
  turn.speechStarted('item_iie')
  frames(300, SPEECH_DBFS)
  frames(500, LINE_DBFS)
  turn.speechStopped('item_iie')
  turn.callerTranscript('item_iie', 'いいえ')
  assert.deepEqual(kinds(), ['duck', 'restore', 'interrupt', 'respond'])
  assert.deepEqual(decisions[2], { kind: 'interrupt', itemId: 'item_iie', voicedMs: 300, reason: 'words', text: 'いいえ', at: decisions[2]!.at })
})

test('after a real utterance while the assistant is silent, respond exactly once', () => {
  const { turn, frames, kinds, decisions } = rig()
  frames(500, LINE_DBFS)
  turn.speechStarted('item_q')
  frames(2000, SPEECH_DBFS)
  frames(500, LINE_DBFS)
  turn.speechStopped('item_q')
  turn.speechStopped('item_q') // a duplicate stop changes nothing
  turn.callerTranscript('item_q', 'あしたの午後三時に予約をお願いしたいのですが')
  frames(3000, LINE_DBFS)
  assert.deepEqual(kinds(), ['respond'])
  assert.equal(decisions[0]?.kind === 'respond' && decisions[0].itemId, 'item_q')
  // The response is under way: the caller's next words over it are judged as over the assistant.
  turn.assistantSpeaking(true)
  turn.speechStarted('item_hai2')
  frames(200, SPEECH_DBFS)
  turn.speechStopped('item_hai2')
  turn.callerTranscript('item_hai2', 'はい')
  assert.deepEqual(kinds(), ['respond', 'duck', 'restore', 'backchannel'])
})

test('「はい」 answering the assistant (said while it was silent) is answered', () => {
  const { turn, frames, kinds } = rig()
  turn.speechStarted('item_yes')
  frames(160, SPEECH_DBFS) // shorter than minUtteranceMs: waits for its words
  frames(500, LINE_DBFS)
  turn.speechStopped('item_yes')
  assert.deepEqual(kinds(), [])
  turn.callerTranscript('item_yes', 'はい')
  assert.deepEqual(kinds(), ['respond'])
})

test('a short sound without words while the assistant is silent is noise once its transcript is late', () => {
  const { turn, frames, kinds } = rig()
  turn.speechStarted('item_cough')
  frames(120, SPEECH_DBFS)
  turn.speechStopped('item_cough')
  frames(TURN_PROFILES.standard.transcriptWaitMs - FRAME_MS, LINE_DBFS)
  assert.deepEqual(kinds(), [], 'still waiting for its transcript')
  frames(FRAME_MS * 2, LINE_DBFS)
  assert.deepEqual(kinds(), ['noise'])
  turn.callerTranscript('item_cough', 'ゴホッ')
  assert.deepEqual(kinds(), ['noise'], 'a late transcript changes nothing')
})

test('without input transcription a short sound is decided at speech stop', () => {
  const { turn, frames, kinds } = rig(TURN_PROFILES.standard, false)
  turn.assistantSpeaking(true)
  turn.speechStarted('item_un')
  frames(200, SPEECH_DBFS)
  turn.speechStopped('item_un')
  assert.deepEqual(kinds(), ['duck', 'restore', 'backchannel'])
})

test('a steady hum on the line does not count as voiced speech once the floor has learnt it', () => {
  const { turn, frames, kinds } = rig()
  frames(20000, -40) // a loud hum: at first above -45 dBFS and the floor
  turn.assistantSpeaking(true)
  turn.speechStarted('item_hum')
  frames(1000, -40)
  assert.deepEqual(kinds(), ['duck'], 'the hum alone does not interrupt')
  frames(BARGE_IN(), -18)
  assert.deepEqual(kinds(), ['duck', 'interrupt'], 'speech above the hum does')
})

function BARGE_IN (): number { return TURN_PROFILES.standard.bargeInMinMs }

test('the patient profile holds longer aizuchi that the standard one takes as interruptions', () => {
  const say = (profile = TURN_PROFILES.standard): string[] => {
    const { turn, frames, kinds } = rig(profile)
    turn.assistantSpeaking(true)
    turn.speechStarted('item_sou')
    frames(500, SPEECH_DBFS)
    turn.speechStopped('item_sou')
    turn.callerTranscript('item_sou', 'そうですねー')
    return kinds()
  }
  assert.deepEqual(say(), ['duck', 'interrupt', 'respond'])
  assert.deepEqual(say(TURN_PROFILES.patient), ['duck', 'restore', 'backchannel'])
})

test('backchannels: Japanese aizuchi and repeats match; real requests do not; users add words', () => {
  const b = new Backchannels()
  for (const t of ['はい', 'はい、はい', 'ハーイ', 'ええ', 'うんうん', 'なるほど。', 'そうですね', 'へぇー', 'Uh-huh.', 'はいはいはい']) assert.ok(b.has(t), t)
  for (const t of ['', 'いいえ', 'はい、お願いします', '待って', 'もしもし', 'ちょっと']) assert.ok(!b.has(t), t)
  assert.ok(!b.has('さようでございますか'))
  const extended = new Backchannels(parseWordList('さようでございますか、ごもっとも, おっしゃるとおり'))
  assert.ok(extended.has('さようでございますか'))
  assert.ok(extended.has('ごもっとも、ごもっとも'))
  assert.ok(extended.has('おっしゃるとおり'))
})
