import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build } from '../../helpers/build.js'
import { maskNumber, scrubSecrets } from '../../../lib/log/logger.js'

test('phone numbers keep only their last 4 digits', () => {
  assert.equal(maskNumber('+818012345678'), '+********5678')
  assert.equal(maskNumber('818012345678'), '********5678')
  assert.equal(maskNumber('123'), '***')
})

test('free text loses keys, JWTs, PEMs and URL tokens', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcDEF123_-x'
  const out = scrubSecrets(`key sk-proj-AbCdEf0123456789 jwt ${jwt} url wss://h/media?token=abc.def&rate=16000 -----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----`)
  assert.doesNotMatch(out, /sk-proj|eyJ|MIIEv|abc\.def/)
  assert.match(out, /token=\[redacted\]&rate=16000/)
})

test('a log line with a key in it comes out redacted', async (t) => {
  const { app, logs } = await build(t, { VONAGE_API_SECRET: 'vonage-secret-xyz', VONAGE_SIGNATURE_SECRET: 'sig-secret-abcdef' })
  app.log.info({ OPENAI_API_KEY: 'sk-test-0123456789abcdef', detail: 'secret is vonage-secret-xyz', to: '+818012345678', nested: { from: '+815031023332' } }, 'upstream said sk-other-9876543210zyx and sig-secret-abcdef')
  const line = logs.at(-1)!
  const text = JSON.stringify(line)
  assert.doesNotMatch(text, /sk-test|sk-other|vonage-secret-xyz|sig-secret-abcdef|12345678|31023332/)
  assert.equal(line.to, '+********5678')
  assert.deepEqual(line.nested, { from: '+********3332' })
  // Scrubbing copies what it changes and leaves the caller's objects alone.
  const mine = { detail: 'say sk-mine-0123456789', list: ['ok', 'sk-list-0123456789'], deep: { text: 'fine' } }
  app.log.info(mine, 'objects')
  assert.doesNotMatch(JSON.stringify(logs.at(-1)), /sk-mine|sk-list/)
  assert.deepEqual(mine, { detail: 'say sk-mine-0123456789', list: ['ok', 'sk-list-0123456789'], deep: { text: 'fine' } })
})

test('phone numbers and secrets are masked by field name at any depth; counts under those names are not', async (t) => {
  const { app, logs } = await build(t)
  app.log.info({ call: { leg: { to: '12025550123', caller: '+815031023332' }, turns: { caller: 3 } }, cfg: { env: { MEDIA_TOKEN_SECRET: 'opaque', token: 'also-opaque' } }, from: undefined, number: 818012345678, list: [{ msisdn: '447700900123' }] }, 'deep')
  const line = logs.at(-1)!
  assert.doesNotMatch(JSON.stringify(line), /12025550123|31023332|opaque|447700900123|12345678/)
  assert.deepEqual(line.call, { leg: { to: '*******0123', caller: '+********3332' }, turns: { caller: 3 } })
  assert.equal(line.number, '********5678')
  assert.deepEqual(line.cfg, { env: { MEDIA_TOKEN_SECRET: '[redacted]', token: '[redacted]' } })
  assert.deepEqual(line.list, [{ msisdn: '********0123' }])
  assert.equal('from' in line, false)
})

test('request logs keep the path but not the token or the API key header', async (t) => {
  const { app, logs } = await build(t)
  await app.inject({ method: 'GET', url: '/?token=supersecrettoken&x=1', headers: { 'x-api-key': 'app-id-secret' } })
  const text = JSON.stringify(logs)
  assert.doesNotMatch(text, /supersecrettoken|app-id-secret/)
  assert.ok(logs.some(l => (l.req as { url?: string } | undefined)?.url === '/?token=[redacted]&x=1'))
})

test('an error whose message carries a key is logged without it', async (t) => {
  const { app, logs } = await build(t)
  app.log.error({ err: new Error('401 from upstream for key sk-live-abcdefghijkl') }, 'upstream failed')
  assert.doesNotMatch(JSON.stringify(logs.at(-1)), /sk-live/)
  assert.match(String((logs.at(-1)!.err as { message: string }).message), /\[redacted\]/)
})
