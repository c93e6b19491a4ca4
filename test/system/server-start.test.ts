import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { freePort, startServer } from '../fakes/server-process.js'
import { startFlags, dockerFlags } from '../fakes/start-flags.js'

const SERVER = resolve('dist/server.js')

test('without OPENAI_API_KEY the server exits non-zero before listening and says so', async () => {
  const port = await freePort()
  const cwd = mkdtempSync(join(tmpdir(), 'bridge-')) // no .env there
  const child = spawn(process.execPath, [SERVER], { cwd, env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [code] = await once(child, 'exit') as [number]
  assert.notEqual(code, 0)
  assert.match(stderr, /OPENAI_API_KEY is required/)
})

test('with only SERVER_URL and OPENAI_API_KEY it listens on PORT and stops on SIGTERM', async (t) => {
  const server = await startServer(t, { SERVER_URL: 'example.ngrok-free.app', OPENAI_API_KEY: 'sk-test-start-0123456789' }, { minimalEnv: true })
  const res = await fetch(`${server.url}/health`)
  assert.equal(res.status, 200)
  assert.equal((await res.json() as { status: string }).status, 'ok')
  const code = await server.stop()
  assert.equal(code, 0)
  assert.doesNotMatch(server.output(), /sk-test-start/)
  assert.doesNotMatch(server.output(), /V8 flags set for the engine/, 'the Realtime engine keeps V8\'s defaults')
})

test('with OPENAI_ENGINE=live the server tunes V8 for GPT-Live before it listens (lib/live/heap-tuning.ts)', async (t) => {
  const server = await startServer(t, { SERVER_URL: 'example.ngrok-free.app', OPENAI_API_KEY: 'sk-test-start-0123456789', OPENAI_ENGINE: 'live' }, { minimalEnv: true })
  const out = server.output()
  const tuned = out.indexOf('V8 flags set for the engine')
  assert.ok(tuned >= 0, out)
  assert.ok(tuned < out.indexOf('Server listening'), 'before the first call can arrive')
  assert.match(out, /"v8Flags":\["--no-allocation-site-pretenuring"\]/)
  assert.equal(await server.stop(), 0)
})

test('npm start and the Docker image run node with the same flags', () => {
  assert.deepEqual(dockerFlags(), startFlags())
  // Latency over throughput (README, performance): no V8 helper thread (GC, compiler) competing with the event
  // loop for its core, and room for the heap to grow so that full collections, each a pause for every call, come rarely;
  // a small young generation, so each of its collections copies little (2 MB: ≤ 2 ms, where 16 MB took up to 35 ms).
  assert.ok(startFlags().includes('--single-threaded'))
  assert.ok(startFlags().includes('--heap-growing-percent=200'))
  assert.ok(startFlags().includes('--max-semi-space-size=2'))
})
