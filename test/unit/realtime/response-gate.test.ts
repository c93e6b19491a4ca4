import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ResponseGate } from '../../../lib/realtime/response-gate.js'
import { StubEngine } from '../../helpers/call-rig.js'

const starts = (e: StubEngine): unknown[] => e.calls.filter(c => c.method === 'startResponse').map(c => c.args[0])

test('a filler (requestAside) goes through while tools hold the gate, without tools; the tool\'s answer waits for it', () => {
  const engine = new StubEngine()
  const gate = new ResponseGate(engine)
  const held: boolean[] = []
  gate.onHold = (h) => held.push(h)
  gate.hold()
  gate.hold()
  void gate.requestResponse()
  assert.deepEqual(starts(engine), [], 'held: nothing asked')
  assert.equal(gate.requestAside('少々お待ちください'), true)
  assert.deepEqual(starts(engine), [{ instructions: '少々お待ちください', noTools: true }])
  assert.equal(gate.requestAside('again'), false, 'one at a time')
  engine.emit('response-started', { responseId: 'r_filler' })
  gate.release()
  gate.release()
  assert.deepEqual(held, [true, false], 'told once when held, once when let go')
  assert.equal(starts(engine).length, 1, 'the answer waits for the filler')
  engine.emit('response-done', { responseId: 'r_filler', status: 'completed', reason: '', spoke: true, usage: null })
  assert.deepEqual(starts(engine), [{ instructions: '少々お待ちください', noTools: true }, undefined])
})

test('a filler refused because another response got in first is dropped, not asked again', () => {
  const engine = new StubEngine()
  const gate = new ResponseGate(engine)
  assert.equal(gate.requestAside('少々お待ちください'), true)
  engine.emit('response-refused', { busy: true })
  engine.emit('response-done', { responseId: 'r_other', status: 'completed', reason: '', spoke: true, usage: null })
  assert.equal(starts(engine).length, 1, 'no second response.create')
  assert.equal(gate.active, false)
})
