import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { startFlags } from '../../fakes/start-flags.js'

const run = promisify(execFile)
const TUNING = pathToFileURL(resolve('lib/live/heap-tuning.ts')).href

/**
 * A process with the server's node flags tunes its heap for `engine`, then
 * keeps objects from two allocation sites alive long enough for V8 to judge
 * them; --trace-pretenuring-statistics prints what V8 decided, if it decided.
 */
async function pretenuringTrace (engine: 'realtime' | 'live'): Promise<{ set: string, trace: string }> {
  const script = `
    const { tuneHeapFor } = await import(${JSON.stringify(TUNING)})
    console.log('set:' + tuneHeapFor(${JSON.stringify(engine)}).join(','))
    const keep = []
    const make = (i) => ({ a: i, b: [i, i + 1] })
    for (let r = 0; r < 400; r++) {
      for (let i = 0; i < 20000; i++) keep.push(make(i))
      if (keep.length > 400000) keep.length = 0
    }`
  const { stdout } = await run(process.execPath, [...startFlags(), '--trace-pretenuring-statistics', '--import', 'tsx', '--input-type=module', '-e', script], { maxBuffer: 16 * 1024 * 1024 })
  const set = /^set:(.*)$/m.exec(stdout)?.[1] ?? '(not printed)'
  return { set, trace: stdout }
}

test('GPT-Live turns V8\'s pretenuring off for the process; the Realtime engine leaves it on', async () => {
  const realtime = await pretenuringTrace('realtime')
  assert.equal(realtime.set, '')
  assert.match(realtime.trace, /pretenuring: /, 'V8 judges allocation sites as it does by default')
  const live = await pretenuringTrace('live')
  assert.equal(live.set, '--no-allocation-site-pretenuring')
  assert.doesNotMatch(live.trace, /pretenuring: /, 'no allocation site is judged, so none is tenured')
})
