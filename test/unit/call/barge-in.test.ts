import { test } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { BargeIn } from '../../../lib/call/barge-in.js'
import { Playout } from '../../../lib/call/playout.js'
import { CallCounters } from '../../../lib/call/stats.js'
import type { Cut } from '../../../lib/call/playout.js'
import { StubEngine } from '../../helpers/call-rig.js'

function rig (responding: boolean): { bargeIn: BargeIn, engine: StubEngine, playout: Playout, cuts: Array<Cut | null>, stats: CallCounters } {
  const engine = new StubEngine()
  const playout = new Playout(16000, 100)
  const cuts: Array<Cut | null> = []
  const stats = new CallCounters()
  const bargeIn = new BargeIn({ session: {}, engine, stats, playout, media: null, failed: false, responding, cut: (c) => cuts.push(c) })
  return { bargeIn, engine, playout, cuts, stats }
}

test('an interruption while the answer streams no faster than it plays (nothing queued this instant): truncated at all that was sent, the rest dropped, cancelled', () => {
  const { bargeIn, engine, playout, cuts, stats } = rig(true)
  bargeIn.onAssistantItem('resp_1', 'item_a')
  playout.push('item_a', new Int16Array(2400)) // 100 ms
  const start = performance.now() - 1000
  for (let t = start; t <= start + 400; t += 20) playout.pump(t, () => {})
  assert.equal(playout.isActive(performance.now()), false, 'everything sent has played')
  assert.equal(bargeIn.interrupt(), true)
  assert.deepEqual(engine.calls.filter(c => c.method !== 'connect').map(c => [c.method, ...c.args]), [['cancelResponse'], ['truncate', 'item_a', 100]])
  assert.deepEqual(cuts, [{ itemId: 'item_a', heardMs: 100 }])
  assert.equal(bargeIn.accepts('resp_1', 'item_a'), false, 'late audio of the cut answer never plays')
  assert.equal(stats.bargeIns, 1)
})

test('an interruption with no answer in progress cuts nothing and cancels nothing', () => {
  const { bargeIn, engine, cuts } = rig(false)
  assert.equal(bargeIn.interrupt(), false)
  assert.deepEqual(engine.calls, [])
  assert.deepEqual(cuts, [])
})
