import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createPublicKey, randomUUID, verify, type KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { closeServer } from '../helpers/http-server.js'

/**
 * A local stand-in for Vonage's REST API (api.nexmo.com) on 127.0.0.1: the
 * Voice calls API with RS256 application JWTs, and the Applications API with
 * Basic auth. It records every request and can be told to fail or stall.
 */

export interface FakeVonageOptions {
  /** Public half of the application key pair; every /v1 JWT must verify against it. */
  publicKey: string | KeyObject
  applicationId: string
  /** Basic-auth account credentials of the Applications API. */
  apiKey?: string
  apiSecret?: string
  /** Applications the account holds, by id, in Vonage's JSON shape. */
  applications?: Record<string, Record<string, unknown>>
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown
  /** Outcome of the credential check: JWT for /v1, Basic for /v2/applications. */
  auth: { ok: boolean, reason?: string, claims?: Record<string, unknown> }
  /** performance.now() when the request arrived (to order it against other fakes' events). */
  at: number
}

export interface RouteMatch {
  method?: string
  /** Exact path, or a pattern tested against it. */
  path?: string | RegExp
}

export interface ScriptedFailure extends RouteMatch {
  status: number
  type?: string
  title?: string
  detail?: string
  /** How many matching requests fail (default 1). */
  times?: number
}

export interface ScriptedDelay extends RouteMatch {
  ms: number
  times?: number
}

export interface FakeVonage {
  url: string
  requests: RecordedRequest[]
  applications: Map<string, Record<string, unknown>>
  /** Calls created with POST /v1/calls, with the uuid the fake gave each. */
  created: Array<{ uuid: string, body: Record<string, unknown> }>
  /**
   * Recordings it serves (GET /v1/files/:id with the application JWT, like
   * api.nexmo.com); addRecording() answers the recording_url Vonage would send.
   */
  recordings: Map<string, Buffer>
  addRecording: (mp3: Buffer) => string
  /** Answer the next matching request(s) with a Vonage-style error. */
  fail: (failure: ScriptedFailure) => void
  /** Hold the next matching request(s) before answering. */
  delay: (delay: ScriptedDelay) => void
  close: () => Promise<void>
}

const ERROR_TYPE = 'https://developer.nexmo.com/api-errors'

function matches (rule: RouteMatch, method: string, path: string): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== method) return false
  if (rule.path === undefined) return true
  return typeof rule.path === 'string' ? rule.path === path : rule.path.test(path)
}

function decodeJson (part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return v !== null && typeof v === 'object' ? v as Record<string, unknown> : null
  } catch {
    return null
  }
}

/** Checks the JWT independently of the SDK that made it: alg, signature, application, lifetime. */
function checkJwt (header: string | undefined, publicKey: KeyObject, applicationId: string): RecordedRequest['auth'] {
  const m = /^Bearer (.+)$/.exec(header ?? '')
  if (m === null) return { ok: false, reason: 'no bearer token' }
  const parts = m[1]!.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'not a JWT' }
  const head = decodeJson(parts[0]!)
  const claims = decodeJson(parts[1]!)
  if (head === null || claims === null) return { ok: false, reason: 'undecodable JWT' }
  if (head.alg !== 'RS256') return { ok: false, reason: `alg ${String(head.alg)}` }
  const signed = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, 'base64url'))
  if (!signed) return { ok: false, reason: 'bad signature' }
  if (claims.application_id !== applicationId) return { ok: false, reason: 'wrong application_id' }
  const now = Date.now() / 1000
  if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false, reason: 'expired' }
  if (typeof claims.iat !== 'number' || typeof claims.jti !== 'string') return { ok: false, reason: 'missing iat/jti' }
  return { ok: true, claims }
}

function checkBasic (header: string | undefined, apiKey: string, apiSecret: string): RecordedRequest['auth'] {
  const m = /^Basic (.+)$/.exec(header ?? '')
  if (m === null) return { ok: false, reason: 'no basic credentials' }
  const given = Buffer.from(m[1]!, 'base64').toString('utf8')
  return given === `${apiKey}:${apiSecret}` ? { ok: true } : { ok: false, reason: 'wrong key or secret' }
}

function send (res: ServerResponse, status: number, body?: unknown): void {
  if (res.destroyed || res.writableEnded) return
  if (body === undefined) {
    res.writeHead(status).end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
}

function withLinks (id: string, app: Record<string, unknown>): Record<string, unknown> {
  return { ...app, id, _links: { self: { href: `/v2/applications/${id}` } } }
}

export async function startFakeVonage (opts: FakeVonageOptions): Promise<FakeVonage> {
  const publicKey = typeof opts.publicKey === 'string' ? createPublicKey(opts.publicKey) : opts.publicKey
  const apiKey = opts.apiKey ?? 'abcd1234'
  const apiSecret = opts.apiSecret ?? 'fake-api-secret'
  const applications = new Map(Object.entries(structuredClone(opts.applications ?? {})))
  const requests: RecordedRequest[] = []
  const created: FakeVonage['created'] = []
  const recordings = new Map<string, Buffer>()
  const failures: ScriptedFailure[] = []
  const delays: ScriptedDelay[] = []
  const timers = new Set<NodeJS.Timeout>()

  function take<T extends RouteMatch & { times?: number }> (list: T[], method: string, path: string): T | undefined {
    const i = list.findIndex(r => matches(r, method, path))
    if (i < 0) return undefined
    const rule = list[i]!
    const left = (rule.times ?? 1) - 1
    if (left <= 0) list.splice(i, 1)
    else rule.times = left
    return rule
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://fake.vonage')
    const path = url.pathname
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let body: unknown
    if (text !== '') {
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
    }
    const auth = path.startsWith('/v2/applications')
      ? checkBasic(req.headers.authorization, apiKey, apiSecret)
      : checkJwt(req.headers.authorization, publicKey, opts.applicationId)
    requests.push({ method, path, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, body, auth, at: performance.now() })

    const stall = take(delays, method, path)
    if (stall !== undefined) {
      await new Promise<void>(resolve => {
        const t = setTimeout(() => { timers.delete(t); resolve() }, stall.ms)
        timers.add(t)
      })
    }
    const failure = take(failures, method, path)
    if (failure !== undefined) {
      send(res, failure.status, { type: failure.type ?? `${ERROR_TYPE}#${failure.status}`, title: failure.title ?? 'Error', detail: failure.detail ?? '' })
      return
    }
    if (!auth.ok) {
      send(res, 401, { type: `${ERROR_TYPE}#unauthorized`, title: 'Unauthorized', detail: 'You did not provide correct credentials.' })
      return
    }
    if (typeof body === 'string') {
      send(res, 400, { type: `${ERROR_TYPE}#bad-request`, title: 'Bad Request', detail: 'The request body is not valid JSON.' })
      return
    }

    const fileMatch = /^\/v1\/files\/([^/]+)$/.exec(path)
    if (method === 'GET' && fileMatch !== null) {
      const mp3 = recordings.get(decodeURIComponent(fileMatch[1]!))
      if (mp3 === undefined) {
        send(res, 404, { type: `${ERROR_TYPE}#not-found`, title: 'Not Found', detail: 'no such recording' })
        return
      }
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': mp3.length }).end(mp3)
      return
    }
    if (method === 'POST' && path === '/v1/calls') {
      const call = body as { to?: Array<{ number?: unknown }>, answer_url?: unknown, ncco?: unknown, ringing_timer?: unknown, machine_detection?: unknown, event_url?: unknown } | undefined
      if (!Array.isArray(call?.to) || call.to.length === 0 || (call.answer_url === undefined && call.ncco === undefined)) {
        send(res, 400, { type: `${ERROR_TYPE}#validation`, title: 'Bad Request', detail: 'to and answer_url (or ncco) are required' })
        return
      }
      // The documented bounds of the fields the bridge sends (Voice API reference, createCall).
      const problem = call.ncco !== undefined && (!Array.isArray(call.ncco) || call.ncco.some(a => typeof (a as { action?: unknown })?.action !== 'string'))
        ? 'ncco must be an array of actions'
        : call.ringing_timer !== undefined && !(Number.isInteger(call.ringing_timer) && (call.ringing_timer as number) >= 1 && (call.ringing_timer as number) <= 120)
          ? 'ringing_timer must be an integer from 1 to 120'
          : call.machine_detection !== undefined && call.machine_detection !== 'continue' && call.machine_detection !== 'hangup'
            ? 'machine_detection must be continue or hangup'
            : call.event_url !== undefined && (!Array.isArray(call.event_url) || call.event_url.some(u => typeof u !== 'string'))
              ? 'event_url must be an array of URLs'
              : null
      if (problem !== null) {
        send(res, 400, { type: `${ERROR_TYPE}#validation`, title: 'Bad Request', detail: problem })
        return
      }
      const uuid = randomUUID()
      created.push({ uuid, body: body as Record<string, unknown> })
      send(res, 201, { uuid, status: 'started', direction: 'outbound', conversation_uuid: `CON-${randomUUID()}` })
      return
    }
    const callMatch = /^\/v1\/calls\/([^/]+)$/.exec(path)
    if (method === 'PUT' && callMatch !== null) {
      // Vonage's documented call-control actions; a transfer needs an NCCO (inline or by URL).
      const update = body as { action?: unknown, destination?: { type?: unknown, ncco?: unknown, url?: unknown } } | undefined
      const actions = ['hangup', 'mute', 'unmute', 'earmuff', 'unearmuff', 'transfer']
      const badTransfer = update?.action === 'transfer' &&
        (update.destination?.type !== 'ncco' || !(Array.isArray(update.destination.ncco) || Array.isArray(update.destination.url)))
      if (typeof update?.action !== 'string' || !actions.includes(update.action) || badTransfer) {
        send(res, 400, { type: `${ERROR_TYPE}#validation`, title: 'Bad Request', detail: 'action must be one of hangup, mute, unmute, earmuff, unearmuff, transfer (with destination {type: ncco, ncco or url})' })
        return
      }
      send(res, 204)
      return
    }
    const appMatch = /^\/v2\/applications\/([^/]+)$/.exec(path)
    if (appMatch !== null && (method === 'GET' || method === 'PUT')) {
      const id = decodeURIComponent(appMatch[1]!)
      const app = applications.get(id)
      if (app === undefined) {
        send(res, 404, { type: `${ERROR_TYPE}#not-found`, title: 'Not Found', detail: `Application '${id}' does not exist, or you do not have access to it.` })
        return
      }
      if (method === 'GET') {
        send(res, 200, withLinks(id, app))
        return
      }
      const update = body as Record<string, unknown> | undefined
      if (update === undefined || typeof update.name !== 'string') {
        send(res, 400, { type: `${ERROR_TYPE}#validation`, title: 'Bad Request', detail: 'name is required' })
        return
      }
      const { _links: _ignored, ...stored } = update
      applications.set(id, stored)
      send(res, 200, withLinks(id, stored))
      return
    }
    send(res, 404, { type: `${ERROR_TYPE}#not-found`, title: 'Not Found', detail: `${method} ${path} is not part of this fake` })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { type: `${ERROR_TYPE}#internal`, title: 'Internal Server Error', detail: '' }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    applications,
    created,
    recordings,
    addRecording: (mp3) => {
      const id = randomUUID()
      recordings.set(id, mp3)
      return `http://127.0.0.1:${port}/v1/files/${id}`
    },
    fail: failure => { failures.push({ ...failure }) },
    delay: d => { delays.push({ ...d }) },
    close: async () => {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      await closeServer(server)
    }
  }
}
