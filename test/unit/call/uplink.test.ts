import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CallerUplink, CALLER_BURST_MS } from '../../../lib/call/uplink.js'
import { StubEngine } from '../../helpers/call-rig.js'

const FRAME_16K = new Uint8Array(640) // 20 ms at 16 kHz

test(`caller audio passes at real time plus a ${CALLER_BURST_MS} ms burst; the excess is dropped and counted`, () => {
  const engine = new StubEngine()
  const up = new CallerUplink(engine, 16000)
  // 30 s of audio pushed in one instant (the clock does not move).
  for (let i = 0; i < 1500; i++) up.push(FRAME_16K, 1000, true)
  up.flush()
  assert.equal(up.receivedMs, 30_000)
  assert.equal(engine.appended / 48, CALLER_BURST_MS, 'only the burst reached the engine (24 kHz bytes → ms)')
  assert.equal(up.overRateMs, 30_000 - CALLER_BURST_MS)
})

test('audio at real time is never dropped, and goes out as one append per flush', () => {
  const engine = new StubEngine()
  const up = new CallerUplink(engine, 16000)
  let appends = 0
  const append = engine.appendAudio.bind(engine)
  engine.appendAudio = (pcm) => { appends++; append(pcm) }
  for (let i = 0; i < 500; i++) {
    up.push(FRAME_16K, i * 20, true)
    if (i % 2 === 1) up.flush() // a beat every 40 ms here
  }
  up.flush()
  assert.equal(up.overRateMs, 0)
  assert.equal(engine.appended, 500 * 960, '10 s at 24 kHz')
  assert.equal(appends, 250)
})

test('audio is counted but not forwarded while the engine cannot take it', () => {
  const engine = new StubEngine()
  const up = new CallerUplink(engine, 8000)
  up.push(new Uint8Array(320), 0, false)
  up.flush()
  assert.equal(engine.appended, 0)
  assert.equal(up.receivedMs, 20)
})
