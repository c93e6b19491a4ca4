import type { TestContext } from 'node:test'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../app.js'
import { loggerOptions } from '../../lib/log/logger.js'

/** The smallest config the server starts with; tests add what they exercise. */
export const baseEnv = {
  OPENAI_API_KEY: 'sk-test-0123456789abcdef',
  SERVER_URL: 'bridge.example.test',
  SYSTEM_MESSAGE_PATH: './test/fixtures/does-not-exist.txt',
  // No metrics port and no model check unless a test asks: tests run in parallel and offline.
  METRICS_PORT: '0',
  MODEL_CHECK: 'off',
  // No call store unless a test asks for one (its own DATA_DIR or DATABASE_URL); the spawned servers likewise.
  DATA_DIR: '',
  // No after-call summary unless a test asks (it would call POST /responses on the fake).
  SUMMARY_MODEL: ''
}

export interface Built {
  app: FastifyInstance
  /** Every log line the app wrote, parsed. */
  logs: Array<Record<string, unknown>>
}

/** Builds the app from `env` alone (no process.env, no .env) and closes it after the test. */
export async function build (t: TestContext, env: Record<string, string | number | boolean> = {}): Promise<Built> {
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      cb()
    }
  })
  // LOG_LEVEL in env lowers the level of what is kept (e.g. trace, to check nothing at all leaks).
  const logger = pino({ ...loggerOptions(String(env.LOG_LEVEL ?? 'info'), false) }, sink)
  const app = await buildApp({ config: { data: { ...baseEnv, ...env }, env: false, dotenv: false }, logger })
  t.after(() => app.close())
  await app.ready()
  return { app, logs }
}
