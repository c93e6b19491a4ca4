/**
 * The BARGE_IN_MIN_MS trade-off, measured on the test audio: how much later a
 * real interruption stops the assistant, against how many false cuts (aizuchi,
 * noise bursts) disappear. Prints the markdown table of docs/turn-taking.md.
 *
 *   node --import tsx scripts/turn-trade-off.ts [path/to/caller-ja-16k.wav]
 *
 * Each sound is played alone over 1 s of line noise while the assistant is
 * speaking, through the real TurnTaker. The engine's VAD is played by a simple
 * energy detector (speech from 2 frames at or above -35 dBFS, stop after the
 * profile's silence), and the transcript arrives 700 ms after the stop. Not
 * used by the tests.
 */
import { readFileSync } from 'node:fs'
import { readWavPcm16 } from '../lib/audio/wav.js'
import { TurnTaker, frameDbfs, type TurnDecision } from '../lib/call/turn-taking.js'
import { resolveTurnProfile, type TurnProfile } from '../lib/realtime/turn-profiles.js'

const RATE = 16000
const FRAME = RATE / 50
const FRAME_MS = 20
const LEAD_MS = 2000
const TAIL_MS = 3000
const VAD_DBFS = -35
const VAD_START_FRAMES = 2
const TRANSCRIPT_LAG_MS = 700
const FADE_SAMPLES = RATE / 100
const VALUES = [0, 200, 300, 400, 500, 600, 800]
const NOISE_LEVELS = [-60, -45, -40]

interface Sound { label: 'hai' | 'burst' | 'long-aizuchi' | 'interruption', pcm: Int16Array, text: string }

/** Deterministic white noise at `dbfs` RMS (uniform, so peak = rms × √3). */
function noise (n: number, dbfs: number, seed: number): Int16Array {
  const out = new Int16Array(n)
  const amp = 32768 * 10 ** (dbfs / 20) * Math.sqrt(3)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    out[i] = Math.round(((x / 0xffffffff) * 2 - 1) * amp)
  }
  return out
}

function piece (src: Int16Array, startMs: number, ms: number): Int16Array {
  const p = src.slice(startMs * RATE / 1000, (startMs + ms) * RATE / 1000)
  for (let i = 0; i < FADE_SAMPLES && i < p.length; i++) {
    // i < p.length bounds both ends.
    p[i] = Math.round(p[i]! * i / FADE_SAMPLES)
    p[p.length - 1 - i] = Math.round(p[p.length - 1 - i]! * i / FADE_SAMPLES)
  }
  return p
}

/** Offsets (ms) where the speech has a voiced onset: a loud frame after a quieter one. */
function onsets (src: Int16Array, minGapMs: number): number[] {
  const out: number[] = []
  let prev = -100
  for (let f = 0; (f + 1) * FRAME <= src.length; f++) {
    const db = frameDbfs(src.subarray(f * FRAME, (f + 1) * FRAME))
    const ms = f * FRAME_MS
    if (db >= -22 && prev < -22 && (out.length === 0 || ms - out[out.length - 1]! >= minGapMs)) out.push(ms)
    prev = db
  }
  return out
}

/** ms from the sound's start to the first 'interrupt' (null: none). BARGE_IN_MIN_MS 0 = cut at the VAD's start, as before. */
function run (sound: Sound, noiseDbfs: number, profile: TurnProfile | null, seed: number): number | null {
  const total = (LEAD_MS + TAIL_MS) * RATE / 1000 + sound.pcm.length
  const track = noise(total, noiseDbfs, seed)
  const at = LEAD_MS * RATE / 1000
  // The track is longer than at + the sound, so every index is in range.
  for (let i = 0; i < sound.pcm.length; i++) track[at + i] = Math.max(-32768, Math.min(32767, track[at + i]! + sound.pcm[i]!))
  let now = 0
  let cut: number | null = null
  const silenceMs = (profile ?? resolveTurnProfile('standard')).silenceDurationMs
  const turn = profile === null
    ? null
    : new TurnTaker({ profile, now: () => now, decide: (d: TurnDecision) => { if (d.kind === 'interrupt' && cut === null) cut = now - LEAD_MS } })
  turn?.assistantSpeaking(true)
  let voicedRun = 0
  let silent = 0
  let speaking = false
  let transcriptAt = -1
  for (let f = 0; (f + 1) * FRAME <= track.length; f++) {
    now += FRAME_MS
    const db = frameDbfs(track.subarray(f * FRAME, (f + 1) * FRAME))
    turn?.level(db)
    voicedRun = db >= VAD_DBFS ? voicedRun + 1 : 0
    silent = db >= VAD_DBFS ? 0 : silent + FRAME_MS
    if (!speaking && voicedRun >= VAD_START_FRAMES) {
      speaking = true
      if (turn === null) { if (cut === null) cut = now - LEAD_MS } else turn.speechStarted('item')
    } else if (speaking && silent >= silenceMs) {
      speaking = false
      turn?.speechStopped('item')
      transcriptAt = now + TRANSCRIPT_LAG_MS
    }
    if (transcriptAt > 0 && now >= transcriptAt) { transcriptAt = -1; turn?.callerTranscript('item', sound.text) }
  }
  return cut
}

function main (): void {
  const file = process.argv[2] ?? new URL('../test/fixtures/audio/caller-ja-16k.wav', import.meta.url)
  const { rate, samples } = readWavPcm16(readFileSync(file))
  if (rate !== RATE) throw new Error(`expected ${RATE} Hz audio, got ${rate}`)
  const lengthMs = samples.length / RATE * 1000
  const starts = onsets(samples, 300)
  const sounds: Sound[] = []
  for (const s of starts) if (s + 250 <= lengthMs) sounds.push({ label: 'hai', pcm: piece(samples, s, 250), text: 'はい' })
  for (const s of starts) if (s + 500 <= lengthMs) sounds.push({ label: 'long-aizuchi', pcm: piece(samples, s, 500), text: 'なるほど' })
  for (const s of starts) if (s + 1500 <= lengthMs) sounds.push({ label: 'interruption', pcm: piece(samples, s, 1500), text: 'すみません、ちょっと待ってください' })
  for (const [i, db] of [-30, -25, -20, -15, -10].entries()) sounds.push({ label: 'burst', pcm: piece(noise(RATE * 0.15, db, 1000 + i), 0, 150), text: '' })
  const count = (l: Sound['label']): number => sounds.filter(s => s.label === l).length

  console.log(`| 回線ノイズ / line noise | BARGE_IN_MIN_MS | 「はい」250 ms の誤停止 / false cuts (of ${count('hai')}) | 雑音 150 ms の誤停止 / noise-burst cuts (of ${count('burst')}) | 500 ms の相づちで停止 / 500 ms aizuchi cut (of ${count('long-aizuchi')}) | 本当の割り込みで止まるまで / real interruption stops after (mean / max, ${count('interruption')}) |`)
  console.log('|---|---|---|---|---|---|')
  for (const noiseDb of NOISE_LEVELS) {
    for (const v of VALUES) {
      const profile = v === 0 ? null : resolveTurnProfile('standard', v)
      const cuts = { hai: 0, burst: 0, 'long-aizuchi': 0 }
      const stops: number[] = []
      let missed = 0
      sounds.forEach((s, i) => {
        const t = run(s, noiseDb, profile, 7 + i)
        if (s.label === 'interruption') { if (t === null) missed++; else stops.push(t) } else if (t !== null) cuts[s.label]++
      })
      const mean = stops.length === 0 ? NaN : stops.reduce((a, b) => a + b, 0) / stops.length
      const label = v === 0 ? '— (VAD の開始で停止 / cut at VAD start, as before)' : String(v)
      console.log(`| ${noiseDb} dBFS | ${label} | ${cuts.hai} | ${cuts.burst} | ${cuts['long-aizuchi']} | ${Math.round(mean)} / ${Math.max(...stops)} ms${missed > 0 ? ` (${missed} missed)` : ''} |`)
    }
  }
}

main()
