import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { TestContext } from 'node:test'
import { closeServer } from '../helpers/http-server.js'

export interface LinePush {
  retryKey: string | undefined
  to: string
  messages: Array<{ type: string, text: string }>
}

export interface FakeLine {
  /** LINE_API_BASE_URL. */
  url: string
  token: string
  /** Pushes LINE accepted (each would reach the phone once). */
  accepted: LinePush[]
  /** Every push request, accepted or not, with the status it got. */
  requests: Array<{ status: number, retryKey: string | undefined }>
  invalid: string[]
  /**
   * How to answer the next push: a status (500, 429…) with an optional Retry-After,
   * or 'accept-and-hang' (accepted, but the answer never comes: a crash before we learn it).
   */
  plan: Array<{ status: number, retryAfter?: string } | 'accept-and-hang'>
  /** Answer every push with this status while set (the service is down). */
  down: number | null
  close: () => Promise<void>
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The LINE Messaging API push endpoint as its reference describes it: Bearer
 * channel access token, {to, messages (1 to 5)}, text ≤ 5,000 characters, and
 * X-Line-Retry-Key: a key already accepted answers 409 and sends nothing.
 */
export async function startFakeLine (t: TestContext, token = 'line-token-0123456789abcdef'): Promise<FakeLine> {
  const accepted = new Map<string, string>()
  const hanging = new Set<ServerResponse>()
  const fake: FakeLine = {
    url: '',
    token,
    accepted: [],
    requests: [],
    invalid: [],
    plan: [],
    down: null,
    close: async () => {
      for (const r of hanging) r.destroy()
      await closeServer(server)
    }
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-line-request-id': randomUUID(), ...headers }).end(JSON.stringify(body))
      }
      if (req.headers.authorization !== `Bearer ${fake.token}`) return reply(401, { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' })
      if (req.method === 'GET' && req.url === '/v2/bot/info') return reply(200, { userId: 'U' + 'b'.repeat(32), basicId: '@123abcde', displayName: 'お店の電話番' })
      if (req.method !== 'POST' || req.url !== '/v2/bot/message/push') return reply(404, { message: 'Not found' })
      const retryKey = typeof req.headers['x-line-retry-key'] === 'string' ? req.headers['x-line-retry-key'] : undefined
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => { fake.requests.push({ status, retryKey }); reply(status, body, headers) }
      let body: any
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { return answer(400, { message: 'The request body has 1 error(s)' }) }
      const problems: string[] = []
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) problems.push('content-type must be application/json')
      if (retryKey !== undefined && !UUID_RE.test(retryKey)) problems.push('X-Line-Retry-Key must be a UUID')
      if (typeof body?.to !== 'string' || body.to === '') problems.push('to: required')
      if (!Array.isArray(body?.messages) || body.messages.length < 1 || body.messages.length > 5) problems.push('messages: 1 to 5 messages')
      for (const m of Array.isArray(body?.messages) ? body.messages : []) {
        if (m?.type !== 'text' || typeof m.text !== 'string' || m.text === '' || m.text.length > 5000) problems.push('messages[].text: a text of 1 to 5000 characters')
      }
      if (problems.length > 0) { fake.invalid.push(...problems); return answer(400, { message: 'The request body has errors', details: problems.map(p => ({ message: p })) }) }
      if (retryKey !== undefined && accepted.has(retryKey)) {
        return answer(409, { message: 'The retry key is already accepted', sentMessages: [] }, { 'x-line-accepted-request-id': accepted.get(retryKey)! })
      }
      if (fake.down !== null) return answer(fake.down, { message: 'fake outage' })
      const step = fake.plan.shift()
      if (step !== undefined && step !== 'accept-and-hang') return answer(step.status, { message: 'fake failure' }, step.retryAfter !== undefined ? { 'retry-after': step.retryAfter } : {})
      const requestId = randomUUID()
      if (retryKey !== undefined) accepted.set(retryKey, requestId)
      fake.accepted.push({ retryKey, to: body.to, messages: body.messages })
      if (step === 'accept-and-hang') { fake.requests.push({ status: 0, retryKey }); hanging.add(res); return }
      answer(200, { sentMessages: body.messages.map(() => ({ id: String(Date.now()), quoteToken: randomUUID() })) })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  t.after(() => fake.close())
  return fake
}
