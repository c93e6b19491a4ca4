import { createServer, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { WebSocketServer, type WebSocket } from 'ws'
import type {
  ClientEvent,
  ErrorEvent,
  InputTranscriptDeltaEvent,
  OutputAudioDeltaEvent,
  OutputTranscriptDeltaEvent,
  ResponseEvent,
  ServerEvent,
  SessionClosedEvent,
  SessionConfig,
  SessionResource,
  SessionStartedEvent,
  SessionUsageUpdatedEvent
} from 'openai/resources/live/live'

/**
 * A local stand-in for OpenAI's GPT-Live WebSocket (`/v1/live/sessions`),
 * typed against the official `openai` package's Live types. Strict about
 * order as the real one: nothing before session.start, audio only after
 * session.started, unknown event types answered with `error`. It greets once
 * the caller's audio starts flowing (the model speaks only while its input
 * clock runs), streams its answers at real-time pace with timed transcript
 * fragments, reports cumulative usage every second, and plays the Responses
 * delegation of a function call (the continuation needs every output first).
 */
export interface FakeLiveOptions {
  /** PCM at the session's rate the model says as its greeting (none: no greeting). */
  greeting?: Int16Array
  /** Transcript fragments of the greeting, spread over it. */
  greetingText?: string
  /** What it says after a delegated response is continued (response.create). */
  continuation?: Int16Array
  continuationText?: string
  /** Audio per output delta, ms. */
  deltaMs?: number
  /** Refuse handshakes with this HTTP status. */
  refuse?: number
  /** Answer session.start with this error instead of session.started. */
  startError?: { code: string, message: string }
  /** session.usage.updated every this many ms (0: never). */
  usageEveryMs?: number
  /** GET /v1/models/{id}: the models the fake knows (others are 404). */
  models?: string[]
  /** Say the continuation after each session.instructions.append too (as the model would act on "say goodbye now"). */
  speakOnInstructions?: boolean
}

export interface FakeLiveConnection {
  ws: WebSocket
  url: string
  headers: IncomingMessage['headers']
  /** Every client event in order (appends without their audio). */
  events: Array<{ type: string, [k: string]: unknown }>
  /** Order or protocol violations the fake answered with `error`. */
  violations: string[]
  session: SessionConfig | null
  startedAt: number
  /** Caller audio received, at the session's rate. */
  audio: Int16Array[]
  audioSamples: number
  /** Assistant samples sent so far. */
  sentSamples: number
  closedReason: string | null
}

export interface FakeLive {
  /** Value for OPENAI_BASE_URL. */
  baseUrl: string
  connections: FakeLiveConnection[]
  /** WebSocket handshakes attempted (refused ones too). */
  handshakes: number
  nextConnection: () => Promise<FakeLiveConnection>
  /** Says `pcm` at real-time pace with `text` as transcript fragments; resolves when the last delta left. */
  say: (c: FakeLiveConnection, pcm: Int16Array, text?: string) => Promise<void>
  /** The caller's words as input transcript fragments on the session timeline. */
  hear: (c: FakeLiveConnection, text: string) => void
  /** A delegated response calling `name` (session.delegation.created, then response.event: created, output_item.done, completed with usage). */
  callFunction: (c: FakeLiveConnection, name: string, args: Record<string, unknown>) => { callId: string, responseId: string }
  /** Ends the session from the server's side (expired, content, connection_lost, …). */
  closeSession: (c: FakeLiveConnection, reason: SessionClosedEvent['reason']) => void
  sendRaw: (c: FakeLiveConnection, event: ServerEvent) => void
  close: () => Promise<void>
}

const CLIENT_TYPES = new Set<ClientEvent['type']>([
  'session.start', 'session.update', 'session.close', 'session.input_audio.append', 'session.input_audio.mute',
  'session.input_audio.unmute', 'session.output_audio.fixture.play', 'session.instructions.append',
  'session.thinking.append', 'session.commentary.append', 'decision.create', 'decision.item.create',
  'decision.item.delete', 'response.item.create', 'response.create'
])

let seq = 0
const id = (p: string): string => `${p}_${(++seq).toString(36).padStart(6, '0')}`

export async function startFakeLive (opts: FakeLiveOptions = {}): Promise<FakeLive> {
  const o = { deltaMs: 60, usageEveryMs: 1000, greetingText: 'お電話ありがとうございます。', continuationText: 'お電話ありがとうございました。失礼いたします。', ...opts }
  const server: Server = createServer((req, res) => { // GET /v1/models/{id}, as OpenAI answers it
    const m = /^\/v1\/models\/([^/?]+)$/.exec(req.url ?? '')
    const model = m === null ? null : decodeURIComponent(m[1]!)
    const known = o.models ?? ['gpt-live-1', 'gpt-5.4-mini', 'gpt-5.6-luna']
    const found = req.method === 'GET' && model !== null && known.includes(model)
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' })
      .end(JSON.stringify(found ? { id: model, object: 'model', created: 1788000000, owned_by: 'system' } : { error: { message: 'not found', type: 'invalid_request_error' } }))
  })
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  const sockets = new Set<Socket>()
  const connections: FakeLiveConnection[] = []
  const waiters: Array<(c: FakeLiveConnection) => void> = []
  const timers = new Set<NodeJS.Timeout>()
  let handshakes = 0
  /** Delegated calls waiting for their output, per response. */
  const openCalls = new Map<FakeLiveConnection, Map<string, Set<string>>>()

  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  server.on('upgrade', (req, socket, head) => {
    handshakes++
    if (o.refuse !== undefined) {
      socket.end(`HTTP/1.1 ${o.refuse} Refused\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"message":"refused by fake"}}`)
      return
    }
    // The real endpoint takes no query string: the model goes in session.start.
    if (!(req.url ?? '').startsWith('/v1/live/sessions') || (req.url ?? '').includes('?')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, ws => onConnection(ws, req))
  })

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => { timers.delete(t); fn() }, ms)
    timers.add(t)
  }
  const send = (c: FakeLiveConnection, e: ServerEvent): void => { if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(e)) }
  const timelineMs = (c: FakeLiveConnection): number => Math.round(performance.now() - c.startedAt)
  const rateOf = (c: FakeLiveConnection): number => {
    const f = c.session?.audio?.format
    return f?.type === 'audio/pcm' ? f.rate : 16000
  }
  function error (c: FakeLiveConnection, code: string, message: string, clientEventId?: string): void {
    c.violations.push(`${code}: ${message}`)
    const e: ErrorEvent = { type: 'error', event_id: id('event'), error: { type: 'invalid_request_error', code, message, ...(clientEventId !== undefined ? { client_event_id: clientEventId } : {}) } }
    send(c, e)
  }
  function resource (c: FakeLiveConnection): SessionResource {
    const s = c.session
    return { id: id('sess'), expires_at: Math.floor(Date.now() / 1000) + 3600, model: s?.model ?? 'gpt-live-1', status: 'active', ...(s?.audio !== undefined ? { audio: s.audio } : {}) }
  }

  async function say (c: FakeLiveConnection, pcm: Int16Array, text = ''): Promise<void> {
    const rate = rateOf(c)
    const per = Math.round(rate * o.deltaMs / 1000)
    const chunks = Math.max(1, Math.ceil(pcm.length / per))
    const words = [...text]
    const t0 = performance.now()
    const at0 = timelineMs(c)
    await new Promise<void>(resolve => {
      let k = 0
      const next = (): void => {
        if (c.ws.readyState !== c.ws.OPEN) { resolve(); return }
        const part = pcm.subarray(k * per, (k + 1) * per)
        const delta: OutputAudioDeltaEvent = { type: 'session.output_audio.delta', delta: Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('base64') }
        send(c, delta)
        c.sentSamples += part.length
        // The words of this stretch of audio, on the session timeline.
        const from = Math.floor(words.length * k / chunks)
        const to = Math.floor(words.length * (k + 1) / chunks)
        if (to > from) {
          const e: OutputTranscriptDeltaEvent = { type: 'session.output_transcript.delta', event_id: id('event'), delta: words.slice(from, to).join(''), start_ms: at0 + k * o.deltaMs, end_ms: at0 + (k + 1) * o.deltaMs }
          send(c, e)
        }
        k++
        if (k >= chunks) { resolve(); return }
        // Real-time pace on an absolute schedule: timer lateness does not add up.
        later(Math.max(0, t0 + k * o.deltaMs - performance.now()), next)
      }
      next()
    })
  }

  function hear (c: FakeLiveConnection, text: string): void {
    const at = timelineMs(c)
    const half = Math.ceil(text.length / 2)
    for (const [i, part] of [text.slice(0, half), text.slice(half)].entries()) {
      if (part === '') continue
      const e: InputTranscriptDeltaEvent = { type: 'session.input_transcript.delta', event_id: id('event'), delta: part, start_ms: at + i * 300, end_ms: at + (i + 1) * 300 }
      send(c, e)
    }
  }

  function responseEvent (c: FakeLiveConnection, delegationId: string, event: Record<string, unknown>): void {
    const e: ResponseEvent = { type: 'response.event', event_id: id('event'), delegation_id: delegationId, event }
    send(c, e)
  }

  function callFunction (c: FakeLiveConnection, name: string, args: Record<string, unknown>): { callId: string, responseId: string } {
    const delegationId = id('deleg')
    const responseId = id('resp')
    const callId = id('call')
    send(c, { type: 'session.delegation.created', event_id: id('event'), offset_ms: timelineMs(c), delegation: { id: delegationId, target: 'responses', type: 'delegation', response_id: responseId } })
    const calls = openCalls.get(c) ?? new Map<string, Set<string>>()
    openCalls.set(c, calls)
    calls.set(responseId, new Set([callId]))
    responseEvent(c, delegationId, { type: 'response.created', sequence_number: 0, response: { id: responseId, object: 'response', status: 'in_progress' } })
    responseEvent(c, delegationId, { type: 'response.output_item.done', sequence_number: 1, output_index: 0, item: { type: 'function_call', id: id('fc'), call_id: callId, name, arguments: JSON.stringify(args), status: 'completed' } })
    responseEvent(c, delegationId, {
      type: 'response.completed',
      sequence_number: 2,
      response: { id: responseId, object: 'response', status: 'completed', usage: { input_tokens: 1000, input_tokens_details: { cached_tokens: 200, cache_write_tokens: 0 }, output_tokens: 50, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 1050 } }
    })
    return { callId, responseId }
  }

  function closeSession (c: FakeLiveConnection, reason: SessionClosedEvent['reason']): void {
    c.closedReason = reason
    const e: SessionClosedEvent = { type: 'session.closed', event_id: id('event'), reason, session: resource(c), usage: { seconds: Math.ceil(timelineMs(c) / 1000) } }
    send(c, e)
    later(20, () => c.ws.close(1000))
  }

  function onConnection (ws: WebSocket, req: IncomingMessage): void {
    const c: FakeLiveConnection = { ws, url: req.url ?? '', headers: req.headers, events: [], violations: [], session: null, startedAt: 0, audio: [], audioSamples: 0, sentSamples: 0, closedReason: null }
    connections.push(c)
    waiters.shift()?.(c)
    let greeted = false
    let usageTimer: NodeJS.Timeout | null = null
    ws.on('close', () => { if (usageTimer !== null) clearInterval(usageTimer) })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) { error(c, 'invalid_event', 'binary frames are not accepted'); return }
      let e: ClientEvent & { event_id?: string | null }
      try { e = JSON.parse(data.toString('utf8')) } catch { error(c, 'invalid_json', 'not JSON'); return }
      const clientId = typeof e.event_id === 'string' ? e.event_id : undefined
      c.events.push(e.type === 'session.input_audio.append' ? { type: e.type, bytes: Buffer.byteLength(e.audio, 'base64') } : e as unknown as { type: string })
      if (!CLIENT_TYPES.has(e.type)) { error(c, 'unknown_event_type', `unknown event type ${String((e as { type?: unknown }).type)}`, clientId); return }
      if (c.session === null && e.type !== 'session.start') { error(c, 'session_not_started', `${e.type} before session.start`, clientId); return }
      switch (e.type) {
        case 'session.start': {
          if (c.session !== null) { error(c, 'session_already_started', 'session.start sent twice', clientId); return }
          if (o.startError !== undefined) { error(c, o.startError.code, o.startError.message, clientId); return }
          c.session = e.session
          const f = e.session.audio?.format
          if (f !== undefined && f.type === 'audio/pcm' && f.rate !== 16000 && f.rate !== 24000) { error(c, 'invalid_value', 'audio.format.rate must be 16000 or 24000', clientId); return }
          later(5, () => {
            c.startedAt = performance.now()
            const started: SessionStartedEvent = { type: 'session.started', event_id: id('event'), session: resource(c), ...(clientId !== undefined ? { client_event_id: clientId } : {}) }
            send(c, started)
            if (o.usageEveryMs > 0) {
              usageTimer = setInterval(() => {
                const u: SessionUsageUpdatedEvent = { type: 'session.usage.updated', event_id: id('event'), usage: { seconds: Math.floor(timelineMs(c) / 1000) } }
                send(c, u)
              }, o.usageEveryMs)
            }
          })
          return
        }
        case 'session.input_audio.append': {
          if (c.startedAt === 0) { error(c, 'session_not_started', 'audio before session.started', clientId); return }
          const bytes = Buffer.from(e.audio, 'base64')
          const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1).slice()
          c.audio.push(pcm)
          c.audioSamples += pcm.length
          if (!greeted && o.greeting !== undefined) { greeted = true; void say(c, o.greeting, o.greetingText) }
          return
        }
        case 'response.item.create': {
          const item = e.item as { type?: string, call_id?: string }
          if (item.type === 'function_call_output') {
            for (const calls of openCalls.get(c)?.values() ?? []) calls.delete(item.call_id ?? '')
          }
          return
        }
        case 'response.create': {
          const calls = openCalls.get(c)
          const open = [...(calls?.values() ?? [])].some(s => s.size > 0)
          if (open) { error(c, 'tool_outputs_missing', 'response.create before every function call of the response was answered', clientId); return }
          calls?.clear()
          if (o.continuation !== undefined) void say(c, o.continuation, o.continuationText)
          return
        }
        case 'session.close':
          closeSession(c, 'close_requested')
          break
        case 'session.instructions.append':
          if (o.speakOnInstructions === true && o.continuation !== undefined) void say(c, o.continuation, o.continuationText)
          break
        default:
          // session.instructions.append and the rest: accepted, nothing to say.
      }
    })
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    connections,
    get handshakes () { return handshakes },
    nextConnection: async () => await new Promise<FakeLiveConnection>(resolve => waiters.push(resolve)),
    say,
    hear,
    callFunction,
    closeSession,
    sendRaw: send,
    close: async () => {
      for (const t of timers) clearTimeout(t)
      for (const ws of wss.clients) ws.terminate()
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
