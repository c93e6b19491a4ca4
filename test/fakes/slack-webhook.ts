import { createServer } from 'node:http'
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { closeServer } from '../helpers/http-server.js'

export interface FakeSlack {
  /** NOTIFY_SLACK_WEBHOOK_URL. */
  url: string
  /** Messages Slack posted to the channel. */
  posted: Array<{ text: string }>
  requests: number
  invalid: string[]
  /** Answer every post with this status while set (500 = Slack's trouble, 404 = the webhook was removed). */
  down: number | null
  close: () => Promise<void>
}

/** A Slack incoming webhook: POST JSON {text} to its secret path, "ok" back. */
export async function startFakeSlack (t: TestContext): Promise<FakeSlack> {
  const path = '/services/T0FAKE000/B0FAKE000/abcdefghijklmnopqrstuvwx'
  const fake: FakeSlack = {
    url: '',
    posted: [],
    requests: 0,
    invalid: [],
    down: null,
    close: async () => { await closeServer(server) }
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      fake.requests++
      const reply = (status: number, text: string): void => { res.writeHead(status, { 'content-type': 'text/plain' }).end(text) }
      if (req.method !== 'POST' || req.url !== path) return reply(404, 'no_service')
      if (fake.down !== null) return reply(fake.down, fake.down === 404 ? 'no_service' : 'internal_error')
      let body: any
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { return reply(400, 'invalid_payload') }
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json') || typeof body?.text !== 'string' || body.text === '') {
        fake.invalid.push('a JSON body with a non-empty text')
        return reply(400, 'invalid_payload')
      }
      fake.posted.push({ text: body.text })
      reply(200, 'ok')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`
  t.after(() => fake.close())
  return fake
}
