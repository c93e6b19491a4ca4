import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { startFakeRealtime, waitFor } from '../fakes/realtime-server.js'
import { spawnServer, answer, dial } from '../helpers/process.js'
import { freePort } from '../fakes/server-process.js'
import { startFlags } from '../fakes/start-flags.js'
import { assistantPcm24k } from '../helpers/call-rig.js'

/** Runs the built server until it exits; returns its code and everything it wrote. */
async function runToExit (env: Record<string, string>): Promise<{ code: number | null, out: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'bridge-'))
  const child = spawn(process.execPath, [...startFlags(), resolve('dist/server.js')], {
    cwd,
    env: { PATH: process.env.PATH, ENV_FILE: join(cwd, '.env'), OPENAI_API_KEY: 'sk-test-port-0123456789', MODEL_CHECK: 'off', METRICS_PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, out }
}

async function occupiedPort (t: { after: (fn: () => Promise<void>) => void }): Promise<number> {
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  t.after(async () => { await new Promise<void>(resolve => holder.close(() => resolve())) })
  return (holder.address() as { port: number }).port
}

test('a PORT in use: exit 1 with the setting to change, no "fatal error" and no shutdown story', async (t) => {
  const port = await occupiedPort(t)
  const { code, out } = await runToExit({ PORT: String(port) })
  assert.equal(code, 1)
  assert.match(out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use — change PORT`))
  assert.match(out, /PORT を別の番号に変える/)
  assert.doesNotMatch(out, /fatal error|waiting for calls|shutting down/)
})

test('a HOST that is not this machine\'s: exit 1 naming HOST', async () => {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
  const { code, out } = await runToExit({ PORT: String(await freePort()), HOST: '192.0.2.1' })
  assert.equal(code, 1)
  assert.match(out, /192\.0\.2\.1 is not an address of this machine — change HOST/)
  assert.doesNotMatch(out, /fatal error|waiting for calls/)
})

test('a METRICS_PORT in use: exit 1 naming METRICS_PORT', async (t) => {
  const port = await occupiedPort(t)
  const { code, out } = await runToExit({ PORT: String(await freePort()), METRICS_PORT: String(port) })
  assert.equal(code, 1)
  assert.match(out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use — change METRICS_PORT`))
  assert.doesNotMatch(out, /fatal error|Server listening/)
})

test('Ctrl-C during a call: the first says (ja + en) that a second exits now, and the second does', async (t) => {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 2) })
  t.after(() => fake.close())
  const srv = await spawnServer(t, { OPENAI_BASE_URL: fake.baseUrl, SHUTDOWN_DRAIN_SECONDS: '600' })
  const client = await dial(srv.port, await answer(srv.url))
  t.after(() => client.close())
  await waitFor(() => client.frames.length >= 10, 10_000, 'the call talking')
  srv.child.kill('SIGINT')
  await waitFor(() => srv.output().includes('press Ctrl-C again to exit now'), 5000, 'the first Ctrl-C explained')
  assert.match(srv.output(), /もう一度 Ctrl-C で今すぐ終了します/)
  assert.equal(srv.child.exitCode, null, 'still draining the call (600 s)')
  srv.child.kill('SIGINT')
  const code = await srv.exited
  assert.equal(code, 1)
  assert.match(srv.output(), /second SIGINT: exiting now/)
})
