import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { callerPcm16k, assistantPcm24k } from '../helpers/call-rig.js'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { spawnServer, answer, dial, request, logLines } from '../helpers/process.js'

/** The history as the console reads it (a browser on the server's own machine needs no key). */
async function listed (base: string, id: string): Promise<{ endedAt: string | null, outcome: string | null } | undefined> {
  const res = await request(base, 'GET', '/api/calls?limit=100')
  assert.equal(res.status, 200, `GET /api/calls: ${res.status} ${res.body}`)
  return (res.json.calls as Array<{ id: string, endedAt: string | null, outcome: string | null }>).find(c => c.id === id)
}

/** What the server says when its end has been processed (and, with the store, journaled). */
const endedLine = (out: string, id: string): boolean => logLines(out).some(l => l.msg === 'call ended' && (l.call as { callId?: string }).callId === id)

test('the embedded store on a first start: a call placed at once is listed within 3 s of its end; SIGKILL right after a call ends loses it not', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'store-kill-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000) })
  t.after(() => fake.close())
  const env = { OPENAI_BASE_URL: fake.baseUrl, DATA_DIR: dataDir }

  // A first start (no database yet), and a call at once.
  const first = await spawnServer(t, env)
  const caller = await dial(first.port, await answer(first.url, { uuid: 'first-call' }))
  void caller.stream(callerPcm16k.subarray(0, 16000 * 2))
  await waitFor(() => caller.frames.length >= 10, 10_000, 'the greeting reaching the caller')
  await caller.close()
  await waitFor(() => endedLine(first.output(), 'first-call'), 5000, 'the server to end the call')
  // Polled, not slept: the end is in the history well within the 3 s the owner may wait.
  let row: Awaited<ReturnType<typeof listed>>
  const deadline = Date.now() + 3000
  while ((row = await listed(first.url, 'first-call'))?.endedAt == null) {
    assert.ok(Date.now() < deadline, 'the ended call was not listed within 3 s')
    await new Promise<void>(resolve => setImmediate(resolve))
  }
  assert.equal(row?.outcome, 'completed')

  // A second call ends, and the process is killed the moment it says so: no flush, no goodbye.
  const second = await dial(first.port, await answer(first.url, { uuid: 'killed-call' }))
  await waitFor(() => second.frames.length >= 10, 10_000, 'the second call talking')
  await second.close()
  await waitFor(() => endedLine(first.output(), 'killed-call'), 5000, 'the server to end the second call')
  first.child.kill('SIGKILL')
  await first.exited

  const again = await spawnServer(t, env)
  const kept = await listed(again.url, 'killed-call')
  assert.ok(kept !== undefined, 'the call that had ended survived the kill')
  assert.notEqual(kept.endedAt, null, 'with its end')
  assert.equal(kept.outcome, 'completed')
  assert.notEqual((await listed(again.url, 'first-call'))?.endedAt, null)
})
