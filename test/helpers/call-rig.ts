import type { TestContext } from 'node:test'
import { EventEmitter, once } from 'node:events'
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { EngineEventMap, SpeechEngine } from '../../lib/realtime/engine.js'
import { readFileSync } from 'node:fs'
import { build, type Built } from './build.js'
import { startFakeRealtime, waitFor, type FakeConnection, type FakeRealtime, type FakeRealtimeOptions } from '../fakes/realtime-server.js'
import type { CallSession } from '../../lib/call/session.js'
import { VonageMediaClient, type MediaClientOptions } from '../fakes/vonage-media-client.js'
import { startFakeVonage, type FakeVonage } from '../fakes/vonage-rest.js'
import { APP_ID, privateKey, publicKey } from './keys.js'
import { readWavPcm16 } from '../../lib/audio/wav.js'
import { bearerFor, signJwt, vonageClaims, TEST_SIGNATURE_SECRET } from './vonage-sign.js'

/**
 * The rig's Vonage signature secret: Vonage signs every webhook, and the app
 * refuses unsigned ones, so the rig signs like Vonage unless a test sets
 * VONAGE_SIGNATURE_SECRET: '' (with ALLOW_UNSIGNED_WEBHOOKS to try the opt-out).
 */
export const RIG_SIGNATURE_SECRET = TEST_SIGNATURE_SECRET

export const callerPcm16k = readWavPcm16(readFileSync(new URL('../fixtures/audio/caller-ja-16k.wav', import.meta.url))).samples
/**
 * A real interruption: 1.5 s of caller-ja-16k.wav from its first frame (voiced
 * from the start). The bridge decides what interrupts (lib/call/turn-wiring.ts),
 * so a bare speech_started no longer cuts the assistant: the caller's audio
 * must go on past BARGE_IN_MIN_MS.
 */
export const callerSpeech16k = callerPcm16k.subarray(0, 16000 * 1.5)
export const assistantPcm24k = readWavPcm16(readFileSync(new URL('../fixtures/audio/assistant-ja-24k.wav', import.meta.url))).samples

export interface WebhookOptions {
  /** POST (JSON body, the default) or GET (the body as the query, in key order). */
  method?: 'GET' | 'POST'
  /** Extra headers, e.g. X-Forwarded-For; `authorization: ''` sends none (an unsigned request). */
  headers?: Record<string, string>
}
export interface WebhookResponse { statusCode: number, json: () => any, body: string, headers: Record<string, unknown> }

/**
 * Sends a Vonage webhook to `app` the way Vonage does: JSON POST (or GET with
 * a query), signed with the app's VONAGE_SIGNATURE_SECRET when it has one —
 * payload_hash over the exact body bytes, or the query as one JSON object in
 * URL order. The one place tests sign webhooks (rig.answer and rig.webhook use it).
 */
export async function vonageWebhook (app: Built['app'], path: string, body: Record<string, unknown> = {}, o: WebhookOptions = {}): Promise<WebhookResponse> {
  const secret = app.config.VONAGE_SIGNATURE_SECRET
  const claims = app.config.VONAGE_APPLICATION_ID === '' ? {} : { application_id: app.config.VONAGE_APPLICATION_ID }
  const sign = (payload: string): Record<string, string> => secret === '' ? {} : { authorization: bearerFor(payload, secret, claims) }
  const extra = { ...o.headers }
  const unsigned = extra.authorization === ''
  if (unsigned) delete extra.authorization
  if (o.method === 'GET') {
    const query: Record<string, string> = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]))
    const qs = new URLSearchParams(query).toString()
    const url = qs === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${qs}`
    // The hash covers every parameter of the URL, the path's own (?leg=…) first.
    const all = Object.fromEntries(new URL(url, 'http://x').searchParams)
    return await app.inject({ method: 'GET', url, headers: { ...(unsigned ? {} : sign(JSON.stringify(all))), ...extra } })
  }
  const payload = JSON.stringify(body)
  return await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', ...(unsigned ? {} : sign(payload)), ...extra }, payload })
}

export interface CallRig extends Built {
  fake: FakeRealtime
  port: number
  /** Answers like Vonage does (POST JSON, signed with the app's VONAGE_SIGNATURE_SECRET when it has one), returns the NCCO. */
  answer: (body?: Record<string, unknown>, path?: string) => Promise<Array<Record<string, any>>>
  /**
   * Posts any other Vonage webhook (event, input, recording) the way Vonage does: JSON,
   * signed when the app has VONAGE_SIGNATURE_SECRET. Every test sends Vonage webhooks
   * through answer() or this, so that signing lives in one place.
   */
  webhook: (path: string, body: Record<string, unknown>, o?: WebhookOptions) => Promise<WebhookResponse>
  /** Opens the NCCO's WebSocket like Vonage does. */
  dial: (ncco: Array<Record<string, any>>, o?: MediaClientOptions) => Promise<VonageMediaClient>
}

/** The app listening on loopback with a fake Realtime API behind it. */
export async function callRig (t: TestContext, env: Record<string, string | number | boolean> = {}, fakeOpts: FakeRealtimeOptions = {}): Promise<CallRig> {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 2), ...fakeOpts })
  t.after(() => fake.close())
  const built = await build(t, { OPENAI_BASE_URL: fake.baseUrl, VONAGE_SIGNATURE_SECRET: RIG_SIGNATURE_SECRET, ...env })
  await built.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (built.app.server.address() as { port: number }).port
  const secret = built.app.config.VONAGE_SIGNATURE_SECRET
  const post = async (path: string, body: Record<string, unknown>, o?: WebhookOptions): ReturnType<CallRig['webhook']> => await vonageWebhook(built.app, path, body, o)
  let n = 0
  return {
    ...built,
    fake,
    port,
    answer: async (body = {}, path = '/incoming-call') => {
      const res = await post(path, { uuid: `call-${++n}-${Date.now()}`, conversation_uuid: 'CON-1', from: '818012345678', to: '815031023332', ...body })
      if (res.statusCode !== 200) throw new Error(`answer webhook: ${res.statusCode} ${res.body}`)
      return res.json()
    },
    webhook: post,
    dial: async (ncco, o = {}) => {
      const connect = ncco.find(a => a.action === 'connect')
      if (connect === undefined) throw new Error('NCCO has no connect action')
      const endpoint = connect.endpoint[0]
      const uri = String(endpoint.uri).replace(/^wss:\/\/[^/]+/, `ws://127.0.0.1:${port}`)
      const rate = Number(/rate=(\d+)/.exec(String(endpoint['content-type']))?.[1]) as 8000 | 16000 | 24000
      // authorization {type: 'vonage'}: Vonage signs the handshake with the same secret as its webhooks.
      const signed = endpoint.authorization?.type === 'vonage' && secret !== ''
      const headers = signed ? { authorization: `Bearer ${signJwt(vonageClaims('', { application_id: built.app.config.VONAGE_APPLICATION_ID }), secret)}`, ...o.headers } : o.headers
      const client = await VonageMediaClient.connect(uri, { rate, ...o, headers })
      t.after(() => client.close())
      return client
    }
  }
}

export interface ConversationRig extends CallRig {
  vonage: FakeVonage
  conn: FakeConnection
  media: VonageMediaClient
  uuid: string
  /** function_call_output items the bridge sent, in order, with their event index. */
  outputs: () => Array<{ index: number, callId: string, output: string, parsed: any }>
  /** Indexes (in conn.events) of the response.create events the bridge sent. */
  responseCreates: () => number[]
}

/**
 * callRig with a call in progress, the one way to start a call in tests that
 * need one: an inbound call answered and dialled through the app, with the fake
 * Realtime API (replying to every response.create, one response at a time like
 * the real one) and the fake Vonage REST API (the keys of helpers/keys.ts), its
 * greeting played.
 */
export async function conversationRig (t: TestContext, env: Record<string, string | number | boolean> = {}, fakeOpts: FakeRealtimeOptions = {}): Promise<ConversationRig> {
  const vonage = await startFakeVonage({ publicKey, applicationId: APP_ID })
  t.after(() => vonage.close())
  const greeting = fakeOpts.answer?.length ?? 24000 * 0.4
  const rig = await callRig(t, {
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: privateKey,
    VONAGE_API_HOST: vonage.url,
    ...env
  }, { respondToAll: true, oneResponseAtATime: true, ...fakeOpts, answer: fakeOpts.answer ?? new Int16Array(24000 * 0.4).fill(1000) })
  const uuid = `leg-${randomUUID()}`
  const next = rig.fake.nextConnection()
  const ncco = await rig.answer({ uuid })
  const conn = await next
  const media = await rig.dial(ncco)
  const greetingFrames = Math.floor(greeting / 480)
  await waitFor(() => media.frames.length >= greetingFrames, 5000, 'the greeting')
  // ...and its response.done seen, so the tests' responses do not overlap it.
  const session = rig.app.bridge.sessions.get(uuid)
  if (session === undefined) throw new Error('no session for the call')
  await waitFor(() => !session.gate.active, 5000, 'the greeting\'s response.done')
  const outputs = (): ReturnType<ConversationRig['outputs']> => conn.events.flatMap((e, index) => {
    const item = e.item as { type?: string, call_id?: string, output?: string } | undefined
    if (e.type !== 'conversation.item.create' || item?.type !== 'function_call_output') return []
    let parsed: unknown
    try { parsed = JSON.parse(item.output ?? '') } catch { parsed = item.output }
    return [{ index, callId: String(item.call_id), output: String(item.output), parsed }]
  })
  const responseCreates = (): number[] => conn.events.flatMap((e, i) => e.type === 'response.create' ? [i] : [])
  return { ...rig, vonage, conn, media, uuid, outputs, responseCreates }
}

export interface Received {
  at: number
  headers: IncomingMessage['headers']
  raw: string
  body: any
}

export interface FakeWebhook {
  url: string
  received: Received[]
  /** Decides each reply; default 200 {"ok":true}. */
  reply: (r: Received, n: number) => { status: number, body?: unknown, delayMs?: number }
  close: () => Promise<void>
}

/** A local stand-in for the operator's webhook (tools or call records). */
export async function startFakeWebhook (t: TestContext): Promise<FakeWebhook> {
  const received: Received[] = []
  const timers = new Set<NodeJS.Timeout>()
  const hook: FakeWebhook = {
    url: '',
    received,
    reply: () => ({ status: 200, body: { ok: true } }),
    close: async () => {
      for (const tm of timers) clearTimeout(tm)
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try { body = JSON.parse(raw) } catch { body = raw }
      const r: Received = { at: performance.now(), headers: req.headers, raw, body }
      received.push(r)
      const { status, body: out, delayMs = 0 } = hook.reply(r, received.length)
      const answer = (): void => {
        if (res.destroyed) return
        const text = out === undefined ? '' : typeof out === 'string' ? out : JSON.stringify(out)
        res.writeHead(status, { 'content-type': 'application/json' }).end(text)
      }
      if (delayMs > 0) { const tm = setTimeout(answer, delayMs); timers.add(tm) } else answer()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  hook.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`
  t.after(() => hook.close())
  return hook
}

/**
 * A SpeechEngine that records what the session asks of it and says only what
 * a test makes it say (emit): for session-level tests without a socket.
 */
export class StubEngine extends EventEmitter<EngineEventMap> implements SpeechEngine {
  readonly inputRate = 24000 as const
  readonly outputRate = 24000 as const
  readonly canTruncate = true
  readonly calls: Array<{ method: string, args: unknown[] }> = []
  appended = 0
  closed = false

  connect (): void { this.calls.push({ method: 'connect', args: [] }) }
  appendAudio (pcm: Uint8Array): void { this.appended += pcm.length }
  startResponse (opts?: { instructions?: string, noTools?: boolean }): boolean { this.calls.push({ method: 'startResponse', args: [opts] }); return !this.closed }
  cancelResponse (): void { this.calls.push({ method: 'cancelResponse', args: [] }) }
  truncate (itemId: string, heardMs: number): void { this.calls.push({ method: 'truncate', args: [itemId, heardMs] }) }
  discardInput (itemId: string): void { this.calls.push({ method: 'discardInput', args: [itemId] }) }
  addUserText (text: string): boolean { this.calls.push({ method: 'addUserText', args: [text] }); return !this.closed }
  sendToolResult (callId: string, output: string, respond: boolean): boolean { this.calls.push({ method: 'sendToolResult', args: [callId, output, respond] }); return !this.closed }
  close (): void { this.closed = true }
}

/** A media socket that keeps what is sent to it (a Vonage that reads everything at once). */
export class StubMedia {
  readonly sent: Array<Buffer | string> = []
  closed: [number | undefined, string | undefined] | null = null
  bufferedAmount = 0
  send (data: Buffer | string): void { this.sent.push(typeof data === 'string' ? data : Buffer.from(data)) }
  close (code?: number, reason?: string): void { this.closed = [code, reason] }
  get frames (): Buffer[] { return this.sent.filter((d): d is Buffer => typeof d !== 'string') }
}

/**
 * An explicit "nothing more is coming" signal instead of a sleep: once the
 * session has no response in flight, a marker (response.cancel, which the
 * fake ignores) is sent through the same socket; anything the session sent
 * before it reaches the fake first.
 */
export async function settled (session: CallSession, conn: FakeConnection, ms = 5000): Promise<void> {
  await waitFor(() => !session.gate.active, ms, 'no response in flight')
  const markers = conn.events.filter(e => e.type === 'response.cancel').length
  session.engine.cancelResponse()
  await waitFor(() => conn.events.filter(e => e.type === 'response.cancel').length > markers, ms, 'the marker at the fake')
}

/** The same for the media side: a text the session sends after everything before it. */
export async function mediaSettled (session: CallSession, client: VonageMediaClient, ms = 5000): Promise<void> {
  const marker = `marker-${Math.random()}`
  session.sendText(JSON.stringify({ marker }))
  await waitFor(() => client.texts.some(m => m.msg.marker === marker), ms, 'the marker at the media client')
}
