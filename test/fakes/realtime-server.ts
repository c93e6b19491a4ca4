import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { checkClientEvent, checkServerEvent } from './realtime-schemas.js'

/**
 * A local stand-in for the OpenAI Realtime API speaking the GA protocol:
 * session.created on connect, session.updated, responses made of
 * output_item.added → output_audio.delta… → output_audio.done → response.done
 * with usage, speech_started on request, truncation with the real API's bound
 * check. It validates every client event against the official schemas and
 * its own events too, and records what it got.
 */
export interface FakeRealtimeOptions {
  /** 24 kHz PCM the assistant "says" for each response. */
  answer?: Int16Array
  /** Delay from response.create to the first delta (the model's think time). */
  modelDelayMs?: number
  /** Audio per delta, ms (the real API sends roughly 40–200 ms per delta). */
  deltaMs?: number
  /** Send every delta at once (as the API does for short answers) or paced at `paceFactor` × real time. */
  burst?: boolean
  paceFactor?: number
  /** Refuse handshakes with this HTTP status, or never answer them ('hang'). */
  refuse?: number | 'hang'
  /** More of OpenAI's HTTP API on the same host (e.g. test/fakes/openai-transcriptions.ts); true = it answered. */
  http?: (req: IncomingMessage, res: ServerResponse) => boolean
  /** Reply to the first response.create automatically (the greeting). */
  autoRespond?: boolean
  /** Reply to every response.create (tool outputs, DTMF messages), not just the first one. */
  respondToAll?: boolean
  /** Refuse a response.create while a response is in progress, as the real API does (conversation_already_has_active_response). */
  oneResponseAtATime?: boolean
  /** Text of the assistant's transcript for each response. */
  transcript?: string
  /** Also stream the transcript as response.output_audio_transcript.delta events before the audio. */
  transcriptDeltas?: boolean
  /** Answer session.update with this error instead of session.updated (an unknown field, a bad voice). */
  sessionUpdateError?: { code: string, message: string }
  /** Answer pings (ws does by default); false plays a peer whose reading side is stuck. */
  pong?: boolean
  /** On each response.create: the first bytes of a frame, then nothing (a peer stalled mid-frame). */
  stallOnResponse?: boolean
  /** Serve wss:// with this identity (test/fixtures/tls), as the real API serves only TLS. */
  tls?: { key: Buffer | string, cert: Buffer | string }
  /**
   * Act on the session's turn_detection as the real server does (off by
   * default, so tests written before it keep their behaviour): cancel the
   * response in progress at speech_started when interrupt_response is on (the
   * GA default), answer after speech_stopped when create_response is on (the
   * GA default), and answer response.cancel.
   */
  vad?: boolean
  /**
   * Detect the caller's speech in the audio itself, as the server VAD does
   * (with `vad`): an energy detector (speech from `startFrames` 20 ms frames
   * at or above `dbfs`, over after the session's silence_duration_ms below
   * it) that sends speech_started / speech_stopped + committed at the audio
   * positions where they happen, then the turn's transcript: `transcribe`
   * gets the turn's length and index and returns its text (null: none).
   */
  speechDetection?: { dbfs?: number, startFrames?: number, transcribe?: (audioMs: number, n: number) => string | null }
  /** GET /v1/models/{id}: the models the fake knows (others are 404), with their shutdown_date. */
  models?: Record<string, string | null>
  /** The only key GET /v1/models/{id} accepts (others get 401); unset accepts any. */
  apiKey?: string
  /** More of OpenAI's REST API on the same base URL (test/fakes/openai-rest.ts): true when it answered. */
  rest?: { handle: (req: IncomingMessage, res: ServerResponse) => boolean }
}

export interface FakeFunctionCall {
  name: string
  /** The arguments JSON text, sent as is (so it can be malformed on purpose). */
  arguments: string
  callId?: string
  /** 24 kHz PCM the assistant says before calling, in the same response. */
  say?: Int16Array
  /** Transcript of `say` (default: the fake's transcript option). */
  transcript?: string
  /** End the response as cancelled by the caller speaking (turn_detected). */
  cancelled?: boolean
}

export interface FakeConnection {
  ws: WebSocket
  url: string
  headers: IncomingMessage['headers']
  events: Array<{ type: string, [k: string]: unknown }>
  invalid: string[]
  /** Caller audio received via input_audio_buffer.append, 24 kHz samples. */
  audio: Int16Array[]
  audioSamples: number
  closedAt: number | null
  /** Item id → audio ms the fake produced for it (the bound of truncate). */
  itemAudioMs: Map<string, number>
  lastItemId: string | null
  lastResponseId: string | null
  /** audio.input.turn_detection from the last session.update that set it (null: none, or turned off). */
  turnDetection: Record<string, unknown> | null
  /** The user item the current speech will be committed as (speech_started → speech_stopped). */
  speechItemId: string | null
  /** Caller audio (24 kHz samples) the fake had received when each client event arrived. */
  audioAt: Map<object, number>
  /** speechDetection's state. */
  detector: { rest: Int16Array, loud: number, quietMs: number, startSample: number, speaking: boolean, turns: number }
  /** The masking key of each frame the client sent (the first 64), as read off the wire. */
  masks: Buffer[]
  /** The TCP (or TLS) socket under the WebSocket, for writing broken frames. */
  socket: Duplex
}

export interface FakeRealtime {
  url: string
  /** Value for OPENAI_BASE_URL. */
  baseUrl: string
  connections: FakeConnection[]
  /** Problems with what the fake itself sent (should stay empty). */
  selfInvalid: string[]
  handshakes: number
  /** Model ids asked for with GET /v1/models/{id}. */
  modelRequests: string[]
  nextConnection: () => Promise<FakeConnection>
  respond: (c: FakeConnection, pcm?: Int16Array) => Promise<void>
  send: (c: FakeConnection, event: Record<string, unknown>) => void
  speechStarted: (c: FakeConnection) => void
  /** speech_stopped, then input_audio_buffer.committed of the speech's item (server VAD commits itself); returns the item id. */
  speechStopped: (c: FakeConnection) => string
  /** One text message of `bytes` bytes (a valid event padded with spaces), e.g. over the bridge's size limit. */
  sendBig: (c: FakeConnection, bytes: number) => void
  /** The header and first bytes of a text frame, then nothing more: the peer stalls mid-frame. */
  stallMidFrame: (c: FakeConnection) => void
  /**
   * A response in which the model calls a function: optionally an assistant
   * message with audio first (`say`, e.g. a goodbye), then the function_call
   * item, function_call_arguments.delta/.done and response.done.
   */
  functionCall: (c: FakeConnection, f: FakeFunctionCall) => Promise<{ responseId: string, callId: string, itemId: string }>
  /** input_audio_buffer.committed for a caller turn; returns the user item id. */
  commitInput: (c: FakeConnection) => string
  /** conversation.item.input_audio_transcription.completed (after committing a new item unless `itemId` is given). */
  transcribeInput: (c: FakeConnection, text: string, itemId?: string) => string
  setOptions: (o: Partial<FakeRealtimeOptions>) => void
  close: () => Promise<void>
}

let seq = 0
const id = (p: string): string => `${p}_${(++seq).toString(36).padStart(6, '0')}`

export async function startFakeRealtime (opts: FakeRealtimeOptions = {}): Promise<FakeRealtime> {
  const o: FakeRealtimeOptions = { modelDelayMs: 0, deltaMs: 100, burst: true, paceFactor: 1, autoRespond: true, transcript: 'こんにちは。チャッピーです。', ...opts }
  const server: Server = o.tls !== undefined ? createTlsServer({ key: o.tls.key, cert: o.tls.cert }) : createServer()
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: o.pong !== false })
  const sockets = new Set<Socket>()
  const connections: FakeConnection[] = []
  const waiters: Array<(c: FakeConnection) => void> = []
  const selfInvalid: string[] = []
  const timers = new Set<NodeJS.Timeout>()
  let handshakes = 0
  /** Connection → id of the response in progress (oneResponseAtATime). */
  const active = new Map<FakeConnection, string>()
  /** Responses cancelled mid-stream (vad): their remaining audio is never sent. */
  const cancelled = new Map<string, 'turn_detected' | 'client_cancelled'>()

  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  const modelRequests: string[] = []
  server.on('request', (req, res) => { // GET /v1/models/{id}, as OpenAI answers it
    if (o.rest?.handle(req, res) === true) return
    if (o.http?.(req, res) === true) return
    const m = /^\/v1\/models\/([^/?]+)$/.exec(req.url ?? '')
    const reply = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
    if (req.method !== 'GET' || m === null) return reply(404, { error: { message: 'not found', type: 'invalid_request_error' } })
    const model = decodeURIComponent(m[1]!)
    modelRequests.push(model)
    if (o.apiKey !== undefined && req.headers.authorization !== `Bearer ${o.apiKey}`) return reply(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } })
    const known = o.models ?? { 'gpt-realtime-2.1': null, 'gpt-transcribe': null, 'gpt-live-transcribe': null, 'gpt-5.6-luna': null }
    if (!(model in known)) return reply(404, { error: { message: `The model '${model}' does not exist`, type: 'invalid_request_error', code: 'model_not_found' } })
    reply(200, { id: model, object: 'model', created: 1756339200, owned_by: 'system', ...(known[model] !== null ? { shutdown_date: known[model] } : {}) })
  })
  server.on('upgrade', (req, socket, head) => {
    handshakes++
    if (o.refuse === 'hang') return
    if (typeof o.refuse === 'number') {
      socket.end(`HTTP/1.1 ${o.refuse} Refused\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"message":"refused by fake"}}`)
      return
    }
    const masks: Buffer[] = []
    tapMasks(socket, masks)
    wss.handleUpgrade(req, socket, head, ws => onConnection(ws, req, socket, masks))
  })

  function send (c: FakeConnection, event: Record<string, unknown>): void {
    const e = { event_id: id('event'), ...event }
    const problem = checkServerEvent(e)
    if (problem !== null) selfInvalid.push(problem)
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(e))
  }

  function later (ms: number, fn: () => void): void {
    const t = setTimeout(() => { timers.delete(t); fn() }, ms)
    timers.add(t)
  }

  async function respond (c: FakeConnection, pcm: Int16Array = o.answer ?? new Int16Array(24000)): Promise<void> {
    const responseId = id('resp')
    const itemId = id('item')
    c.lastItemId = itemId
    c.lastResponseId = responseId
    active.set(c, responseId)
    const item = { id: itemId, type: 'message', object: 'realtime.item', status: 'in_progress', role: 'assistant', content: [] }
    send(c, { type: 'response.created', response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [] } })
    send(c, { type: 'response.output_item.added', response_id: responseId, output_index: 0, item })
    if ((o.modelDelayMs ?? 0) > 0) await new Promise<void>(resolve => later(o.modelDelayMs!, resolve))
    if (o.transcriptDeltas === true) {
      for (const part of (o.transcript ?? '').match(/.{1,4}/gsu) ?? []) send(c, { type: 'response.output_audio_transcript.delta', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta: part })
    }
    const per = Math.max(1, Math.round(24 * (o.deltaMs ?? 100)))
    c.itemAudioMs.set(itemId, 0)
    for (let off = 0; off < pcm.length; off += per) {
      if (c.ws.readyState !== c.ws.OPEN) return
      if (cancelled.has(responseId)) return endCancelled(c, responseId, itemId, item, cancelled.get(responseId)!)
      const part = pcm.subarray(off, Math.min(pcm.length, off + per))
      const delta = Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('base64')
      c.itemAudioMs.set(itemId, (c.itemAudioMs.get(itemId) ?? 0) + part.length / 24)
      send(c, { type: 'response.output_audio.delta', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta })
      if (o.burst !== true) await new Promise<void>(resolve => later(part.length / 24 / (o.paceFactor ?? 1), resolve))
    }
    send(c, { type: 'response.output_audio.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 })
    send(c, { type: 'response.output_audio_transcript.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, transcript: o.transcript })
    send(c, { type: 'response.output_item.done', response_id: responseId, output_index: 0, item: { ...item, status: 'completed' } })
    const audioTokens = Math.ceil(pcm.length / 24 / 50)
    cancelled.delete(responseId)
    if (active.get(c) === responseId) active.delete(c)
    send(c, {
      type: 'response.done',
      response: {
        id: responseId,
        object: 'realtime.response',
        status: 'completed',
        output: [],
        usage: { total_tokens: 100 + audioTokens, input_tokens: 100, output_tokens: audioTokens, input_token_details: { text_tokens: 80, audio_tokens: 20, cached_tokens: 0 }, output_token_details: { text_tokens: 0, audio_tokens: audioTokens } }
      }
    })
  }

  /** How the real API ends a response cut by VAD or response.cancel: status cancelled, no more audio. */
  function endCancelled (c: FakeConnection, responseId: string, itemId: string, item: Record<string, unknown>, reason: 'turn_detected' | 'client_cancelled'): void {
    cancelled.delete(responseId)
    if (active.get(c) === responseId) active.delete(c)
    send(c, { type: 'response.output_audio.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 })
    send(c, { type: 'response.output_item.done', response_id: responseId, output_index: 0, item: { ...item, status: 'incomplete' } })
    send(c, {
      type: 'response.done',
      response: { id: responseId, object: 'realtime.response', status: 'cancelled', status_details: { type: 'cancelled', reason }, output: [] }
    })
  }

  /** GA defaults: both true when turn detection is on and the field is absent. */
  function vadFlag (c: FakeConnection, name: 'interrupt_response' | 'create_response'): boolean {
    return o.vad === true && c.turnDetection !== null && c.turnDetection[name] !== false
  }

  function speechStarted (c: FakeConnection): void {
    c.speechItemId = id('item')
    send(c, { type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(c.audioSamples / 24), item_id: c.speechItemId })
    const r = active.get(c)
    if (r !== undefined && vadFlag(c, 'interrupt_response')) cancelled.set(r, 'turn_detected')
  }

  function speechStopped (c: FakeConnection): string {
    const itemId = c.speechItemId ?? id('item')
    c.speechItemId = null
    send(c, { type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(c.audioSamples / 24), item_id: itemId })
    send(c, { type: 'input_audio_buffer.committed', previous_item_id: c.lastItemId, item_id: itemId })
    if (vadFlag(c, 'create_response') && !active.has(c)) void respond(c)
    return itemId
  }

  /** speechDetection: 20 ms frames of the audio just received, at their positions. */
  function detect (c: FakeConnection, pcm: Int16Array): void {
    const d = c.detector
    const sd = o.speechDetection!
    const all = new Int16Array(d.rest.length + pcm.length)
    all.set(d.rest)
    all.set(pcm, d.rest.length)
    const FRAME = 480
    let off = 0
    const base = c.audioSamples - all.length
    for (; off + FRAME <= all.length; off += FRAME) {
      let sum = 0
      for (let i = off; i < off + FRAME; i++) sum += all[i]! * all[i]!
      const dbfs = 20 * Math.log10(Math.max(1e-9, Math.sqrt(sum / FRAME) / 32768))
      const loud = dbfs >= (sd.dbfs ?? -35)
      const silenceMs = Number(c.turnDetection?.silence_duration_ms ?? 500)
      if (!d.speaking) {
        d.loud = loud ? d.loud + 1 : 0
        if (d.loud === 1) d.startSample = base + off
        if (d.loud >= (sd.startFrames ?? 2) && c.turnDetection !== null) {
          d.speaking = true
          d.quietMs = 0
          c.speechItemId = id('item')
          send(c, { type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(d.startSample / 24), item_id: c.speechItemId })
          const r = active.get(c)
          if (r !== undefined && vadFlag(c, 'interrupt_response')) cancelled.set(r, 'turn_detected')
        }
      } else {
        d.quietMs = loud ? 0 : d.quietMs + 20
        if (d.quietMs >= silenceMs) {
          d.speaking = false
          d.loud = 0
          const ms = (base + off + FRAME) / 24 - d.startSample / 24 - silenceMs
          const itemId = speechStopped(c)
          const text = sd.transcribe?.(ms, d.turns++) ?? null
          if (text !== null) transcribeInput(c, text, itemId)
        }
      }
    }
    d.rest = all.slice(off)
  }

  async function functionCall (c: FakeConnection, f: FakeFunctionCall): Promise<{ responseId: string, callId: string, itemId: string }> {
    const responseId = id('resp')
    const callId = f.callId ?? id('call')
    const fcItemId = id('item')
    c.lastResponseId = responseId
    active.set(c, responseId)
    send(c, { type: 'response.created', response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [] } })
    let index = 0
    let audioTokens = 0
    if (f.say !== undefined) {
      const itemId = id('item')
      c.lastItemId = itemId
      const item = { id: itemId, type: 'message', object: 'realtime.item', status: 'in_progress', role: 'assistant', content: [] }
      send(c, { type: 'response.output_item.added', response_id: responseId, output_index: 0, item })
      const per = Math.max(1, Math.round(24 * (o.deltaMs ?? 100)))
      c.itemAudioMs.set(itemId, 0)
      for (let off = 0; off < f.say.length; off += per) {
        if (c.ws.readyState !== c.ws.OPEN) return { responseId, callId, itemId: fcItemId }
        const part = f.say.subarray(off, Math.min(f.say.length, off + per))
        c.itemAudioMs.set(itemId, (c.itemAudioMs.get(itemId) ?? 0) + part.length / 24)
        send(c, { type: 'response.output_audio.delta', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta: Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('base64') })
        if (o.burst !== true) await new Promise<void>(resolve => later(part.length / 24 / (o.paceFactor ?? 1), resolve))
      }
      send(c, { type: 'response.output_audio.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 })
      send(c, { type: 'response.output_audio_transcript.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, transcript: f.transcript ?? o.transcript })
      send(c, { type: 'response.output_item.done', response_id: responseId, output_index: 0, item: { ...item, status: 'completed' } })
      audioTokens = Math.ceil(f.say.length / 24 / 50)
      index = 1
    }
    const fcItem = { id: fcItemId, type: 'function_call', object: 'realtime.item', status: 'in_progress', call_id: callId, name: f.name, arguments: '' }
    send(c, { type: 'response.output_item.added', response_id: responseId, output_index: index, item: fcItem })
    send(c, { type: 'response.function_call_arguments.delta', response_id: responseId, item_id: fcItemId, output_index: index, call_id: callId, delta: f.arguments })
    send(c, { type: 'response.function_call_arguments.done', response_id: responseId, item_id: fcItemId, output_index: index, call_id: callId, name: f.name, arguments: f.arguments })
    send(c, { type: 'response.output_item.done', response_id: responseId, output_index: index, item: { ...fcItem, status: 'completed', arguments: f.arguments } })
    if (active.get(c) === responseId) active.delete(c)
    send(c, {
      type: 'response.done',
      response: {
        id: responseId,
        object: 'realtime.response',
        status: f.cancelled === true ? 'cancelled' : 'completed',
        ...(f.cancelled === true ? { status_details: { type: 'cancelled', reason: 'turn_detected' } } : {}),
        output: [],
        usage: { total_tokens: 110 + audioTokens, input_tokens: 100, output_tokens: 10 + audioTokens, input_token_details: { text_tokens: 80, audio_tokens: 20, cached_tokens: 0 }, output_token_details: { text_tokens: 10, audio_tokens: audioTokens } }
      }
    })
    return { responseId, callId, itemId: fcItemId }
  }

  function commitInput (c: FakeConnection): string {
    const itemId = id('item')
    send(c, { type: 'input_audio_buffer.committed', previous_item_id: c.lastItemId, item_id: itemId })
    return itemId
  }

  function transcribeInput (c: FakeConnection, text: string, itemId = commitInput(c)): string {
    send(c, { type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript: text, usage: { type: 'duration', seconds: 1 } })
    return itemId
  }

  function stallMidFrame (c: FakeConnection): void {
    // A text frame that promises 1000 bytes and delivers 10.
    c.socket.write(Buffer.concat([Buffer.from([0x81, 126, 0x03, 0xe8]), Buffer.from('{"type":"r')]))
  }

  function onConnection (ws: WebSocket, req: IncomingMessage, socket: Duplex, masks: Buffer[]): void {
    const c: FakeConnection = { ws, url: req.url ?? '', headers: req.headers, events: [], invalid: [], audio: [], audioSamples: 0, closedAt: null, itemAudioMs: new Map(), lastItemId: null, lastResponseId: null, masks, socket, turnDetection: null, speechItemId: null, audioAt: new Map(), detector: { rest: new Int16Array(0), loud: 0, quietMs: 0, startSample: 0, speaking: false, turns: 0 } }
    connections.push(c)
    ws.on('close', () => { c.closedAt = performance.now() })
    if (req.headers['openai-beta'] !== undefined) {
      // What the real API now does with beta clients.
      send(c, { type: 'error', error: { type: 'invalid_request_error', code: 'beta_api_shape_disabled', message: 'The beta Realtime API is no longer available.' } })
      ws.close(4000, 'beta_api_shape_disabled')
      return
    }
    const sessionId = id('sess')
    send(c, { type: 'session.created', session: { type: 'realtime', id: sessionId, object: 'realtime.session', model: 'gpt-realtime' } })
    let responded = false
    ws.on('message', (data: Buffer) => {
      let event: { type: string, [k: string]: unknown }
      try {
        event = JSON.parse(data.toString('utf8'))
      } catch {
        c.invalid.push('not JSON')
        return
      }
      const problem = checkClientEvent(event)
      if (problem !== null) c.invalid.push(problem)
      if (event.type === 'input_audio_buffer.append') {
        const bytes = Buffer.from(String(event.audio), 'base64')
        const pcm = new Int16Array(bytes.length / 2)
        Buffer.from(pcm.buffer).set(bytes)
        c.audio.push(pcm)
        c.audioSamples += pcm.length
        c.events.push({ type: event.type })
        if (o.speechDetection !== undefined) detect(c, pcm)
        return
      }
      c.events.push(event)
      c.audioAt.set(event, c.audioSamples)
      switch (event.type) {
        case 'session.update': {
          if (o.sessionUpdateError !== undefined) {
            send(c, { type: 'error', error: { type: 'invalid_request_error', ...o.sessionUpdateError, event_id: String(event.event_id ?? '') } })
            break
          }
          const input = (event.session as { audio?: { input?: { turn_detection?: Record<string, unknown> | null } } } | undefined)?.audio?.input
          if (input !== undefined && 'turn_detection' in input) c.turnDetection = input.turn_detection ?? null
          send(c, { type: 'session.updated', session: { ...(event.session as object), type: 'realtime', id: sessionId, object: 'realtime.session' } })
          break
        }
        case 'response.cancel': {
          if (o.vad !== true) break
          const r = active.get(c)
          if (r !== undefined) cancelled.set(r, 'client_cancelled')
          else send(c, { type: 'error', error: { type: 'invalid_request_error', code: 'response_cancel_not_active', message: 'Cancellation failed: no active response found', event_id: String(event.event_id ?? '') } })
          break
        }
        case 'conversation.item.delete':
          send(c, { type: 'conversation.item.deleted', item_id: String(event.item_id) })
          break
        case 'input_audio_buffer.clear':
          send(c, { type: 'input_audio_buffer.cleared' })
          break
        case 'response.create':
          if (o.stallOnResponse === true) { stallMidFrame(c); break }
          if (o.oneResponseAtATime === true && active.has(c)) {
            send(c, { type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: `Conversation already has an active response in progress: ${active.get(c)!}. Wait until the response is finished before creating a new one.`, event_id: String(event.event_id ?? '') } })
            break
          }
          if (o.autoRespond === true && !responded) { responded = true; void respond(c) } else if (o.respondToAll === true) void respond(c)
          break
        case 'conversation.item.truncate': {
          const itemId = String(event.item_id)
          const max = c.itemAudioMs.get(itemId)
          const end = Number(event.audio_end_ms)
          if (max === undefined || end > max + 0.5) {
            send(c, { type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: `audio_end_ms ${end} is beyond the item's ${max ?? 0} ms`, param: 'audio_end_ms', event_id: String(event.event_id ?? '') } })
          } else {
            send(c, { type: 'conversation.item.truncated', item_id: itemId, content_index: 0, audio_end_ms: end })
          }
          break
        }
      }
    })
    const w = waiters.shift()
    if (w !== undefined) w(c)
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }

  return {
    url: `${o.tls !== undefined ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    baseUrl: `${o.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}/v1`,
    connections,
    selfInvalid,
    get handshakes () { return handshakes },
    modelRequests,
    nextConnection: async () => await new Promise<FakeConnection>(resolve => waiters.push(resolve)),
    respond,
    send,
    speechStarted,
    speechStopped,
    sendBig: (c, bytes) => {
      const event = JSON.stringify({ type: 'rate_limits.updated', event_id: id('event'), rate_limits: [] })
      c.ws.send(event.slice(0, -1) + ' '.repeat(Math.max(0, bytes - event.length)) + '}')
    },
    stallMidFrame,
    functionCall,
    commitInput,
    transcribeInput,
    setOptions: (p) => Object.assign(o, p),
    close: async () => {
      for (const t of timers) clearTimeout(t)
      for (const c of connections) c.ws.terminate()
      for (const s of sockets) s.destroy()
      wss.close()
      server.close()
      await once(server, 'close')
    }
  }
}

/** Records the masking key of each client frame as it crosses the wire (ws unmasks before anyone else sees it). */
function tapMasks (socket: Duplex, masks: Buffer[]): void {
  let buf = Buffer.alloc(0)
  let skip = 0
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk])
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length)
        buf = buf.subarray(n)
        skip -= n
        if (skip > 0) return
      }
      if (masks.length >= 64) { socket.off('data', onData); return }
      if (buf.length < 2) return
      const masked = (buf[1]! & 0x80) !== 0
      let len = buf[1]! & 0x7f
      let off = 2
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4 } else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10 }
      if (buf.length < off + (masked ? 4 : 0)) return
      masks.push(masked ? Buffer.from(buf.subarray(off, off + 4)) : Buffer.alloc(0))
      buf = buf.subarray(off + (masked ? 4 : 0))
      skip = len
    }
  }
  socket.on('data', onData)
}

/** Resolves when `pred` holds, polling; rejects after `ms`. */
export async function waitFor (pred: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
