import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { buildApp } from '../../../app.js'
import { baseEnv } from '../../helpers/build.js'
import { startFakeRealtime } from '../../fakes/realtime-server.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { configSchema } from '../../../lib/config/schema.js'
import { MAX_LIVE_STREAMS } from '../../../routes/console.js'

function logSink (): { logs: Array<Record<string, unknown>>, stream: Writable } {
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      cb()
    }
  })
  return { logs, stream }
}

test('a misspelt name in .env is warned about at start, naming the setting it was meant to be', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-env-'))
  const file = join(dir, '.env')
  writeFileSync(file, 'OPENAI_VOCIE=cedar\n')
  const { logs, stream } = logSink()
  const app = await buildApp({ config: { data: { ...baseEnv, METRICS_PORT: 0, MODEL_CHECK: 'off' }, env: false, dotenv: file }, logger: pino({ level: 'info' }, stream) })
  t.after(() => app.close())
  await app.ready()
  const warn = logs.find(l => l.name === 'OPENAI_VOCIE')
  assert.ok(warn !== undefined, JSON.stringify(logs))
  assert.equal(warn.level, 40)
  assert.equal(warn.suggestion, 'OPENAI_VOICE')
  assert.match(String(warn.msg), /OPENAI_VOICE/)
  assert.equal(app.config.OPENAI_VOICE, 'marin', 'the misspelt value was not used')
})

test('the start-up model check warns, with the date, about a model with a shutdown_date: the call\'s models and the summary\'s', async (t) => {
  const fake = await startFakeRealtime({ models: { 'gpt-realtime-2.1': null, 'gpt-4o-transcribe': '2027-02-26', 'gpt-5-nano': '2027-04-01' } })
  t.after(() => fake.close())
  const { logs, stream } = logSink()
  const app = await buildApp({ config: { data: { ...baseEnv, METRICS_PORT: 0, MODEL_CHECK: 'on', OPENAI_BASE_URL: fake.baseUrl, OPENAI_MODEL: 'gpt-realtime-2.1', OPENAI_TRANSCRIPTION_MODEL: 'gpt-4o-transcribe', SUMMARY_MODEL: 'gpt-5-nano' }, env: false, dotenv: false }, logger: pino({ level: 'info' }, stream) })
  t.after(() => app.close())
  await app.ready()
  await waitFor(() => logs.filter(l => l.shutdownDate !== undefined).length === 2, 5000, 'the shutdown warnings')
  const warnings = logs.filter(l => l.shutdownDate !== undefined)
  assert.deepEqual(warnings.map(w => [w.level, w.setting, w.model, w.shutdownDate]), [
    [40, 'OPENAI_TRANSCRIPTION_MODEL', 'gpt-4o-transcribe', '2027-02-26'],
    [40, 'SUMMARY_MODEL', 'gpt-5-nano', '2027-04-01']
  ])
  assert.match(String(warnings[0]!.msg), /2027-02-26/)
  assert.match(String(warnings[1]!.msg), /^SUMMARY_MODEL=gpt-5-nano は 2027-04-01 に提供終了予定です/)
  assert.deepEqual(fake.modelRequests, ['gpt-realtime-2.1', 'gpt-4o-transcribe', 'gpt-5-nano'], 'no warning for the model without a date')
})

test('MODEL_CHECK=off asks nothing, and a failing check does not stop the start', async (t) => {
  const fake = await startFakeRealtime({ apiKey: 'sk-the-right-key' })
  t.after(() => fake.close())
  const off = await buildApp({ config: { data: { ...baseEnv, METRICS_PORT: 0, MODEL_CHECK: 'off', OPENAI_BASE_URL: fake.baseUrl }, env: false, dotenv: false }, logger: pino({ level: 'silent' }) })
  t.after(() => off.close())
  await off.ready()
  const { logs, stream } = logSink()
  const on = await buildApp({ config: { data: { ...baseEnv, METRICS_PORT: 0, MODEL_CHECK: 'on', OPENAI_BASE_URL: fake.baseUrl }, env: false, dotenv: false }, logger: pino({ level: 'info' }, stream) })
  t.after(() => on.close())
  await on.ready()
  // The second app's request is the signal that the first one's would have arrived by now.
  await waitFor(() => logs.some(l => /OPENAI_API_KEY/.test(String(l.msg))), 5000, 'the refused key is reported')
  assert.equal(fake.modelRequests.length, 1, 'only the app with MODEL_CHECK=on asked')
  assert.equal((await on.inject({ url: '/health' })).statusCode, 200)
})

test('fly.toml: the concurrency limits count what a machine holds (its calls, its live views, short requests), autostop is off, metrics on the private network', () => {
  const toml = readFileSync('fly.toml', 'utf8')
  const num = (key: string): number => Number(new RegExp(`^\\s*${key}\\s*=\\s*"?(\\d+)"?`, 'm').exec(toml)?.[1])
  const maxCalls = num('MAX_CONCURRENT_CALLS')
  assert.ok(Number.isInteger(maxCalls) && maxCalls > 0, 'fly.toml sets MAX_CONCURRENT_CALLS in [env]')
  // The app itself refuses calls past MAX_CONCURRENT_CALLS (a busy message) and live views past MAX_LIVE_STREAMS (429);
  // the proxy's limit leaves room for both plus the short requests, so webhooks are never starved by open streams.
  const holds = maxCalls + MAX_LIVE_STREAMS
  assert.ok(num('hard_limit') >= holds && num('hard_limit') <= holds + 100, `hard_limit counts ${maxCalls} calls + ${MAX_LIVE_STREAMS} live views + some short requests`)
  assert.ok(num('soft_limit') > maxCalls && num('soft_limit') < num('hard_limit'), 'soft_limit between the call limit and the hard limit')
  assert.match(toml, /^\s*METRICS_HOST\s*=\s*"fly-local-6pn"/m)
  assert.match(toml, /^\s*auto_stop_machines\s*=\s*"off"/m)
  assert.match(toml, /^\s*TRUST_PROXY_HOPS\s*=\s*"1"/m)
  assert.equal(num('port'), configSchema.properties.METRICS_PORT.default, '[metrics] port is METRICS_PORT\'s default')
  assert.match(toml, /^\[metrics\][^[]*path\s*=\s*"\/metrics"/m)
})
