import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IdlePrompt, ToolFiller, TOOL_FILLER_MS } from '../../../lib/call/idle-prompt.js'

const IDLE_MS = 8000

function idleRig (idleMs = IDLE_MS) {
  const said: string[] = []
  const idle = new IdlePrompt({ idleMs, onCheckIn: () => said.push('check-in'), onGoodbye: () => said.push('goodbye') })
  return { idle, said }
}

test('caller silence: one check-in after IDLE_PROMPT_SECONDS, then after a second silence a polite end, then nothing', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { idle, said } = idleRig()
  idle.assistantFinished()
  t.mock.timers.tick(IDLE_MS - 1)
  assert.deepEqual(said, [], 'not before IDLE_PROMPT_SECONDS')
  t.mock.timers.tick(1)
  assert.deepEqual(said, ['check-in'])
  // The check-in is spoken; the silence counts again from its end.
  idle.assistantStarted()
  t.mock.timers.tick(IDLE_MS * 3)
  assert.deepEqual(said, ['check-in'], 'no silence counted while the assistant speaks')
  idle.assistantFinished()
  t.mock.timers.tick(IDLE_MS)
  assert.deepEqual(said, ['check-in', 'goodbye'])
  assert.equal(idle.stage, 2)
  idle.assistantFinished()
  t.mock.timers.tick(IDLE_MS * 3)
  assert.deepEqual(said, ['check-in', 'goodbye'], 'nothing after the goodbye')
})

test('the caller answering the check-in starts over: the next silence gets a check-in again, not a goodbye', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { idle, said } = idleRig()
  idle.assistantFinished()
  t.mock.timers.tick(IDLE_MS)
  idle.assistantStarted()
  idle.assistantFinished()
  t.mock.timers.tick(IDLE_MS / 2)
  idle.callerSpoke()
  t.mock.timers.tick(IDLE_MS * 2)
  assert.deepEqual(said, ['check-in'], 'the caller spoke: no goodbye, and nothing until the assistant has answered')
  idle.assistantStarted()
  idle.assistantFinished()
  t.mock.timers.tick(IDLE_MS)
  assert.deepEqual(said, ['check-in', 'check-in'])
})

test('IDLE_PROMPT_SECONDS=0 turns the check-in off; stop() cancels a pending one', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const off = idleRig(0)
  off.idle.assistantFinished()
  t.mock.timers.tick(60_000)
  assert.deepEqual(off.said, [])
  const stopped = idleRig()
  stopped.idle.assistantFinished()
  stopped.idle.stop()
  t.mock.timers.tick(IDLE_MS * 2)
  assert.deepEqual(stopped.said, [])
})

test('a slow tool gets one filler; a quick one none; calls running together share one', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  let fillers = 0
  const filler = new ToolFiller({ onFiller: () => fillers++ })
  filler.started('call_quick')
  t.mock.timers.tick(TOOL_FILLER_MS - 1)
  filler.finished('call_quick')
  t.mock.timers.tick(TOOL_FILLER_MS * 4)
  assert.equal(fillers, 0, 'a tool that answers within TOOL_FILLER_MS gets none')

  filler.started('call_a')
  t.mock.timers.tick(500)
  filler.started('call_b')
  t.mock.timers.tick(TOOL_FILLER_MS - 500)
  assert.equal(fillers, 1, 'one filler TOOL_FILLER_MS after the first call started')
  t.mock.timers.tick(10_000)
  filler.finished('call_a')
  filler.finished('call_b')
  assert.equal(fillers, 1, 'only one, however long the calls run')

  filler.started('call_c')
  filler.stop()
  t.mock.timers.tick(TOOL_FILLER_MS * 2)
  assert.equal(fillers, 1, 'none after stop()')
})
