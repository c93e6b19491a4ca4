import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Playout } from '../../../lib/call/playout.js'

const ms24k = (ms: number): Int16Array => new Int16Array(24 * ms).fill(1000)

function run (p: Playout, from: number, to: number, sink: Buffer[]): void {
  for (let t = from; t <= to; t += 20) p.pump(t, f => sink.push(f))
}

test('keeps exactly the lead queued at Vonage: 5 frames at once, then one per beat', () => {
  const p = new Playout(16000, 100)
  p.push('A', ms24k(1000))
  const frames: Buffer[] = []
  assert.equal(p.pump(0, f => frames.push(f)), 5)
  assert.equal(p.pump(20, f => frames.push(f)), 1)
  assert.equal(p.pump(25, f => frames.push(f)), 0, 'nothing early')
  assert.equal(p.pump(50, f => frames.push(f)), 1, 'a beat 10 ms late still sends one, not two')
  assert.equal(p.queuedAtVonageMs(50), 90)
})

test('barge-in reports what the caller heard of the playing item, never more than was sent', () => {
  const p = new Playout(16000, 100)
  p.push('A', ms24k(2000))
  const frames: Buffer[] = []
  run(p, 0, 500, frames)
  // 500 ms played, 100 ms more queued at Vonage.
  assert.equal(frames.length * 20, 600)
  assert.deepEqual(p.clear(500), { itemId: 'A', heardMs: 500 })
  assert.equal(p.isActive(500), false)
  assert.equal(p.pendingMs, 0)
})

test('with two items queued, the cut names the one playing and the ms heard of it', () => {
  const p = new Playout(8000, 100)
  p.push('A', ms24k(300))
  p.markDone('A')
  p.push('B', ms24k(1000))
  const frames: Buffer[] = []
  run(p, 0, 500, frames)
  assert.deepEqual(p.clear(500), { itemId: 'B', heardMs: 200 })
})

test('a cut after everything played needs no truncation', () => {
  const p = new Playout(16000, 100)
  p.push('A', ms24k(100))
  p.markDone('A')
  run(p, 0, 40, [])
  assert.equal(p.clear(1000), null)
})

test('a partial last frame waits for more audio until the item is done, then is padded', () => {
  const p = new Playout(24000, 100)
  p.push('A', ms24k(30))
  const frames: Buffer[] = []
  run(p, 0, 100, frames)
  assert.equal(frames.length, 1)
  p.markDone('A')
  run(p, 120, 200, frames)
  assert.equal(frames.length, 2)
  const last = new Int16Array(frames[1]!.buffer, frames[1]!.byteOffset, 480)
  assert.equal(last[239], 1000)
  assert.equal(last[240], 0)
})

test('withRate keeps the queued audio for the rate Vonage asked for', () => {
  const p = new Playout(16000, 100)
  p.push('A', ms24k(200))
  p.markDone('A')
  const q = p.withRate(8000)
  const frames: Buffer[] = []
  run(q, 0, 300, frames)
  assert.equal(frames.length, 10)
  assert.ok(frames.every(f => f.length === 320))
})

test('base64 deltas come out in order, sample for sample, across items and after the queue ran dry', () => {
  const p = new Playout(24000, 100)
  let next = 0
  const delta = (samples: number): string => {
    const pcm = new Int16Array(samples)
    for (let i = 0; i < samples; i++) pcm[i] = next++
    return Buffer.from(pcm.buffer).toString('base64')
  }
  // A burst: one item's deltas back to back (one chunk in the ring), then the next item's.
  for (let i = 0; i < 7; i++) p.pushBase64('A', Buffer.from(delta(333)))
  p.markDone('A')
  for (let i = 0; i < 5; i++) p.pushBase64('B', delta(480))
  const frames: Buffer[] = []
  const collect = (t: number): void => { p.pump(t, f => frames.push(Buffer.from(f))) }
  for (let t = 0; t <= 400; t += 20) collect(t)
  // Played out: the ring starts over for the next delta, which must not join the old chunk.
  p.markDone('B')
  for (let t = 420; t <= 600; t += 20) collect(t)
  assert.equal(p.pendingMs, 0)
  p.pushBase64('C', delta(480))
  for (let t = 620; t <= 700; t += 20) collect(t)
  // A copy of its own: Buffer.concat may hand back a slice of a shared pool.
  const out = new Int16Array(new Uint8Array(Buffer.concat(frames)).buffer)
  // B follows A within a frame; B's last frame, sent when the queue ran dry, is padded with silence; then C.
  const endB = 7 * 333 + 5 * 480
  const pad = (480 - endB % 480) % 480
  assert.ok(pad > 0)
  for (let i = 0; i < endB; i++) assert.equal(out[i], i, `sample ${i}`)
  for (let i = 0; i < pad; i++) assert.equal(out[endB + i], 0)
  for (let i = endB; i < next; i++) assert.equal(out[i + pad], i, `sample ${i}`)
  assert.equal(out.length, next + pad)
})

test('a barge-in in the middle of a burst names the item playing, though its deltas share one chunk', () => {
  const p = new Playout(16000, 100)
  const d = Buffer.from(ms24k(100).buffer).toString('base64')
  for (let i = 0; i < 3; i++) p.pushBase64('A', d)
  p.markDone('A')
  for (let i = 0; i < 10; i++) p.pushBase64('B', d)
  run(p, 0, 500, [])
  // 300 ms of A played, then 200 ms of B.
  assert.deepEqual(p.clear(500), { itemId: 'B', heardMs: 200 })
  assert.equal(p.pendingMs, 0)
})
