import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Tape } from '../../../lib/recording/tape.js'
import { parseRange } from '../../../lib/recording/range.js'

const RATE = 8000
const FRAME = 160

/** A tape on a clock the test moves; what it writes, joined, as [caller, assistant] sample arrays. */
function rig (leadMs = 100): { tape: Tape, clock: { now: number }, tracks: () => [Int16Array, Int16Array] } {
  const clock = { now: 0 }
  const out: Buffer[] = []
  const tape = new Tape(RATE, (pcm) => out.push(Buffer.from(pcm)), leadMs, () => clock.now)
  return {
    tape,
    clock,
    tracks: () => {
      const all = Buffer.concat(out)
      const s = new Int16Array(all.buffer, all.byteOffset, all.length >> 1)
      const left = new Int16Array(s.length / 2)
      const right = new Int16Array(s.length / 2)
      for (let i = 0; i < left.length; i++) { left[i] = s[2 * i]!; right[i] = s[2 * i + 1]! }
      return [left, right]
    }
  }
}

const frame = (value: number, samples = FRAME): Uint8Array => new Uint8Array(new Int16Array(samples).fill(value).buffer)

test('tape: the caller left, the assistant right where it plays, silence in between, as long as the call', () => {
  const { tape, clock, tracks } = rig()
  // 3 s: the caller speaks (value 1) every frame; the assistant's frames (value 2) play from 1 s to 2 s.
  for (let ms = 0; ms < 3000; ms += 20) {
    clock.now = ms
    tape.caller(frame(1), RATE, ms)
    if (ms >= 900 && ms < 1900) tape.assistant(frame(2), RATE, ms + 100)
  }
  tape.end(3000)
  const [left, right] = tracks()
  assert.equal(left.length, 3 * RATE, 'as long as the call')
  assert.ok(left.every(v => v === 1), 'the caller, all along')
  const at = (ms: number): number => right[ms * RATE / 1000]!
  assert.equal(at(990), 0)
  assert.equal(at(1000), 2, 'the assistant from where it plays')
  assert.equal(at(1990), 2)
  assert.equal(at(2000), 0, 'silence after it')
})

test('tape: a clear silences what was sent but not yet played, not what was heard', () => {
  const { tape, clock, tracks } = rig(400)
  for (let ms = 0; ms < 2000; ms += 20) {
    clock.now = ms
    tape.caller(frame(1), RATE, ms)
    // 400 ms ahead (a long PLAYBACK_LEAD_MS): at the clear, 400 ms are queued at Vonage.
    if (ms < 1000) tape.assistant(frame(2), RATE, ms + 400)
    if (ms === 1000) tape.cleared(ms)
  }
  tape.end(2000)
  const [, right] = tracks()
  const at = (ms: number): number => right[ms * RATE / 1000]!
  assert.equal(at(399), 0)
  assert.equal(at(400), 2)
  assert.equal(at(999), 2, 'heard up to the interruption')
  assert.equal(at(1000), 0, 'silent from the interruption on')
  assert.equal(at(1390), 0, 'what was queued at Vonage was never heard')
})

test('tape: caller frames that stop coming leave silence, and the caller is placed by the clock again', () => {
  const { tape, clock, tracks } = rig()
  for (let ms = 0; ms < 1000; ms += 20) { clock.now = ms; tape.caller(frame(1), RATE, ms) }
  // Nothing for 2 s (a network stall), then frames again at 3 s.
  for (let ms = 3000; ms < 4000; ms += 20) { clock.now = ms; tape.caller(frame(3), RATE, ms) }
  tape.end(4000)
  const [left] = tracks()
  assert.equal(left.length, 4 * RATE)
  assert.equal(left[Math.floor(0.99 * RATE)], 1)
  assert.equal(left[2 * RATE], 0, 'the stall is silence')
  // Placed back on the clock (within one frame): the frames after the stall are where they arrived.
  const firstAfter = left.findIndex((v, i) => i > RATE && v === 3)
  assert.ok(Math.abs(firstAfter - (3 * RATE - FRAME)) <= FRAME, `at ${firstAfter / RATE} s`)
})

test('tape: a call whose rate changes after its first frames (Vonage chose 16 kHz) is still recorded at the tape\'s rate', () => {
  const { tape, clock, tracks } = rig()
  for (let ms = 0; ms < 1000; ms += 20) { clock.now = ms; tape.caller(frame(5, 320), 16000, ms) }
  tape.end(1000)
  const [left] = tracks()
  assert.equal(left.length, RATE)
  assert.ok(left.subarray(FRAME, RATE - FRAME).every(v => v === 5))
})

test('tape: nothing heard, nothing written', () => {
  const { tape, tracks } = rig()
  tape.end(5000)
  assert.equal(tracks()[0].length, 0)
  assert.equal(tape.written, 0)
})

test('Range headers: one range, open-ended and suffix ranges; past the end unsatisfiable; anything else means the whole body', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), [0, 99])
  assert.deepEqual(parseRange('bytes=900-', 1000), [900, 999])
  assert.deepEqual(parseRange('bytes=900-5000', 1000), [900, 999])
  assert.deepEqual(parseRange('bytes=-100', 1000), [900, 999])
  assert.deepEqual(parseRange('bytes=-5000', 1000), [0, 999])
  assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable')
  assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable')
  assert.equal(parseRange(undefined, 1000), null)
  assert.equal(parseRange('bytes=0-1,5-6', 1000), null)
  assert.equal(parseRange('items=0-1', 1000), null)
  assert.equal(parseRange('bytes=5-1', 1000), null)
})

test('tape: frames that start at an odd byte offset (a slice of a WebSocket read) are recorded like any other', () => {
  const { tape, clock, tracks } = rig()
  for (let ms = 0; ms < 1000; ms += 20) {
    clock.now = ms
    // One byte in front: the frame's samples start at an odd offset of their buffer.
    const odd = new Uint8Array(FRAME * 2 + 1)
    odd.set(frame(3), 1)
    tape.caller(odd.subarray(1), RATE, ms)
    const oddAssistant = new Uint8Array(FRAME * 2 + 1)
    oddAssistant.set(frame(4), 1)
    tape.assistant(oddAssistant.subarray(1), RATE, ms)
  }
  tape.end(1000)
  const [left, right] = tracks()
  assert.equal(left.length, RATE)
  assert.ok(left.every(v => v === 3), 'the caller, every sample')
  assert.ok(right.every(v => v === 4), 'the assistant, every sample')
})
