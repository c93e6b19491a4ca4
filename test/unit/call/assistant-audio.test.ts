import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AssistantAudio, STREAM_CUSHION_MS } from '../../../lib/call/assistant-audio.js'
import type { MediaChannel } from '../../../lib/call/media-channel.js'
import { CallCounters } from '../../../lib/call/stats.js'

const LEAD_MS = 100
const DELTA_MS = 100

/** Vonage's side as the bench's callers model it: a frame that finds the buffer dry in the middle of a stream is a gap the caller hears. */
class Listener {
  frames = 0
  gaps = 0
  #playEnd = -1
  heard (t: number): void {
    if (this.#playEnd >= 0 && t > this.#playEnd) this.gaps++
    this.#playEnd = Math.max(this.#playEnd, t) + 20
    this.frames++
  }
}

function line (streaming: boolean): { audio: AssistantAudio, listener: Listener, at: { now: number } } {
  const listener = new Listener()
  const at = { now: 0 }
  const media = { bufferedAmount: 0, sendFrame: () => listener.heard(at.now), clear: () => {} } as unknown as MediaChannel
  const audio = new AssistantAudio({}, 16000, LEAD_MS, new CallCounters(), 16000, streaming)
  audio.attach(media, 0)
  return { audio, listener, at }
}

/** A real-time stream: a DELTA_MS delta due every DELTA_MS, each arriving `lateMs(k)` after it was due; the pacer beats every 20 ms. */
function stream (streaming: boolean, deltas: number, lateMs: (k: number) => number): Listener {
  const { audio, listener, at } = line(streaming)
  const arrivals = Array.from({ length: deltas }, (_, k) => k * DELTA_MS + lateMs(k))
  let next = 0
  for (let t = 0; t <= deltas * DELTA_MS + 500; t++) {
    at.now = t
    while (next < deltas && arrivals[next]! <= t) {
      audio.playout.push('item', new Int16Array(16 * DELTA_MS).fill(1000))
      audio.pump(t)
      next++
    }
    if (t % 20 === 0) audio.pump(t)
  }
  return listener
}

test('a streaming engine\'s audio on a silent line waits STREAM_CUSHION_MS, then the lead goes at once', () => {
  const { audio, listener, at } = line(true)
  audio.playout.push('item', new Int16Array(16 * 200).fill(1000))
  for (const t of [0, 20, 40, STREAM_CUSHION_MS - 1]) {
    at.now = t
    assert.equal(audio.pump(t), true, 'still playing (gathering)')
    assert.equal(listener.frames, 0, `nothing sent at ${t} ms`)
  }
  at.now = STREAM_CUSHION_MS
  audio.pump(STREAM_CUSHION_MS)
  assert.equal(listener.frames, LEAD_MS / 20)
})

test('the cushion absorbs deltas up to that late: no gap in 10 s of a wobbling real-time stream', () => {
  const wobble = (k: number): number => (k * 37) % (STREAM_CUSHION_MS - 5)
  const cushioned = stream(true, 100, wobble)
  assert.equal(cushioned.frames, 100 * DELTA_MS / 20)
  assert.equal(cushioned.gaps, 0)
  // The same stream sent on as it arrives (no cushion) leaves the caller gaps: what the cushion is for.
  const plain = stream(false, 100, wobble)
  assert.ok(plain.gaps >= 10, `${plain.gaps} gaps`)
})

test('after a gap the line gathers the cushion again, and a realtime engine\'s audio is never held', () => {
  const { audio, listener, at } = line(true)
  audio.playout.push('item', new Int16Array(16 * 40).fill(1000))
  for (let t = 0; t <= 400; t += 20) { at.now = t; audio.pump(t) }
  assert.equal(listener.frames, 2)
  audio.playout.push('item', new Int16Array(16 * 40).fill(1000))
  at.now = 400
  audio.pump(400)
  assert.equal(listener.frames, 2, 'held again on the silent line')
  at.now = 400 + STREAM_CUSHION_MS
  audio.pump(at.now)
  assert.equal(listener.frames, 4)

  const realtime = line(false)
  realtime.audio.playout.push('item', new Int16Array(16 * 40).fill(1000))
  realtime.audio.pump(0)
  assert.equal(realtime.listener.frames, 2)
})
