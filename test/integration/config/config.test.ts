import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp } from '../../../app.js'
import { ConfigError } from '../../../lib/config/schema.js'
import { baseEnv, build } from '../../helpers/build.js'
import { pino } from 'pino'

async function configProblems (env: Record<string, string>): Promise<string[]> {
  const app = await buildApp({ config: { data: env, env: false, dotenv: false }, logger: pino({ level: 'silent' }) }).catch((err: unknown) => err)
  if (!(app instanceof ConfigError)) {
    if (app instanceof Error) throw app
    await (app as { close: () => Promise<void> }).close()
    return []
  }
  return app.problems
}

test('defaults fill every optional setting', async (t) => {
  const { app } = await build(t)
  assert.equal(app.config.PORT, 3000)
  assert.equal(app.config.HOST, '0.0.0.0')
  assert.equal(app.config.OPENAI_MODEL, 'gpt-realtime-2.1')
  assert.equal(app.config.OPENAI_BASE_URL, 'https://api.openai.com/v1')
  assert.equal(app.config.OPENAI_VOICE, 'marin')
  assert.equal(app.config.VONAGE_AUDIO_RATE, 16000)
  assert.equal(app.config.VONAGE_API_HOST, 'https://api.nexmo.com')
  assert.equal(app.config.VONAGE_PRIVATE_KEY_PATH, './private.key')
  assert.equal(app.config.LOG_LEVEL, 'info')
})

test('missing OPENAI_API_KEY is named', async () => {
  const problems = await configProblems({})
  assert.equal(problems.length, 1)
  assert.match(problems[0]!, /^OPENAI_API_KEY is required — /)
})

test('empty OPENAI_API_KEY is named', async () => {
  const problems = await configProblems({ OPENAI_API_KEY: '' })
  assert.match(problems[0]!, /^OPENAI_API_KEY must not be empty/)
})

test('SERVER_URL accepts a bare host or one with https://, and rejects junk', async (t) => {
  for (const [value, host] of [['abc.ngrok-free.app', 'abc.ngrok-free.app'], ['https://MyApp.fly.dev/', 'myapp.fly.dev'], ['localhost:3000', 'localhost:3000']] as const) {
    const { app } = await build(t, { SERVER_URL: value })
    assert.equal(app.config.publicHost, host)
  }
  for (const bad of ['https://', 'not a host', 'ftp://x.y', 'abc.ngrok.app/path?q=1']) {
    const problems = await configProblems({ ...baseEnv, SERVER_URL: bad })
    assert.equal(problems.length, 1, bad)
    assert.match(problems[0]!, /^SERVER_URL is malformed/)
  }
})

test('a rate other than 8000/16000/24000 is refused', async () => {
  const problems = await configProblems({ ...baseEnv, VONAGE_AUDIO_RATE: '44100' })
  assert.equal(problems.length, 1)
  assert.match(problems[0]!, /^VONAGE_AUDIO_RATE .*8000, 16000 or 24000/)
})

test('a private key path that does not exist is refused when outbound settings are given', async () => {
  const problems = await configProblems({ ...baseEnv, VONAGE_APPLICATION_ID: 'app-id', VONAGE_PRIVATE_KEY_PATH: './nope.key' })
  assert.equal(problems.length, 1)
  assert.match(problems[0]!, /^VONAGE_PRIVATE_KEY_PATH .*nope\.key.*VONAGE_PRIVATE_KEY/)
})

test('every problem is reported at once, one line each', async () => {
  const problems = await configProblems({ SERVER_URL: 'bad host', PORT: 'eighty', LOG_LEVEL: 'loud', OPENAI_BASE_URL: 'nope', VONAGE_OUTBOUND_FROM: '0312345678', VONAGE_PRIVATE_KEY: 'x' })
  const names = problems.map(p => p.split(' ')[0]).sort()
  // Schema errors come first; SERVER_URL and friends are checked once the schema passes.
  assert.deepEqual(names, ['LOG_LEVEL', 'OPENAI_API_KEY', 'PORT'])
  const second = await configProblems({ ...baseEnv, SERVER_URL: 'bad host', OPENAI_BASE_URL: 'nope', VONAGE_OUTBOUND_FROM: '0312345678', VONAGE_PRIVATE_KEY: 'x' })
  assert.deepEqual(second.map(p => p.split(' ')[0]).sort(), ['OPENAI_BASE_URL', 'SERVER_URL', 'VONAGE_OUTBOUND_FROM'])
})

test('OPENAI_API_VERSION without Azure is a mistake', async () => {
  const problems = await configProblems({ ...baseEnv, OPENAI_API_VERSION: '2025-04-01-preview' })
  assert.match(problems[0]!, /^OPENAI_API_VERSION .*AZURE_OPENAI_ENDPOINT/)
})
