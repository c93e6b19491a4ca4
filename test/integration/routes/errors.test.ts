import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { buildApp } from '../../../app.js'
import { baseEnv } from '../../helpers/build.js'

/** The real app (plugins/external.ts's error handler included) plus one route that fails, since no real route fails on cue. */
async function appWithFailingRoute (): Promise<{ app: Awaited<ReturnType<typeof buildApp>>, logs: Array<Record<string, unknown>> }> {
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l !== '') logs.push(JSON.parse(l)); cb() } })
  const app = await buildApp({ config: { data: { ...baseEnv }, env: false, dotenv: false }, logger: pino({ level: 'info' }, sink) })
  app.get('/test-fails', async () => { throw new Error('db password is hunter2 at 10.0.0.5') })
  app.post('/test-validates', { schema: { body: { type: 'object', required: ['to'], properties: { to: { type: 'string' } } } } }, async () => ({ ok: true }))
  await app.ready()
  return { app, logs }
}

test('a failing route answers 500 with the one error shape and none of its internals; the log has the error', async (t) => {
  const { app, logs } = await appWithFailingRoute()
  t.after(() => app.close())
  const res = await app.inject({ url: '/test-fails' })
  assert.equal(res.statusCode, 500)
  const body = res.json()
  assert.deepEqual(Object.keys(body), ['statusCode', 'error', 'message'])
  assert.equal(body.error, 'Internal Server Error')
  assert.doesNotMatch(res.body, /hunter2|10\.0\.0\.5/, 'no internals to the client')
  const line = logs.find(l => l.msg === 'request failed')
  assert.ok(line !== undefined, 'logged')
  assert.match(JSON.stringify(line.err), /hunter2/, 'the server log keeps the cause')
})

test('a request that fails validation answers 400 naming what to fix, in the same shape', async (t) => {
  const { app } = await appWithFailingRoute()
  t.after(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/test-validates', payload: { from: 'x' } })
  assert.equal(res.statusCode, 400)
  const body = res.json()
  assert.equal(body.statusCode, 400)
  assert.equal(body.error, 'Bad Request')
  assert.equal(body.code, 'FST_ERR_VALIDATION')
  assert.match(body.message, /to/)
})
