import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runDoctor, formatChecks, exitCode } from '../../../lib/doctor/checks.js'
import { startFakeRealtime, waitFor, type FakeRealtime } from '../../fakes/realtime-server.js'
import { startFakeVonage, type FakeVonage } from '../../fakes/vonage-rest.js'
import { callRig } from '../../helpers/call-rig.js'
import { startFakeLive } from '../../fakes/live-server.js'
import { APP_ID, privateKey, publicKey } from '../../helpers/keys.js'

const API_KEY = 'abcd1234'
const API_SECRET = 'account-secret-1'
const OPENAI_KEY = 'sk-test-doctor-0123456789'

function application (host: string): Record<string, unknown> {
  return {
    name: 'Doctor test',
    capabilities: { voice: { webhooks: { answer_url: { address: `https://${host}/incoming-call`, http_method: 'POST' }, event_url: { address: `https://${host}/event`, http_method: 'POST' } } } }
  }
}

async function fakes (t: TestContext, o: { appHost?: string, models?: Record<string, string | null> } = {}): Promise<{ realtime: FakeRealtime, vonage: FakeVonage }> {
  const realtime = await startFakeRealtime({ apiKey: OPENAI_KEY, autoRespond: false, ...(o.models !== undefined ? { models: o.models } : {}) })
  t.after(() => realtime.close())
  const vonage = await startFakeVonage({ publicKey, applicationId: APP_ID, apiKey: API_KEY, apiSecret: API_SECRET, applications: { [APP_ID]: application(o.appHost ?? 'myapp.fly.dev') } })
  t.after(() => vonage.close())
  return { realtime, vonage }
}

function settings (realtime: FakeRealtime, vonage: FakeVonage, over: Record<string, string> = {}): Record<string, string> {
  return {
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: realtime.baseUrl,
    OPENAI_MODEL: 'gpt-realtime-2.1',
    OPENAI_TRANSCRIPTION_MODEL: 'gpt-live-transcribe',
    SERVER_URL: 'myapp.fly.dev',
    SYSTEM_MESSAGE_PATH: './test/fixtures/persona.txt',
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: privateKey,
    VONAGE_API_KEY: API_KEY,
    VONAGE_API_SECRET: API_SECRET,
    VONAGE_API_HOST: vonage.url,
    VONAGE_SIGNATURE_SECRET: 'signature-secret-0123456789',
    // A public HOST (the default 0.0.0.0): the console and the softphone need their keys (issue #21).
    CONSOLE_KEY: 'console-key-0123456789abcdef',
    SOFTPHONE_KEY: 'softphone-key-0123456789abcdef',
    ...over
  }
}

test('doctor: a deployable setup is all ✓, exit 0; the session is opened with the calls\' session.update and nothing else', async (t) => {
  const { realtime, vonage } = await fakes(t)
  // A newer model's session option (in the official schemas) goes through to the doctor's session and the calls' alike.
  const env = settings(realtime, vonage, { OPENAI_REASONING_EFFORT: 'low' })
  const checks = await runDoctor({ dotenvPath: false, env, timeoutMs: 5000 })
  const out = formatChecks(checks)
  assert.equal(exitCode(checks), 0, out.join('\n'))
  assert.deepEqual(checks.filter(c => c.status !== 'ok'), [], out.join('\n'))
  assert.ok(out.some(l => l.startsWith('✓ Realtime のセッションが通話と同じ session.update を受け付けました')))
  assert.ok(out.some(l => /answer\/event URLs point at myapp\.fly\.dev/.test(l)))
  // The summary's model too (SUMMARY_MODEL, on by default): OpenAI retires those as well.
  assert.deepEqual(realtime.modelRequests, ['gpt-realtime-2.1', 'gpt-live-transcribe', 'gpt-5.6-luna'])
  assert.ok(out.some(l => l.includes('OpenAI key and model ok: SUMMARY_MODEL=gpt-5.6-luna')), out.join('\n'))
  // One session, one event: the session.update; no response.create (the model never speaks, so it costs nothing).
  assert.equal(realtime.connections.length, 1)
  const doctorEvents = realtime.connections[0]!.events
  assert.deepEqual(doctorEvents.map(e => e.type), ['session.update'])
  assert.deepEqual(realtime.connections[0]!.invalid, [], 'the session.update is valid against the official schemas')

  // A real call with the same settings sends the same session.update (the call's facts appended to the persona aside).
  // (The rig signs the answer with the same secret, as Vonage would.)
  const rig = await callRig(t, env)
  await rig.answer({ uuid: 'leg-doctor-compare' })
  await waitFor(() => realtime.connections.length === 2 && realtime.connections[1]!.events.length > 0, 5000, 'the call\'s session.update')
  const callUpdate = realtime.connections[1]!.events.find(e => e.type === 'session.update') as unknown as { session: Record<string, unknown> }
  const doctorUpdate = doctorEvents[0] as unknown as { session: Record<string, unknown> }
  const { instructions: callInstructions, ...callRest } = callUpdate.session
  const { instructions: doctorInstructions, ...doctorRest } = doctorUpdate.session
  assert.deepEqual(doctorRest, callRest)
  assert.deepEqual(callRest.reasoning, { effort: 'low' })
  assert.deepEqual(realtime.connections[1]!.invalid, [])
  const persona = String(doctorInstructions).split('\n# この通話について')[0]!
  assert.ok(persona.length > 0 && String(callInstructions).startsWith(persona), 'same persona')
})

test('doctor: without OPENAI_REASONING_EFFORT the session.update carries no reasoning', async (t) => {
  const { realtime, vonage } = await fakes(t)
  await runDoctor({ dotenvPath: false, env: settings(realtime, vonage), timeoutMs: 5000 })
  const update = realtime.connections[0]!.events[0] as unknown as { session: Record<string, unknown> }
  assert.equal('reasoning' in update.session, false)
})

test('doctor: every problem is a ✗ with its fix, in Japanese then English, and exit 1', async (t) => {
  const { realtime, vonage } = await fakes(t, { appHost: 'old-tunnel.ngrok-free.app', models: { 'gpt-realtime-2.1': null, 'gpt-4o-transcribe': '2027-02-26', 'gpt-5.6-luna': null } })
  const dir = mkdtempSync(join(tmpdir(), 'bridge-doctor-'))
  const dotenv = join(dir, '.env')
  writeFileSync(dotenv, 'OPENAI_VOCIE=cedar\n')
  const env = settings(realtime, vonage, { OPENAI_TRANSCRIPTION_MODEL: 'gpt-4o-transcribe', VONAGE_SIGNATURE_SECRET: '' })
  const checks = await runDoctor({ dotenvPath: dotenv, env, timeoutMs: 5000 })
  const out = formatChecks(checks).join('\n')
  assert.equal(exitCode(checks), 1, out)
  assert.match(out, /✗ OPENAI_VOCIE（.*）は設定名ではなく、無視されています\n {2}OPENAI_VOCIE .* is not a setting and is ignored\n {2}→ 直し方: OPENAI_VOCIE を OPENAI_VOICE に直してください\n {4}fix: rename OPENAI_VOCIE to OPENAI_VOICE/)
  assert.match(out, /! OPENAI_TRANSCRIPTION_MODEL=gpt-4o-transcribe は 2027-02-26 に提供終了予定です\n {2}OPENAI_TRANSCRIPTION_MODEL=gpt-4o-transcribe shuts down on 2027-02-26/)
  assert.match(out, /✗ VONAGE_SIGNATURE_SECRET が未設定/)
  assert.match(out, /✗ Vonage アプリの Webhook が別の場所を向いています[^\n]*\n[^\n]*old-tunnel\.ngrok-free\.app[^\n]*\n {2}→ 直し方: npm run change-url -- prod/)
  assert.match(out, /直すべき問題が 3 件あります \/ 3 problems to fix before deploying/)
})

test('doctor: a key OpenAI refuses, and a session it cannot open, are ✗ naming OPENAI_API_KEY', async (t) => {
  const { realtime, vonage } = await fakes(t)
  const checks = await runDoctor({ dotenvPath: false, env: settings(realtime, vonage, { OPENAI_API_KEY: 'sk-test-wrong-0123456789' }), timeoutMs: 5000 })
  const out = formatChecks(checks).join('\n')
  assert.equal(exitCode(checks), 1)
  assert.match(out, /✗ OpenAI が OPENAI_API_KEY を拒否しました（401）/)
  realtime.setOptions({ refuse: 401 })
  const again = formatChecks(await runDoctor({ dotenvPath: false, env: settings(realtime, vonage), timeoutMs: 5000 })).join('\n')
  assert.match(again, /✗ Realtime のセッションが開けないか、設定を拒否しました: handshake refused \(401\)\n.*\n {2}→ 直し方: OPENAI_API_KEY を確認してください/)
})

test('doctor: configuration errors are ✗ lines and nothing is contacted', async (t) => {
  const { realtime, vonage } = await fakes(t)
  const checks = await runDoctor({ dotenvPath: false, env: settings(realtime, vonage, { SERVER_URL: 'not a host', VONAGE_AUDIO_RATE: '12345' }), timeoutMs: 5000 })
  const out = formatChecks(checks).join('\n')
  assert.equal(exitCode(checks), 1)
  assert.match(out, /✗ 設定の誤り: VONAGE_AUDIO_RATE/)
  assert.equal(realtime.handshakes, 0)
  assert.deepEqual(realtime.modelRequests, [])
})

test('doctor: SERVER_URL is optional: unset with inbound calls only is ✓; with outbound configured it is a warning, never a ✗', async (t) => {
  const { realtime, vonage } = await fakes(t)
  const inboundOnly = settings(realtime, vonage, { SERVER_URL: '', VONAGE_APPLICATION_ID: '', VONAGE_PRIVATE_KEY: '', VONAGE_API_KEY: '', VONAGE_API_SECRET: '' })
  const checks = await runDoctor({ dotenvPath: false, env: inboundOnly, timeoutMs: 5000 })
  const out = formatChecks(checks).join('\n')
  assert.equal(exitCode(checks), 0, out)
  assert.match(out, /✓ SERVER_URL: 未設定（任意/)
  assert.ok(!checks.some(c => c.status === 'fail'), out)

  const outbound = await runDoctor({ dotenvPath: false, env: settings(realtime, vonage, { SERVER_URL: '' }), timeoutMs: 5000 })
  const out2 = formatChecks(outbound).join('\n')
  assert.equal(exitCode(outbound), 0, out2)
  assert.match(out2, /! SERVER_URL が未設定です: 着信は動きますが、発信（POST \/connect）は使えません/)
  assert.ok(!outbound.some(c => c.status === 'fail'), out2)
})

test('doctor with OPENAI_ENGINE=live: it opens a GPT-Live session with the calls\' session.start, and tells a refusal in words', async (t) => {
  const { realtime, vonage } = await fakes(t)
  const live = await startFakeLive()
  t.after(() => live.close())
  const env = settings(realtime, vonage, { OPENAI_ENGINE: 'live', OPENAI_BASE_URL: live.baseUrl })
  const checks = await runDoctor({ dotenvPath: false, env, timeoutMs: 5000 })
  const out = formatChecks(checks).join('\n')
  assert.equal(exitCode(checks), 0, out)
  assert.match(out, /✓ GPT-Live のセッションが通話と同じ session\.start を受け付けました/)
  assert.match(out, /OPENAI_LIVE_MODEL=gpt-live-1/)
  await waitFor(() => live.connections[0]?.events.some(e => e.type === 'session.close') === true, 3000, 'the doctor\'s session.close')
  assert.deepEqual(live.connections[0]!.events.map(e => e.type), ['session.start', 'session.close'], 'no audio: the model never speaks')
  assert.equal(realtime.handshakes, 0, 'no Realtime session')

  const refusing = await startFakeLive({ startError: { code: 'invalid_value', message: 'Unknown voice "nope"' } })
  t.after(() => refusing.close())
  const bad = formatChecks(await runDoctor({ dotenvPath: false, env: { ...env, OPENAI_BASE_URL: refusing.baseUrl }, timeoutMs: 5000 })).join('\n')
  assert.match(bad, /✗ GPT-Live のセッションが開けないか、設定を拒否しました: GPT-Live refused session\.start: Unknown voice "nope"\n.*\n {2}→ 直し方: メッセージが示す設定（OPENAI_LIVE_MODEL、OPENAI_VOICE/)
})
