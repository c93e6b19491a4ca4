import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { assistantPcm24k, callerPcm16k } from '../helpers/call-rig.js'
import { spawnServer, answer, dial, request, logLines, type ServerStats } from '../helpers/process.js'

const CALLS = Number(process.env.LEAK_TEST_CALLS ?? 1000)
const AT_ONCE = 10

test(`${CALLS} short calls leave the server's heap, handles and sockets as they were`, async (t) => {
  // A 100 ms greeting: each call hears it, says a few frames, and hangs up.
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 2400) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, LOG_LEVEL: 'warn', MAX_CONCURRENT_CALLS: '100', ANSWER_RATE_LIMIT_PER_MINUTE: '100000' }, { introspect: true })
  const frame = Buffer.from(callerPcm16k.buffer, callerPcm16k.byteOffset, 640)

  const oneCall = async (): Promise<void> => {
    const client = await dial(srv.port, await answer(srv.url))
    for (let i = 0; i < 3; i++) client.sendRaw(frame)
    await waitFor(() => client.frames.length >= 5, 10_000, 'greeting')
    await client.close()
  }
  const calls = async (n: number): Promise<void> => {
    for (let done = 0; done < n; done += AT_ONCE) await Promise.all(Array.from({ length: Math.min(AT_ONCE, n - done) }, oneCall))
  }
  /**
   * Every call gone. With a baseline, also waits until no kind of handle is above it: the upstream
   * sockets' 100 ms close-grace timers and half-closed sockets run out, a leak never does (after 5 s
   * the assertions below name it). Without one the baseline may keep a few of the last calls' grace
   * timers, a slack of at most AT_ONCE against CALLS calls.
   */
  const settled = async (baseline?: ServerStats): Promise<ServerStats> => {
    await waitFor(() => fake.connections.every(c => c.closedAt !== null), 10_000, 'every model socket closed')
    let live = -1
    for (let i = 0; i < 200 && live !== 0; i++) {
      live = (await request(srv.url, 'GET', '/health')).json.calls as number
      if (live !== 0) await new Promise(resolve => setTimeout(resolve, 50))
    }
    assert.equal(live, 0, 'no call left in the registry')
    const deadline = Date.now() + 5000
    for (;;) {
      const stats = await srv.stats()
      if (baseline === undefined || Date.now() > deadline) return stats
      if (Object.entries(stats.resources).every(([kind, n]) => n <= (baseline.resources[kind] ?? 0))) return stats
    }
  }

  // Warm up first: JIT, pools and lazily loaded modules are not leaks.
  await calls(50)
  const before = await settled()
  assert.ok(before.gc, 'the server runs with --expose-gc')
  await calls(CALLS)
  const after = await settled(before)
  t.diagnostic(`heap ${(before.heapUsed / 2 ** 20).toFixed(2)} → ${(after.heapUsed / 2 ** 20).toFixed(2)} MiB, rss ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB, handles ${JSON.stringify(before.resources)} → ${JSON.stringify(after.resources)}`)

  assert.equal(fake.connections.length, CALLS + 50, 'one model socket per call')
  const growth = after.heapUsed - before.heapUsed
  // A session holds tens of KiB (buffers, resampler history, maps): 1,000 kept ones would be tens of MiB.
  assert.ok(growth < 3 * 2 ** 20, `heap grew by ${(growth / 2 ** 20).toFixed(2)} MiB over ${CALLS} calls (< 3 MiB, i.e. < 3 KiB a call)`)
  const sockets = (s: ServerStats): number => s.resources.TCPSocketWrap ?? 0
  assert.ok(sockets(after) <= sockets(before), `sockets: ${sockets(before)} → ${sockets(after)}`)
  assert.ok((after.resources.Timeout ?? 0) <= (before.resources.Timeout ?? 0), `timers: ${before.resources.Timeout ?? 0} → ${after.resources.Timeout ?? 0}`)
  for (const kind of Object.keys(after.resources)) {
    assert.ok(after.resources[kind]! <= (before.resources[kind] ?? 0), `${kind}: ${before.resources[kind] ?? 0} → ${after.resources[kind]}`)
  }
  const problems = logLines(srv.output()).filter(l => (l.level as number) >= 50)
  assert.deepEqual(problems, [], 'no error logged')
})
