import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { changeUrl, runChangeUrl, ChangeUrlError } from '../../../lib/vonage/change-url.js'
import { startFakeVonage, type FakeVonage } from '../../fakes/vonage-rest.js'
import { APP_ID, publicKey } from '../../helpers/keys.js'

const API_KEY = 'abcd1234'
const API_SECRET = 'account-secret-1'

/** As Vonage returns it: other capabilities and per-webhook fields must survive untouched. */
function application (): Record<string, unknown> {
  return {
    name: 'My voice bot',
    keys: { public_key: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n' },
    privacy: { improve_ai: false },
    capabilities: {
      voice: {
        webhooks: {
          answer_url: { address: 'https://old-tunnel.ngrok-free.app/incoming-call', http_method: 'GET', connect_timeout: 500, socket_timeout: 3000 },
          fallback_answer_url: { address: 'https://fallback.example.com/answer', http_method: 'GET' },
          event_url: { address: 'https://old-tunnel.ngrok-free.app/event', http_method: 'POST' }
        },
        signed_callbacks: true,
        conversations_ttl: 48,
        region: 'apac-tokyo'
      },
      messages: { webhooks: { inbound_url: { address: 'https://example.com/inbound', http_method: 'POST' } }, version: 'v1' }
    }
  }
}

async function fake (t: TestContext, apps: Record<string, Record<string, unknown>> = { [APP_ID]: application() }): Promise<FakeVonage> {
  const f = await startFakeVonage({ publicKey, applicationId: APP_ID, apiKey: API_KEY, apiSecret: API_SECRET, applications: apps })
  t.after(() => f.close())
  return f
}

const env = (over: Record<string, string> = {}): Record<string, string> => ({
  SERVER_URL: 'https://new-tunnel.ngrok-free.app/',
  VONAGE_APPLICATION_ID: APP_ID,
  VONAGE_API_KEY: API_KEY,
  VONAGE_API_SECRET: API_SECRET,
  ...over
})

test('change-url points answer and event at SERVER_URL (POST) and changes nothing else', async (t) => {
  const vonage = await fake(t)
  const result = await changeUrl(env(), { apiHost: vonage.url, source: '.env' })
  assert.equal(result.updated, true)
  assert.deepEqual(result.before.answer_url, { address: 'https://old-tunnel.ngrok-free.app/incoming-call', http_method: 'GET' })
  assert.deepEqual(result.after, {
    answer_url: { address: 'https://new-tunnel.ngrok-free.app/incoming-call', http_method: 'POST' },
    event_url: { address: 'https://new-tunnel.ngrok-free.app/event', http_method: 'POST' }
  })

  assert.deepEqual(vonage.requests.map(r => `${r.method} ${r.path}`), [`GET /v2/applications/${APP_ID}`, `PUT /v2/applications/${APP_ID}`])
  assert.ok(vonage.requests.every(r => r.auth.ok), 'Basic auth with the account key and secret')
  const expected = application()
  const webhooks = (expected.capabilities as { voice: { webhooks: Record<string, Record<string, unknown>> } }).voice.webhooks
  webhooks.answer_url = { ...webhooks.answer_url, address: 'https://new-tunnel.ngrok-free.app/incoming-call', http_method: 'POST' }
  webhooks.event_url = { address: 'https://new-tunnel.ngrok-free.app/event', http_method: 'POST' }
  assert.deepEqual(vonage.applications.get(APP_ID), { ...expected, id: APP_ID })
})

test('change-url --dry-run reads and prints but does not PUT', async (t) => {
  const vonage = await fake(t)
  const dir = mkdtempSync(join(tmpdir(), 'change-url-'))
  writeFileSync(join(dir, '.env'), Object.entries(env()).map(([k, v]) => `${k}=${v}`).join('\n'))
  const out: string[] = []
  const err: string[] = []
  const code = await runChangeUrl(['dev', '--dry-run'], { cwd: dir, env: {}, apiHost: vonage.url, out: l => out.push(l), err: l => err.push(l) })
  assert.equal(code, 0, err.join('\n'))
  assert.deepEqual(vonage.requests.map(r => r.method), ['GET'])
  assert.deepEqual(vonage.applications.get(APP_ID), application())
  assert.equal(out[0], `Vonage application "My voice bot" (${APP_ID})`)
  assert.equal(out[1], '  answer_url  GET https://old-tunnel.ngrok-free.app/incoming-call  →  POST https://new-tunnel.ngrok-free.app/incoming-call')
  assert.equal(out[2], '  event_url   POST https://old-tunnel.ngrok-free.app/event  →  POST https://new-tunnel.ngrok-free.app/event')
  assert.equal(out[3], 'Dry run: nothing was changed.')
})

test('change-url prod reads .env.production, and a second run has nothing to do', async (t) => {
  const vonage = await fake(t)
  const dir = mkdtempSync(join(tmpdir(), 'change-url-'))
  writeFileSync(join(dir, '.env'), 'SERVER_URL=dev-only.ngrok-free.app\n')
  writeFileSync(join(dir, '.env.production'), Object.entries(env({ SERVER_URL: 'myapp.fly.dev' })).map(([k, v]) => `${k}="${v}"`).join('\n'))
  const out: string[] = []
  assert.equal(await runChangeUrl(['prod'], { cwd: dir, env: {}, apiHost: vonage.url, out: l => out.push(l), err: () => {} }), 0)
  assert.equal(out.at(-1), 'Updated.')
  const stored = vonage.applications.get(APP_ID) as { capabilities: { voice: { webhooks: { answer_url: { address: string } } } } }
  assert.equal(stored.capabilities.voice.webhooks.answer_url.address, 'https://myapp.fly.dev/incoming-call')
  out.length = 0
  assert.equal(await runChangeUrl(['prod'], { cwd: dir, env: {}, apiHost: vonage.url, out: l => out.push(l), err: () => {} }), 0)
  assert.equal(out.at(-1), 'Already up to date: nothing to change.')
  assert.deepEqual(vonage.requests.map(r => r.method), ['GET', 'PUT', 'GET'])
})

test('a wrong API key or secret fails with one clear line', async (t) => {
  const vonage = await fake(t)
  await assert.rejects(changeUrl(env({ VONAGE_API_SECRET: 'wrong' }), { apiHost: vonage.url, source: '.env' }), (e: Error) => {
    assert.ok(e instanceof ChangeUrlError)
    assert.match(e.message, /^Vonage refused VONAGE_API_KEY \/ VONAGE_API_SECRET \(401 Unauthorized\) — check both in \.env/)
    assert.doesNotMatch(e.message, /\n|wrong|account-secret/)
    return true
  })
  assert.deepEqual(vonage.requests.map(r => r.method), ['GET'])
})

test('an unknown application fails with one clear line', async (t) => {
  const vonage = await fake(t, {})
  await assert.rejects(changeUrl(env(), { apiHost: vonage.url, source: '.env.production' }), (e: Error) => {
    assert.ok(e instanceof ChangeUrlError)
    assert.match(e.message, new RegExp(`^Vonage has no application ${APP_ID} in this account \\(404\\) — check VONAGE_APPLICATION_ID in \\.env\\.production`))
    return true
  })
})

test('missing settings are named, with what they are, before anything is sent', async (t) => {
  const vonage = await fake(t)
  await assert.rejects(changeUrl(env({ VONAGE_API_KEY: '', VONAGE_API_SECRET: ' ' }), { apiHost: vonage.url, source: '.env' }),
    /^ChangeUrlError: not set in \.env: VONAGE_API_KEY — Vonage account API key \(npm run change-url\); VONAGE_API_SECRET — /)
  const { SERVER_URL: _omit, ...noServer } = env()
  await assert.rejects(changeUrl(noServer, { apiHost: vonage.url, source: '.env' }), /not set in \.env: SERVER_URL/)
  await assert.rejects(changeUrl(env({ SERVER_URL: 'not a host/with spaces' }), { apiHost: vonage.url, source: '.env' }), /SERVER_URL in \.env is malformed/)
  assert.equal(vonage.requests.length, 0)
})

test('an application without Voice, a failed update and an unreachable API are explained', async (t) => {
  const vonage = await fake(t, { [APP_ID]: { name: 'SMS only', capabilities: { messages: {} } } })
  await assert.rejects(changeUrl(env(), { apiHost: vonage.url }), /has no Voice capability/)

  const v2 = await fake(t)
  v2.fail({ method: 'PUT', status: 400, title: 'Bad Request', detail: 'answer_url must be https' })
  await assert.rejects(changeUrl(env(), { apiHost: v2.url }), /^ChangeUrlError: Vonage refused the update \(400 Bad Request: answer_url must be https\)$/)

  await assert.rejects(changeUrl(env(), { apiHost: 'http://127.0.0.1:1' }), /could not reach Vonage at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/)
})

test('the command line: usage, missing file, and exit code 1 with a single line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'change-url-'))
  const err: string[] = []
  assert.equal(await runChangeUrl([], { cwd: dir, env: {}, err: l => err.push(l) }), 1)
  assert.equal(await runChangeUrl(['staging'], { cwd: dir, env: {}, err: l => err.push(l) }), 1)
  assert.equal(await runChangeUrl(['prod'], { cwd: dir, env: {}, err: l => err.push(l) }), 1)
  assert.match(err[0]!, /usage: npm run change-url -- dev\|prod \[--dry-run\]/)
  assert.match(err[2]!, /\.env\.production not found/)

  // The real script, as npm runs it: a wrong key exits 1 with one line on stderr.
  const vonage = await fake(t)
  writeFileSync(join(dir, '.env'), Object.entries(env({ VONAGE_API_KEY: 'nope', VONAGE_API_HOST: vonage.url })).map(([k, v]) => `${k}=${v}`).join('\n'))
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), resolve('scripts/change-url.ts'), 'dev'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [code] = await once(child, 'exit') as [number]
  assert.equal(code, 1)
  assert.equal(stderr.trim().split('\n').length, 1, stderr)
  assert.match(stderr, /^change-url: Vonage refused VONAGE_API_KEY \/ VONAGE_API_SECRET \(401/)
})

test('change-url honours the environment as the server does: its variables win over the file, ENV_FILE names the file, and with all four set no file is needed', async (t) => {
  const vonage = await fake(t)
  const dir = mkdtempSync(join(tmpdir(), 'change-url-'))
  writeFileSync(join(dir, '.env'), Object.entries(env({ SERVER_URL: 'stale-tunnel.ngrok-free.app' })).map(([k, v]) => `${k}=${v}`).join('\n'))
  const answerUrl = (out: string[]): string | undefined => out.find(l => l.includes('answer_url'))?.split('→ ')[1]
  const out: string[] = []
  assert.equal(await runChangeUrl(['dev', '--dry-run'], { cwd: dir, env: { SERVER_URL: 'fresh-tunnel.ngrok-free.app' }, apiHost: vonage.url, out: l => out.push(l), err: () => {} }), 0)
  assert.equal(answerUrl(out), ' POST https://fresh-tunnel.ngrok-free.app/incoming-call', 'the environment wins over .env')

  writeFileSync(join(dir, 'staging.env'), Object.entries(env({ SERVER_URL: 'staging.fly.dev' })).map(([k, v]) => `${k}=${v}`).join('\n'))
  out.length = 0
  assert.equal(await runChangeUrl(['prod', '--dry-run'], { cwd: dir, env: { ENV_FILE: 'staging.env' }, apiHost: vonage.url, out: l => out.push(l), err: () => {} }), 0)
  assert.equal(answerUrl(out), ' POST https://staging.fly.dev/incoming-call', 'ENV_FILE instead of .env.production')

  const empty = mkdtempSync(join(tmpdir(), 'change-url-'))
  out.length = 0
  const err: string[] = []
  assert.equal(await runChangeUrl(['prod', '--dry-run'], { cwd: empty, env: env({ SERVER_URL: 'ci.fly.dev' }), apiHost: vonage.url, out: l => out.push(l), err: l => err.push(l) }), 0, err.join('\n'))
  assert.equal(answerUrl(out), ' POST https://ci.fly.dev/incoming-call', 'no file: the environment alone')
})
