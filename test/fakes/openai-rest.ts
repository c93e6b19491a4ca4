import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { TestContext } from 'node:test'
import { closeServer } from '../helpers/http-server.js'

/**
 * A fake of OpenAI's REST API, strict about what it is sent, with a route
 * table so more endpoints can be added (`routes.set('POST /v1/audio/…', …)`).
 * Mount it on the fake Realtime server (`startFakeRealtime({ rest })`, one
 * OPENAI_BASE_URL for both) or start it alone (startFakeOpenAIRest).
 */

export interface RestRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: any
}

export type RestReply = { status: number, body: unknown, headers?: Record<string, string> } | { hang: true }
export type RestRoute = (r: RestRequest, fake: FakeOpenAIRest) => RestReply | Promise<RestReply>

export interface FakeOpenAIRest {
  /** Every request that reached a route, in order. */
  requests: RestRequest[]
  /** What was wrong with requests (each also answered 400). */
  invalid: string[]
  routes: Map<string, RestRoute>
  /** The only accepted key (Authorization: Bearer or Azure's api-key); unset = any non-empty one. */
  apiKey?: string
  /** POST /responses: the JSON the "model" writes for a request (default: a fixed summary). */
  summary: (body: any) => unknown
  /** POST /responses: answer with this status instead (e.g. 500, 429) while it is set. */
  responsesFailWith: number | null
  handle: (req: IncomingMessage, res: ServerResponse) => boolean
}

export const DEFAULT_SUMMARY = {
  caller_name: '田中',
  callback_number: null,
  request: '明日19時に4名で予約したい。',
  urgency: 'normal',
  callback: { wanted: true, when: '本日17時以降' },
  reservation: { date: '2026-12-04', time: '19:00', party_size: 4, name: '田中' },
  outcome: 'resolved',
  open_items: ['予約台帳に記入する']
}

const RESPONSES_PARAMS = new Set(['model', 'input', 'instructions', 'text', 'store', 'max_output_tokens', 'reasoning', 'temperature', 'top_p', 'metadata',
  'previous_response_id', 'user', 'tools', 'tool_choice', 'parallel_tool_calls', 'stream', 'truncation', 'include', 'service_tier', 'prompt_cache_key', 'safety_identifier'])

/** Strict mode's rules: every object closes additionalProperties and requires all of its properties. */
export function strictSchemaProblems (schema: any, path = '$'): string[] {
  if (schema === null || typeof schema !== 'object') return [`${path}: not a schema object`]
  const out: string[] = []
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type]
  if (types.includes('object')) {
    if (schema.additionalProperties !== false) out.push(`${path}: additionalProperties must be false in strict mode`)
    const props = Object.keys(schema.properties ?? {})
    const required: string[] = schema.required ?? []
    for (const p of props) if (!required.includes(p)) out.push(`${path}.${p}: strict mode requires every property to be in "required"`)
    for (const p of props) out.push(...strictSchemaProblems(schema.properties[p], `${path}.${p}`))
  }
  if (types.includes('array') && schema.items !== undefined) out.push(...strictSchemaProblems(schema.items, `${path}[]`))
  return out
}

function responsesProblems (body: any): string[] {
  const p: string[] = []
  if (body === null || typeof body !== 'object') return ['body is not a JSON object']
  for (const k of Object.keys(body)) if (!RESPONSES_PARAMS.has(k)) p.push(`Unknown parameter: '${k}'`)
  if (typeof body.model !== 'string' || body.model === '') p.push('model: required string')
  const input = body.input
  if (typeof input !== 'string' && !Array.isArray(input)) p.push('input: a string or an array of input items')
  if (Array.isArray(input)) {
    for (const [i, item] of input.entries()) {
      if (!['user', 'system', 'developer', 'assistant'].includes(item?.role)) p.push(`input[${i}].role: user, system, developer or assistant`)
      if (typeof item?.content !== 'string' && !Array.isArray(item?.content)) p.push(`input[${i}].content: a string or content parts`)
    }
  }
  const f = body.text?.format
  if (f?.type !== 'json_schema') p.push('text.format.type: json_schema expected (Structured Outputs)')
  else {
    if (typeof f.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(f.name)) p.push('text.format.name: a-z, A-Z, 0-9, _ or -, at most 64')
    if (f.strict !== true) p.push('text.format.strict: true expected')
    p.push(...strictSchemaProblems(f.schema))
  }
  if (body.max_output_tokens !== undefined && (!Number.isInteger(body.max_output_tokens) || body.max_output_tokens < 16)) p.push('max_output_tokens: an integer of at least 16')
  return p
}

const responsesRoute: RestRoute = (r, fake) => {
  if (fake.responsesFailWith !== null) return { status: fake.responsesFailWith, body: { error: { message: 'fake failure', type: 'server_error' } } }
  const problems = responsesProblems(r.body)
  if (problems.length > 0) {
    fake.invalid.push(...problems)
    return { status: 400, body: { error: { message: problems.join('; '), type: 'invalid_request_error' } } }
  }
  const text = JSON.stringify(fake.summary(r.body))
  const inputTokens = Math.ceil(JSON.stringify(r.body.input).length / 2)
  const outputTokens = Math.ceil(text.length / 2)
  return {
    status: 200,
    body: {
      id: `resp_${randomUUID().replace(/-/g, '')}`,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: r.body.model,
      // A reasoning item first, as reasoning models send: the message is not always output[0].
      output: [
        { id: `rs_${randomUUID().slice(0, 8)}`, type: 'reasoning', summary: [] },
        { id: `msg_${randomUUID().slice(0, 8)}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }
      ],
      text: r.body.text,
      usage: { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + outputTokens }
    }
  }
}

export function openAIRest (o: { apiKey?: string } = {}): FakeOpenAIRest {
  const fake: FakeOpenAIRest = {
    requests: [],
    invalid: [],
    routes: new Map<string, RestRoute>([['POST /responses', responsesRoute]]),
    apiKey: o.apiKey,
    summary: () => DEFAULT_SUMMARY,
    responsesFailWith: null,
    handle (req, res) {
      // Mounted under /v1 (OpenAI) or /openai/v1 (Azure's v1 API).
      const path = (req.url ?? '').split('?')[0]!.replace(/^\/(openai\/)?v1(?=\/)/, '')
      const route = fake.routes.get(`${req.method ?? ''} ${path}`)
      if (route === undefined) return false
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => { res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body)) }
        const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? (typeof req.headers['api-key'] === 'string' ? req.headers['api-key'] : undefined)
        if (bearer === undefined || bearer === '' || (fake.apiKey !== undefined && bearer !== fake.apiKey)) return send(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } })
        if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return send(400, { error: { message: 'Content-Type must be application/json' } })
        let body: unknown
        try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { return send(400, { error: { message: 'We could not parse the JSON body of your request.' } }) }
        const r: RestRequest = { method: req.method ?? '', path, headers: req.headers, body }
        fake.requests.push(r)
        Promise.resolve(route(r, fake)).then(reply => {
          if ('hang' in reply) return
          send(reply.status, reply.body, reply.headers)
        }, (err: Error) => send(500, { error: { message: err.message } }))
      })
      return true
    }
  }
  return fake
}

/** The REST fake on a port of its own; `baseUrl` ends in /v1 like OPENAI_BASE_URL. */
export async function startFakeOpenAIRest (t: TestContext, o: { apiKey?: string } = {}): Promise<FakeOpenAIRest & { baseUrl: string }> {
  const fake = openAIRest(o)
  const server = createServer((req, res) => { if (!fake.handle(req, res)) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => { await closeServer(server) })
  return Object.assign(fake, { baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1` })
}
