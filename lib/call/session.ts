import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { createResampler, type Rate, type Resampler } from '../audio/resampler.js'
import { Playout, FRAME_MS } from './playout.js'
import type { Pacer } from './pacer.js'
import type { RealtimeEndpoint } from '../realtime/endpoint.js'
import { parseUpstream, type UpstreamEvent } from '../realtime/server-events.js'
import { encodeBase64Into, base64Length } from '../realtime/base64-bytes.js'
import { readFramesDirectly } from './frame-reader.js'
import { headerBytes, writeHeader, MAX_HEADER_BYTES, OP_BINARY, OP_TEXT } from './ws-frame.js'
import { frameChannel, frameMessage, deltaChannel, deltaMessage, bargeInChannel, bargeInMessage } from './probe.js'
import { maskNumber, type Log } from '../log/logger.js'
import type { CallContext } from '../realtime/session-update.js'

/**
 * The Vonage side of a call: the media WebSocket, or anything that talks like
 * it. A frame passed to send() may be reused once bufferedAmount reads 0, so
 * send() must copy it or write it out before then (a `ws` WebSocket does).
 */
export interface MediaSocket {
  send: (data: Buffer | string) => void
  close: (code?: number, reason?: string) => void
  readonly bufferedAmount: number
  readonly readyState?: number
}

export type SessionLogger = Log

export interface SessionOptions {
  id: string
  call: CallContext
  rate: Rate
  leadMs: number
  endpoint: RealtimeEndpoint
  /** `session.update` and the events that follow it at open (e.g. the greeting's response.create). */
  openingEvents: () => object[]
  pacer: Pacer
  log: SessionLogger
  /** 24 kHz apology played when the model cannot be reached. */
  apology: Int16Array
  /** How long to wait for Vonage's WebSocket after the answer webhook. */
  mediaTimeoutMs: number
  /** Delays between upstream connection attempts (default one retry after 300 ms). */
  retryDelaysMs?: number[]
  /** How long one upstream handshake may take (default 3000 ms). */
  handshakeTimeoutMs?: number
  /** A caller that never reads would grow our send buffer without bound; past this the call ends. */
  maxBufferedBytes?: number
}

export type EndReason = 'caller-hangup' | 'upstream-failed' | 'upstream-closed' | 'no-media' | 'shutdown' | 'ended' | 'slow-consumer'

export interface CallStats {
  callId: string
  direction: CallContext['direction']
  from: string
  to: string
  reason: EndReason
  durationMs: number
  callerAudioMs: number
  assistantAudioMs: number
  connectToFirstAudioMs: number | null
  bargeIns: number
  droppedFrames: number
  lateDeltasDropped: number
  upstreamErrors: number
  usage: Usage
}

export interface Usage {
  responses: number
  inputTokens: number
  outputTokens: number
  inputAudioTokens: number
  inputTextTokens: number
  inputCachedTokens: number
  outputAudioTokens: number
  outputTextTokens: number
}

const MAX_MESSAGE_BYTES = 8 * 1024
/** Caller audio held for the next beat at most: 100 ms at 24 kHz. */
const IN_PENDING_BYTES = 4800
/**
 * Frames to the model go out unmasked (an all-zero key, which ws then skips,
 * and which afterTick() writes into the appends it frames itself):
 * masking protects proxies from payloads a hostile web page chose, which is
 * not this connection's case, and over TLS no proxy sees the frames anyway.
 * Spares a copy and an XOR pass over every append, 50 a second per call.
 */
const zeroMask = (mask: Buffer): void => { mask.fill(0) }
const APPEND_HEAD = Buffer.from('{"type":"input_audio_buffer.append","audio":"')
/** Room before each frame of call audio for its header (20 ms is 320-960 bytes at any rate: a 16-bit length). */
const FRAME_HEADROOM = headerBytes(320, false)
const AS_TEXT = { binary: false }
/** Room for one append of 40 ms of 24 kHz audio; longer ones get their own. */
const APPEND_BUF_BYTES = MAX_HEADER_BYTES + 64 + Math.ceil(1920 / 3) * 4
/** Where an append's JSON starts in its buffer, after room for the frame header: placed so its base64 starts at an even offset. */
const APPEND_AT = MAX_HEADER_BYTES + ((MAX_HEADER_BYTES + APPEND_HEAD.length) & 1)
const CLOSE_GRACE_MS = 100

/**
 * One phone call: Vonage media ⇄ one Realtime WebSocket. The upstream is opened
 * at the answer webhook, before Vonage has finished its greeting and opened the
 * media socket, so the model's first words are ready when the caller is.
 *
 * Events: 'upstream' (every parsed server event but audio deltas), 'dtmf'
 * (digit), 'media' (the media socket attached), 'end' (CallStats).
 * Extensions talk back with sendUpstream(), and to the caller with sendText().
 */
export class CallSession extends EventEmitter {
  readonly id: string
  readonly call: CallContext
  readonly #o: SessionOptions
  #rate: Rate
  #playout: Playout
  #inResampler: Resampler | null
  #inSamples: Int16Array = new Int16Array(0)
  #inSampleBytes: Uint8Array = new Uint8Array(0)
  /** The resampler's last output view, and the same samples as bytes. */
  #inOut: Int16Array | null = null
  #inOutBytes: Uint8Array = new Uint8Array(0)
  /** Caller audio (24 kHz) waiting for the next beat, when every call's append goes out at once. */
  readonly #inPending = Buffer.allocUnsafe(IN_PENDING_BYTES)
  #inPendingBytes = 0
  #upstream: WebSocket | null = null
  #upstreamOpen = false
  #media: MediaSocket | null = null
  #attempt = 0
  #retryTimer: NodeJS.Timeout | null = null
  #mediaTimer: NodeJS.Timeout | null = null
  #closeTimer: NodeJS.Timeout | null = null
  #failed = false
  #ended = false
  #pacing = false
  /** Responses whose audio a barge-in cut: their late deltas are dropped. */
  readonly #cutResponses = new Set<string>()
  readonly #itemResponse = new Map<string, string>()
  #frameSizeWarned = false
  readonly #createdAt = performance.now()
  #mediaAt = 0
  readonly stats: Omit<CallStats, 'reason' | 'durationMs' | 'callId' | 'direction' | 'from' | 'to'> = {
    callerAudioMs: 0,
    assistantAudioMs: 0,
    connectToFirstAudioMs: null,
    bargeIns: 0,
    droppedFrames: 0,
    lateDeltasDropped: 0,
    upstreamErrors: 0,
    usage: { responses: 0, inputTokens: 0, outputTokens: 0, inputAudioTokens: 0, inputTextTokens: 0, inputCachedTokens: 0, outputAudioTokens: 0, outputTextTokens: 0 }
  }

  constructor (o: SessionOptions) {
    super()
    this.#o = o
    this.id = o.id
    this.call = o.call
    this.#rate = o.rate
    this.#playout = new Playout(o.rate, o.leadMs, FRAME_HEADROOM)
    this.#inResampler = o.rate === 24000 ? null : createResampler(o.rate, 24000)
    this.#mediaTimer = setTimeout(() => this.end('no-media'), o.mediaTimeoutMs)
    this.#connect()
  }

  get ended (): boolean { return this.#ended }
  get mediaAttached (): boolean { return this.#media !== null }

  /**
   * Resolves once every assistant frame sent so far has played at Vonage (per
   * the playback model), e.g. to hang up right after a goodbye. Checked on
   * the 20 ms beat, so it resolves within one frame of the last frame's end.
   */
  async whenPlayed (): Promise<void> {
    await new Promise<void>(resolve => this.#idleWaiters.push(resolve))
  }

  readonly #idleWaiters: Array<() => void> = []

  /** Sends a client event to the model (JSON-serialised here). */
  sendUpstream (event: object): boolean {
    if (!this.#upstreamOpen || this.#upstream === null) return false
    this.#upstream.send(JSON.stringify(event))
    return true
  }

  /**
   * Writes a text message to the caller's media socket; false while none is
   * attached (listen for 'media'). Only for callers that expect extras, such
   * as the softphone: Vonage has no use for them.
   */
  sendText (text: string): boolean {
    if (this.#ended || this.#media === null) return false
    this.#media.send(text)
    return true
  }

  // ---- upstream -------------------------------------------------------------

  #connect (): void {
    // No UTF-8 check of the model's messages: ws would scan every delta's base64 for it, and a bad byte only ever reaches a JSON.parse.
    const ws = new WebSocket(this.#o.endpoint.url, { headers: this.#o.endpoint.headers, handshakeTimeout: this.#o.handshakeTimeoutMs ?? 3000, perMessageDeflate: false, generateMask: zeroMask, skipUTF8Validation: true })
    this.#upstream = ws
    ws.on('open', () => {
      this.#upstreamOpen = true
      this.#upTcp = tcpOf(ws)
      readFramesDirectly(ws, 'model-events', this.#onUpstreamFrame)
      this.#o.log.debug({ callId: this.id, attempt: this.#attempt }, 'realtime socket open')
      for (const ev of this.#o.openingEvents()) ws.send(JSON.stringify(ev))
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#onUpstream(data)
    })
    ws.on('unexpected-response', (_req, res) => {
      this.#o.log.warn({ callId: this.id, status: res.statusCode }, 'realtime handshake refused')
      res.resume()
      ws.terminate()
    })
    ws.on('error', (err: Error) => {
      this.#o.log.debug({ callId: this.id, err: err.message }, 'realtime socket error')
    })
    ws.on('close', (code: number, reason: Buffer) => {
      const wasOpen = this.#upstreamOpen
      this.#upstreamOpen = false
      this.#upTcp = null
      if (this.#upstream === ws) this.#upstream = null
      if (this.#closeTimer !== null) { clearTimeout(this.#closeTimer); this.#closeTimer = null }
      if (this.#ended) return
      if (!wasOpen) {
        const delays = this.#o.retryDelaysMs ?? [300]
        if (this.#attempt < delays.length) {
          this.#retryTimer = setTimeout(() => { this.#retryTimer = null; this.#attempt++; this.#connect() }, delays[this.#attempt])
          return
        }
        this.#o.log.error({ callId: this.id, attempts: this.#attempt + 1, code }, 'the model could not be reached: apologising and ending the call')
        this.#fail('upstream-failed')
        return
      }
      this.#o.log.error({ callId: this.id, code, reason: reason.toString('utf8').slice(0, 200) }, 'realtime socket closed mid-call: apologising and ending the call')
      this.#fail('upstream-closed')
    })
  }

  /** A model event read straight off the Realtime socket (lib/call/frame-reader.ts); the bytes are only lent. */
  readonly #onUpstreamFrame = (data: Buffer): void => {
    if (this.#upstream !== null && !this.#ended) this.#onUpstream(data)
  }

  #onUpstream (data: Buffer): void {
    this.#o.pacer.poll()
    const receivedAt = bargeInChannel.hasSubscribers ? performance.now() : 0
    const ev = parseUpstream(data)
    if (ev === null) return
    if (ev.type === 'response.output_audio.delta') {
      if (deltaChannel.hasSubscribers) this.#probeDelta(data, ev.responseId, ev.itemId, ev.delta)
      else this.#onDelta(ev.responseId, ev.itemId, ev.delta)
      return
    }
    const e = ev.event
    switch (e.type) {
      case 'input_audio_buffer.speech_started':
        if (this.#bargeIn() && receivedAt > 0) {
          bargeInMessage.session = this
          bargeInMessage.eventId = String(e.event_id ?? '')
          bargeInMessage.receivedAt = receivedAt
          bargeInMessage.clearedAt = this.#clearedAt
          bargeInChannel.publish(bargeInMessage)
        }
        break
      case 'response.output_item.added': {
        const item = e.item as { id?: string } | undefined
        if (typeof item?.id === 'string' && typeof e.response_id === 'string') this.#itemResponse.set(item.id, e.response_id)
        break
      }
      case 'response.output_audio.done':
        if (typeof e.item_id === 'string') this.#playout.markDone(e.item_id)
        break
      case 'response.done':
        this.#onResponseDone(e.response as ResponseDone | undefined)
        break
      case 'error': {
        this.stats.upstreamErrors++
        const err = e.error as { type?: string, code?: string, message?: string } | undefined
        this.#o.log.warn({ callId: this.id, type: err?.type, code: err?.code, message: err?.message }, 'realtime error event')
        break
      }
    }
    this.emit('upstream', e)
  }

  #onDelta (responseId: string, itemId: string, b64: Buffer | string): void {
    if (this.#cutResponses.has(responseId)) {
      this.stats.lateDeltasDropped++
      return
    }
    if (this.#itemResponse.get(itemId) !== responseId) this.#itemResponse.set(itemId, responseId)
    this.#playout.pushBase64(itemId, b64)
    if (this.#media !== null) this.tick(performance.now())
  }

  /** #onDelta, timed for the benchmark's probe (lib/call/probe.ts). */
  #probeDelta (data: Buffer, responseId: string, itemId: string, b64: Buffer | string): void {
    const at = performance.now()
    const p = this.#playout
    const immediate = this.#media !== null && p.pendingMs < FRAME_MS && p.queuedAtVonageMs(at) <= p.leadMs - FRAME_MS / 2
    this.#firstSentAt = -1
    this.#onDelta(responseId, itemId, b64)
    deltaMessage.session = this
    deltaMessage.data = data
    deltaMessage.receivedAt = at
    deltaMessage.firstFrameAt = immediate ? this.#firstSentAt : -1
    deltaChannel.publish(deltaMessage)
  }

  #firstSentAt = -1
  #clearedAt = 0

  #onResponseDone (r: ResponseDone | undefined): void {
    const u = this.stats.usage
    u.responses++
    const usage = r?.usage
    if (usage !== undefined) {
      u.inputTokens += usage.input_tokens ?? 0
      u.outputTokens += usage.output_tokens ?? 0
      u.inputAudioTokens += usage.input_token_details?.audio_tokens ?? 0
      u.inputTextTokens += usage.input_token_details?.text_tokens ?? 0
      u.inputCachedTokens += usage.input_token_details?.cached_tokens ?? 0
      u.outputAudioTokens += usage.output_token_details?.audio_tokens ?? 0
      u.outputTextTokens += usage.output_token_details?.text_tokens ?? 0
    }
    // Items of finished responses can no longer receive deltas; keep the maps small.
    if (typeof r?.id === 'string') {
      for (const [item, resp] of this.#itemResponse) if (resp === r.id && !this.#playout.isActive(performance.now())) this.#itemResponse.delete(item)
      if (this.#cutResponses.size > 16) this.#cutResponses.clear()
    }
  }

  #bargeIn (): boolean {
    const now = performance.now()
    if (this.#failed || !this.#playout.isActive(now)) return false
    const cut = this.#playout.clear(now)
    this.stats.bargeIns++
    this.#media?.send('{"action":"clear"}')
    if (bargeInChannel.hasSubscribers) this.#clearedAt = performance.now()
    if (cut !== null) {
      const responseId = this.#itemResponse.get(cut.itemId)
      if (responseId !== undefined) this.#cutResponses.add(responseId)
      this.sendUpstream({ type: 'conversation.item.truncate', item_id: cut.itemId, content_index: 0, audio_end_ms: cut.heardMs })
    }
    this.emit('barge-in', cut)
    return true
  }

  #fail (reason: EndReason): void {
    if (this.#failed || this.#ended) return
    this.#failed = true
    this.#endReason = reason
    this.#upstream?.terminate()
    const now = performance.now()
    // Whatever the model said is moot; the caller hears the apology next.
    if (this.#playout.isActive(now)) {
      this.#playout.clear(now)
      this.#media?.send('{"action":"clear"}')
    }
    this.#playout.push('apology', this.#o.apology)
    this.#playout.markDone('apology')
    if (this.#media !== null) this.tick(now)
  }

  #endReason: EndReason = 'ended'

  // ---- media (Vonage) --------------------------------------------------------

  attachMedia (media: MediaSocket): void {
    if (this.#ended) { media.close(1011, 'call ended'); return }
    this.#media = media
    this.#tcp = tcpOf(media)
    readFramesDirectly(media, 'caller-audio', this.#onCallerFrame)
    this.#mediaAt = performance.now()
    if (this.#mediaTimer !== null) { clearTimeout(this.#mediaTimer); this.#mediaTimer = null }
    this.#pacing = true
    this.#o.pacer.add(this)
    this.tick(this.#mediaAt)
    this.emit('media')
  }

  /** A message from Vonage's media socket. */
  onMediaMessage (data: Buffer, isBinary: boolean): void {
    if (this.#ended) return
    this.#o.pacer.poll()
    if (isBinary) {
      this.#onCallerAudio(data)
      return
    }
    if (data.length > MAX_MESSAGE_BYTES) { this.stats.droppedFrames++; return }
    let msg: { event?: unknown, 'content-type'?: unknown, digit?: unknown }
    try {
      msg = JSON.parse(data.toString('utf8'))
    } catch {
      this.stats.droppedFrames++
      return
    }
    if (msg === null || typeof msg !== 'object') { this.stats.droppedFrames++; return }
    switch (msg.event) {
      case 'websocket:connected': {
        const m = /rate=(\d+)/.exec(String(msg['content-type'] ?? ''))
        const rate = Number(m?.[1])
        if (rate === 8000 || rate === 16000 || rate === 24000) this.#setRate(rate)
        break
      }
      case 'websocket:dtmf':
        this.emit('dtmf', String(msg.digit ?? ''))
        break
      case 'websocket:cleared':
      case 'websocket:notify':
        break
      default:
        this.stats.droppedFrames++
    }
  }

  #setRate (rate: Rate): void {
    if (rate === this.#rate) return
    this.#o.log.info({ callId: this.id, configured: this.#rate, rate }, 'Vonage chose another audio rate: following it')
    this.#rate = rate
    // Audio that arrived before the media socket said its rate is still owed to the caller.
    this.#playout = this.#playout.withRate(rate)
    this.#inResampler = rate === 24000 ? null : createResampler(rate, 24000)
  }

  /** Caller audio read straight off the media socket (lib/call/frame-reader.ts). */
  readonly #onCallerFrame = (payload: Uint8Array): void => {
    if (this.#ended) return
    this.#o.pacer.poll()
    this.#onCallerAudio(payload)
  }

  #onCallerAudio (data: Uint8Array): void {
    const len = data.length
    const expected = this.#rate / 1000 * FRAME_MS * 2
    if ((len & 1) === 1 || len === 0 || len > expected * 4) {
      this.stats.droppedFrames++
      return
    }
    if (len !== expected && !this.#frameSizeWarned) {
      this.#frameSizeWarned = true
      this.#o.log.warn({ callId: this.id, bytes: len, expected, rate: this.#rate }, 'Vonage frame size does not match the audio rate')
    }
    this.stats.callerAudioMs += len / 2 / (this.#rate / 1000)
    if (!this.#upstreamOpen || this.#failed) return
    const n = len / 2
    // Views made once per frame size, not once per frame: fifty frames a second per call.
    if (this.#inSamples.length !== n) {
      const scratch = new Int16Array(n)
      this.#inSamples = scratch
      this.#inSampleBytes = new Uint8Array(scratch.buffer)
    }
    this.#inSampleBytes.set(data)
    const out = this.#inResampler === null ? this.#inSamples : this.#inResampler.process(this.#inSamples)
    if (out !== this.#inOut) {
      this.#inOut = out
      this.#inOutBytes = new Uint8Array(out.buffer, out.byteOffset, out.length * 2)
    }
    const bytes = out.length * 2
    if (this.#inPendingBytes + bytes > IN_PENDING_BYTES) this.afterTick()
    this.#inPending.set(this.#inOutBytes, this.#inPendingBytes)
    this.#inPendingBytes += bytes
    if (!this.#pacing) this.afterTick()
  }

  /**
   * The pacer's beat, after every call's frame: sends the caller audio that
   * came in since the last one as one append. Sending all calls' appends
   * together rather than each on arrival costs the caller's audio 10 ms on
   * average and makes each write cheaper (the model's side is already awake
   * for the rest of them). The whole frame — header, JSON, base64 — is built
   * as bytes in a reused buffer and written as is: no string, no copy.
   */
  afterTick (): void {
    const bytes = this.#inPendingBytes
    if (bytes === 0) return
    this.#inPendingBytes = 0
    const up = this.#upstream
    if (!this.#upstreamOpen || this.#failed || up === null || up.readyState !== WebSocket.OPEN) return
    const payload = APPEND_HEAD.length + base64Length(bytes) + 2
    const end = APPEND_AT + payload
    let msg = this.#appendBuf
    // The last append is still in the socket's hands (or this one is bigger): a new buffer, not an overwrite.
    if (msg === null || msg.length < end || up.bufferedAmount > 0) {
      msg = this.#appendBuf = Buffer.allocUnsafeSlow(Math.max(end, APPEND_BUF_BYTES))
      APPEND_HEAD.copy(msg, APPEND_AT)
    }
    encodeBase64Into(this.#inPending, 0, bytes, msg, APPEND_AT + APPEND_HEAD.length)
    msg[end - 2] = 0x22 // "
    msg[end - 1] = 0x7d // }
    const tcp = this.#upTcp
    if (tcp === null) {
      up.send(msg.subarray(APPEND_AT, end), AS_TEXT)
      return
    }
    const start = writeHeader(msg, APPEND_AT, OP_TEXT, payload, true)
    tcp.write(msg.subarray(start, end))
  }

  /** The append message, reused while the socket writes each one out at once (unmasked, ws does not copy it). */
  #appendBuf: Buffer | null = null

  /** The pacer's 20 ms beat, and every delta's arrival: send what is due. */
  tick (now: number): void {
    const media = this.#media
    if (media === null || this.#ended) return
    if (media.bufferedAmount > (this.#o.maxBufferedBytes ?? 1024 * 1024)) {
      this.#o.log.warn({ callId: this.id, buffered: media.bufferedAmount }, 'Vonage is not reading the call audio: ending the call')
      this.end('slow-consumer')
      return
    }
    // A burst's first frames (the lead) leave in one write, not one each.
    this.#tcp?.cork()
    const sent = this.#playout.pump(now, this.#sendFrame)
    this.#tcp?.uncork()
    if (media.bufferedAmount === 0) this.#playout.framesFlushed()
    if (sent > 0 && this.stats.connectToFirstAudioMs === null && !this.#failed) {
      this.stats.connectToFirstAudioMs = Math.round(now - this.#mediaAt)
    }
    if (!this.#playout.isActive(now)) {
      if (this.#idleWaiters.length > 0) for (const resolve of this.#idleWaiters.splice(0)) resolve()
      if (this.#failed) this.end(this.#endReason)
    }
  }

  #tcp: RawSocket | null = null
  #upTcp: RawSocket | null = null

  /** A frame from the playout, after room for its WebSocket header. */
  readonly #sendFrame = (slot: Buffer): void => {
    this.stats.assistantAudioMs += FRAME_MS
    const tcp = this.#tcp
    if (tcp !== null) {
      // Straight to the socket, as ws would: nothing else of ours is queued in ws (no compression), so the order holds.
      if (this.#media!.readyState === WebSocket.OPEN) {
        writeHeader(slot, FRAME_HEADROOM, OP_BINARY, slot.length - FRAME_HEADROOM, false)
        tcp.write(slot)
      }
    } else {
      this.#media!.send(slot.subarray(FRAME_HEADROOM))
    }
    if (frameChannel.hasSubscribers) {
      const at = performance.now()
      if (this.#firstSentAt < 0) this.#firstSentAt = at
      frameMessage.session = this
      frameMessage.at = at
      frameMessage.lateMs = this.#playout.lateMs
      frameChannel.publish(frameMessage)
    }
  }

  // ---- teardown -------------------------------------------------------------

  /** Ends the call from our side or records that Vonage ended it. Idempotent. */
  end (reason: EndReason): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#pacing) this.#o.pacer.delete(this)
    for (const t of [this.#retryTimer, this.#mediaTimer]) if (t !== null) clearTimeout(t)
    const up = this.#upstream
    if (up !== null) {
      if (up.readyState === WebSocket.OPEN) {
        up.close(1000)
        // A peer that does not answer the close handshake still must not cost us a second of session.
        this.#closeTimer = setTimeout(() => up.terminate(), CLOSE_GRACE_MS)
      } else {
        up.terminate()
      }
    }
    if (reason !== 'caller-hangup') this.#media?.close(1000, reason)
    const stats: CallStats = {
      callId: this.id,
      direction: this.call.direction,
      from: maskNumber(this.call.from ?? ''),
      to: maskNumber(this.call.to ?? ''),
      reason,
      durationMs: Math.round(performance.now() - this.#createdAt),
      ...this.stats,
      callerAudioMs: Math.round(this.stats.callerAudioMs)
    }
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
    this.emit('end', stats)
    this.removeAllListeners('upstream')
    this.removeAllListeners('dtmf')
  }
}

interface RawSocket { cork: () => void, uncork: () => void, write: (data: Buffer) => boolean }

/** The socket under a `ws` WebSocket (its `_socket`), to write frames to directly; null for anything else. */
function tcpOf (ws: unknown): RawSocket | null {
  const s = (ws as { _socket?: Partial<RawSocket> | null })._socket
  return typeof s?.cork === 'function' && typeof s.uncork === 'function' && typeof s.write === 'function' ? s as RawSocket : null
}

interface ResponseDone {
  id?: string
  status?: string
  usage?: {
    input_tokens?: number
    output_tokens?: number
    input_token_details?: { audio_tokens?: number, text_tokens?: number, cached_tokens?: number }
    output_token_details?: { audio_tokens?: number, text_tokens?: number }
  }
}

export type { UpstreamEvent }
