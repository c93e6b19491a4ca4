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
import { startFakeLive, type FakeLive, type FakeLiveConnection, type FakeLiveOptions } from '../fakes/live-server.js'

/** The two speech engines a call can run on (OPENAI_ENGINE): tests that matter run on both. */
export type EngineName = 'realtime' | 'live'
export const ENGINES: readonly EngineName[] = ['realtime', 'live']

import { bearerFor, signJwt, vonageClaims, TEST_SIGNATURE_SECRET } from './vonage-sign.js'
import { closeServer } from './http-server.js'

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
  /** The fake Realtime API (with engine 'live' it still serves, but no call reaches it). */
  fake: FakeRealtime
  engine: EngineName
  /** The fake GPT-Live server when engine is 'live'. */
  live: FakeLive | null
  /** The engine's fake, driven the same way whichever it is. */
  model: EngineDriver
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

export interface RigOptions {
  /** The engine the app runs (OPENAI_ENGINE); default realtime. */
  engine?: EngineName
  /** The fake GPT-Live's options, with engine 'live'. */
  live?: FakeLiveOptions
}

/** The app listening on loopback with a fake Realtime API (or, with `engine: 'live'`, a fake GPT-Live) behind it. */
export async function callRig (t: TestContext, env: Record<string, string | number | boolean> = {}, fakeOpts: FakeRealtimeOptions = {}, o: RigOptions = {}): Promise<CallRig> {
  const engine = o.engine ?? 'realtime'
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 2), ...fakeOpts })
  t.after(() => fake.close())
  const live = engine === 'live' ? await startFakeLive(o.live) : null
  if (live !== null) t.after(() => live.close())
  const engineEnv: Record<string, string> = live === null ? { OPENAI_BASE_URL: fake.baseUrl } : { OPENAI_BASE_URL: live.baseUrl, OPENAI_ENGINE: 'live' }
  const built = await build(t, { ...engineEnv, VONAGE_SIGNATURE_SECRET: RIG_SIGNATURE_SECRET, ...env })
  await built.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (built.app.server.address() as { port: number }).port
  const secret = built.app.config.VONAGE_SIGNATURE_SECRET
  const post = async (path: string, body: Record<string, unknown>, o?: WebhookOptions): ReturnType<CallRig['webhook']> => await vonageWebhook(built.app, path, body, o)
  let n = 0
  return {
    ...built,
    fake,
    engine,
    live,
    model: live === null ? realtimeDriver(fake) : liveDriver(live),
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
  /** The Realtime session (engine 'realtime' only: reading it on a GPT-Live call throws). */
  conn: FakeConnection
  /** The GPT-Live session (engine 'live'), else null. */
  liveConn: FakeLiveConnection | null
  media: VonageMediaClient
  uuid: string
  /** function_call_output items the bridge sent, in order, with their event index (Realtime). */
  outputs: () => Array<{ index: number, callId: string, output: string, parsed: any }>
  /** Indexes (in conn.events) of the response.create events the bridge sent (Realtime). */
  responseCreates: () => number[]
}

/**
 * callRig with a call in progress, the one way to start a call in tests that
 * need one: an inbound call answered and dialled through the app, with the fake
 * Realtime API (replying to every response.create, one response at a time like
 * the real one) — or with `engine: 'live'` the fake GPT-Live (greeting once the
 * caller's audio flows, a goodbye after each continued delegation) — and the
 * fake Vonage REST API (the keys of helpers/keys.ts), its greeting played.
 */
export async function conversationRig (t: TestContext, env: Record<string, string | number | boolean> = {}, fakeOpts: FakeRealtimeOptions = {}, o: RigOptions = {}): Promise<ConversationRig> {
  const vonage = await startFakeVonage({ publicKey, applicationId: APP_ID })
  t.after(() => vonage.close())
  const live = o.engine === 'live'
  const greeting = live ? (o.live?.greeting?.length ?? 16000 * 0.4) : (fakeOpts.answer?.length ?? 24000 * 0.4)
  const liveOpts = { greeting: new Int16Array(16000 * 0.4).fill(1000), continuation: new Int16Array(16000 * 0.4).fill(1000), ...o.live }
  const rig = await callRig(t, {
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: privateKey,
    VONAGE_API_HOST: vonage.url,
    ...env
  }, { respondToAll: true, oneResponseAtATime: true, ...fakeOpts, answer: fakeOpts.answer ?? new Int16Array(24000 * 0.4).fill(1000) }, { ...o, live: liveOpts })
  const uuid = `leg-${randomUUID()}`
  const next = live ? null : rig.fake.nextConnection()
  const nextLive = live ? rig.live!.nextConnection() : null
  const ncco = await rig.answer({ uuid })
  const conn = next === null ? null : await next
  const liveConn = nextLive === null ? null : await nextLive
  rig.model.use(conn ?? liveConn!)
  const media = await rig.dial(ncco)
  // GPT-Live speaks only while its input clock runs: the caller's line is open (silence).
  if (live) void media.stream(new Int16Array(16000 * 2), { loop: true })
  const greetingFrames = Math.floor(greeting / (live ? 320 : 480))
  await waitFor(() => media.frames.length >= greetingFrames, 5000, 'the greeting')
  // ...and its response.done seen (GPT-Live: its line ended), so the tests' responses do not overlap it.
  const s = rig.app.bridge.sessions.get(uuid)
  if (s === undefined) throw new Error('no session for the call')
  await waitFor(() => !s.gate.active, 5000, 'the greeting\'s response.done')
  const realtime = (): FakeConnection => { if (conn === null) throw new Error('conn is the Realtime session: use rig.model or liveConn on a GPT-Live call'); return conn }
  const outputs = (): ReturnType<ConversationRig['outputs']> => realtime().events.flatMap((e, index) => {
    const item = e.item as { type?: string, call_id?: string, output?: string } | undefined
    if (e.type !== 'conversation.item.create' || item?.type !== 'function_call_output') return []
    let parsed: unknown
    try { parsed = JSON.parse(item.output ?? '') } catch { parsed = item.output }
    return [{ index, callId: String(item.call_id), output: String(item.output), parsed }]
  })
  const responseCreates = (): number[] => realtime().events.flatMap((e, i) => e.type === 'response.create' ? [i] : [])
  const out = { ...rig, vonage, liveConn, media, uuid, outputs, responseCreates } as unknown as ConversationRig
  Object.defineProperty(out, 'conn', { get: realtime, enumerable: true })
  return out
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
      await closeServer(server)
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
  beat (): void {}
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

/**
 * One engine's fake, driven the same way for either engine, so that one test
 * body runs on both: the next model session, the caller audio it heard, a
 * tool call by the model, the caller's words, what the bridge told it.
 */
export interface EngineDriver {
  engine: EngineName
  /** The model session of the next call (call before answering it). */
  nextSession: () => Promise<void>
  /** Drive this session (one the test already waited for). */
  use: (c: FakeConnection | FakeLiveConnection) => void
  /** Caller audio the current session received, at the engine's input rate. */
  callerAudio: () => Int16Array
  inputRate: number
  /** The model calls `name` (Realtime: a response with the call; GPT-Live: a delegated Responses call). */
  callTool: (name: string, args: Record<string, unknown>) => Promise<string>
  /** Tool results the bridge sent back, in order. */
  toolOutputs: () => Array<{ callId: string, output: string }>
  /** The caller's words, as the engine transcribes them. */
  hearCaller: (text: string) => void
  /** Text the bridge gave the model beside the audio (key presses, notes). */
  notes: () => string[]
  /** Client event types the session received, in order. */
  eventTypes: () => string[]
}

function concat (chunks: Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.length }
  return out
}

function realtimeDriver (fake: FakeRealtime): EngineDriver {
  let conn: FakeConnection | null = null
  const current = (): FakeConnection => { if (conn === null) throw new Error('no model session yet'); return conn }
  return {
    engine: 'realtime',
    inputRate: 24000,
    nextSession: async () => { conn = await fake.nextConnection() },
    use: (c) => { conn = c as FakeConnection },
    callerAudio: () => concat(current().audio),
    callTool: async (name, args) => (await fake.functionCall(current(), { name, arguments: JSON.stringify(args) })).callId,
    toolOutputs: () => current().events.flatMap(e => {
      const item = e.item as { type?: string, call_id?: string, output?: string } | undefined
      return e.type === 'conversation.item.create' && item?.type === 'function_call_output' ? [{ callId: String(item.call_id), output: String(item.output) }] : []
    }),
    hearCaller: (text) => { fake.transcribeInput(current(), text) },
    notes: () => current().events.flatMap(e => {
      const item = e.item as { type?: string, role?: string, content?: Array<{ text?: string }> } | undefined
      return e.type === 'conversation.item.create' && item?.type === 'message' && item.role === 'user' ? [item.content?.[0]?.text ?? ''] : []
    }),
    eventTypes: () => current().events.map(e => e.type)
  }
}

function liveDriver (live: FakeLive): EngineDriver {
  let conn: FakeLiveConnection | null = null
  const current = (): FakeLiveConnection => { if (conn === null) throw new Error('no model session yet'); return conn }
  return {
    engine: 'live',
    inputRate: 16000,
    nextSession: async () => { conn = await live.nextConnection() },
    use: (c) => { conn = c as FakeLiveConnection },
    callerAudio: () => concat(current().audio),
    callTool: async (name, args) => live.callFunction(current(), name, args).callId,
    toolOutputs: () => current().events.flatMap(e => {
      const item = e.item as { type?: string, call_id?: string, output?: string } | undefined
      return e.type === 'response.item.create' && item?.type === 'function_call_output' ? [{ callId: String(item.call_id), output: String(item.output) }] : []
    }),
    hearCaller: (text) => { live.hear(current(), text) },
    notes: () => current().events.flatMap(e => e.type === 'session.instructions.append' ? [String(e.content)] : []),
    eventTypes: () => current().events.map(e => e.type)
  }
}
