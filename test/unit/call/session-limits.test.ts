import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { CallSession, CALLER_SILENCE_MS, TIME_UP_INSTRUCTIONS, type SessionOptions } from '../../../lib/call/session.js'
import type { CallStats } from '../../../lib/call/stats.js'
import { Pacer } from '../../../lib/call/pacer.js'
import { CallRegistry } from '../../../lib/call/registry.js'
import { StubEngine, StubMedia } from '../../helpers/call-rig.js'

interface Line { level: string, obj: Record<string, unknown>, msg?: string }

function quietLog (): SessionOptions['log'] & { lines: Line[] } {
  const lines: Line[] = []
  const at = (level: string) => (obj: object, msg?: string): void => { lines.push({ level, obj: obj as Record<string, unknown>, msg }) }
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as never
}

function session (t: TestContext, o: Partial<SessionOptions> = {}): { s: CallSession, engine: StubEngine, log: ReturnType<typeof quietLog>, ended: Promise<CallStats> } {
  const engine = new StubEngine()
  const log = quietLog()
  const s = new CallSession({ id: 'c1', call: { direction: 'inbound', from: '818012345678' }, rate: 16000, leadMs: 100, engine, pacer: new Pacer(), log, apology: new Int16Array(2400).fill(3000), greetEarly: false, mediaWaitMs: 60_000, maxCallMs: 1_800_000, ...o })
  t.after(() => s.end('shutdown'))
  const ended = once(s, 'end').then(([stats]) => stats as CallStats)
  return { s, engine, log, ended }
}

const responses = (e: StubEngine): number => e.calls.filter(c => c.method === 'startResponse').length

test('greetEarly=false: the engine is connected at once, the greeting is asked for only when the media socket attaches', async (t) => {
  const { s, engine } = session(t, { greetEarly: false })
  assert.deepEqual(engine.calls.map(c => c.method), ['connect'])
  s.attachMedia(new StubMedia())
  assert.equal(responses(engine), 1)
})

test('greetEarly=true: the greeting is asked for with the connection, once', async (t) => {
  const { s, engine } = session(t, { greetEarly: true })
  assert.deepEqual(engine.calls.map(c => c.method), ['connect', 'startResponse'])
  s.attachMedia(new StubMedia())
  assert.equal(responses(engine), 1)
})

test('a prepared call whose media never comes ends (no-media) with a warning, and its engine is closed', async (t) => {
  const { engine, log, ended } = session(t, { mediaWaitMs: 30 })
  const stats = await ended
  assert.equal(stats.reason, 'no-media')
  assert.equal(engine.closed, true)
  assert.ok(log.lines.some(l => l.level === 'warn' && l.msg === 'no media socket came for the prepared call: ending it'))
})

test(`no caller frame for ${CALLER_SILENCE_MS} ms ends the call cleanly (caller-silent), with a log line`, async (t) => {
  const { s, log, ended } = session(t)
  const media = new StubMedia()
  s.attachMedia(media)
  const start = performance.now()
  s.onMediaMessage(Buffer.alloc(640), true)
  s.tick(start + CALLER_SILENCE_MS - 100)
  assert.equal(s.ended, false, 'still up just before the limit')
  s.tick(performance.now() + CALLER_SILENCE_MS + 1)
  const stats = await ended
  assert.equal(stats.reason, 'caller-silent')
  assert.deepEqual(media.closed, [1000, 'caller-silent'])
  assert.ok(log.lines.some(l => l.level === 'warn' && l.msg === 'no caller audio: ending the call'))
})

test('a call longer than MAX_CALL_SECONDS: the model says goodbye, then the call ends cleanly (max-duration), with a log line', async (t) => {
  const { s, engine, log, ended } = session(t, { maxCallMs: 5000 })
  const media = new StubMedia()
  s.attachMedia(media)
  engine.emit('response-started', { responseId: 'greeting' })
  engine.emit('response-done', { responseId: 'greeting', status: 'completed', reason: '', spoke: true, usage: null })
  s.onMediaMessage(Buffer.alloc(640), true)
  s.tick(performance.now() + 4000)
  assert.equal(s.ended, false)
  s.onMediaMessage(Buffer.alloc(640), true)
  s.tick(performance.now() + 5001)
  const goodbye = engine.calls.filter(c => c.method === 'startResponse').at(-1)!
  assert.deepEqual(goodbye.args, [{ instructions: TIME_UP_INSTRUCTIONS }])
  assert.equal(s.ended, false, 'the line stays open for the goodbye')
  engine.emit('response-started', { responseId: 'bye' })
  engine.emit('response-done', { responseId: 'bye', status: 'completed', reason: '', spoke: true, usage: null })
  assert.equal((await ended).reason, 'max-duration')
  assert.deepEqual(media.closed, [1000, 'max-duration'])
  assert.ok(log.lines.some(l => l.msg === 'the call reached MAX_CALL_SECONDS: ending it'))
})

test('an engine failure: the apology plays in place of the answer, then the call ends with the cause in stats and one error line', async (t) => {
  const { s, engine, log, ended } = session(t)
  const media = new StubMedia()
  s.attachMedia(media)
  engine.emit('failed', { cause: 'config-refused', detail: 'the model refused session.update (invalid_value: Invalid voice)' })
  // The 100 ms apology: the pacer's beats pump it out, then the call ends.
  const stats = await ended
  assert.equal(stats.reason, 'upstream-failed')
  assert.equal(stats.upstreamFailure, 'config-refused')
  assert.ok(media.frames.length >= 5, `apology frames sent (${media.frames.length})`)
  const errors = log.lines.filter(l => l.level === 'error')
  assert.equal(errors.length, 1)
  assert.match(String(errors[0]!.obj.detail), /Invalid voice/)
  assert.equal(errors[0]!.obj.cause, 'config-refused')
})

test('malformed caller messages are counted, and logged once per call at warn with no stack', async (t) => {
  const { s, log, ended } = session(t)
  s.attachMedia(new StubMedia())
  s.onMediaMessage(Buffer.from('not json'), false)
  s.onMediaMessage(Buffer.alloc(641), true)
  s.onMediaMessage(Buffer.from('{"event":"nope"}'), false)
  s.onMediaMessage(Buffer.alloc(0), true)
  s.end('caller-hangup')
  assert.equal((await ended).droppedFrames, 4)
  const warned = log.lines.filter(l => l.msg === 'malformed caller message dropped (further ones are only counted)')
  assert.equal(warned.length, 1)
  assert.equal(warned[0]!.level, 'warn')
  assert.ok(!('err' in warned[0]!.obj) && !('stack' in warned[0]!.obj))
})

test('shutdown drain: prepared calls (no media) are ended at once and never hold the drain up', { timeout: 10_000 }, async (t) => {
  const registry = new CallRegistry(10)
  const prepared = session(t, { id: 'prepared' })
  registry.add(prepared.s)
  prepared.s.once('end', () => registry.delete('prepared'))
  // A drain of 10 minutes would outlast this test's timeout if the prepared call held it.
  const cut = await registry.drain(600_000)
  assert.equal(cut, 0)
  assert.equal((await prepared.ended).reason, 'shutdown')
})
