import { EventEmitter } from 'node:events'
import type { EngineEventMap, EngineFailure, EngineRate, EngineUsage, SpeechEngine } from './engine.js'
import { RealtimeConnection, type ConnectionOptions } from './connection.js'
import { parseUpstream, str, num, obj, type ServerEvent } from './server-events.js'
import { APPEND_HEAD, APPEND_TAIL, functionOutput, itemDelete, responseCreate, truncate, userText, type ClientEvent, type SessionUpdateEvent } from './client-events.js'
import { jsonWithBase64 } from './base64-bytes.js'

/** No event for this long while the model owes us one (session.updated, a response) and the call is given up. */
export const STALL_MS = 15_000
const ACTIVE_RESPONSE = 'conversation_already_has_active_response'

/** What the operator should check, per cause: said in the log line of a failed call. */
export const FAILURE_HINTS: Record<EngineFailure, string> = {
  unreachable: 'the model could not be reached: check OPENAI_BASE_URL / AZURE_OPENAI_ENDPOINT and the network',
  unauthorized: 'the model refused our key: check OPENAI_API_KEY',
  handshake: 'the model refused the connection: check OPENAI_MODEL (404), the account\'s limits (429) or OpenAI\'s status (5xx)',
  'config-refused': 'the model refused session.update: check OPENAI_VOICE, OPENAI_TRANSCRIPTION_MODEL, OPENAI_MODEL and TOOLS_FILE',
  closed: 'the model closed the session',
  stalled: 'the model stopped answering',
  'too-large': 'the model sent a message over the size limit'
}

export interface RealtimeEngineOptions extends ConnectionOptions {
  /** The session.update sent as soon as the socket opens. */
  sessionUpdate: () => SessionUpdateEvent
  stallMs?: number
  /** Called before each message is handled (the pacer's poll). */
  beforeMessage?: () => void
}

/**
 * The OpenAI Realtime API (GA) as a SpeechEngine: 24 kHz PCM both ways,
 * server VAD, truncation. Turns Realtime server events into engine events
 * and engine calls into client events; the call session never sees either.
 */
export class RealtimeEngine extends EventEmitter<EngineEventMap> implements SpeechEngine {
  readonly inputRate: EngineRate = 24000
  readonly outputRate: EngineRate = 24000
  readonly canTruncate = true
  readonly #o: RealtimeEngineOptions
  readonly #conn: RealtimeConnection
  #configured = false
  #failed = false
  #closed = false
  #seq = 0
  /** response.create event ids not yet answered by response.created or an error. */
  readonly #requested = new Set<string>()
  #responding = false
  /** Responses that hold an assistant message. */
  readonly #spoke = new Set<string>()
  #lastEventAt = 0
  #stallTimer: NodeJS.Timeout | null = null
  /** Responses asked for before the socket opened: sent right after session.update. */
  readonly #onOpen: ClientEvent[] = []

  constructor (o: RealtimeEngineOptions) {
    super()
    this.#o = o
    this.#conn = new RealtimeConnection(o, {
      open: () => {
        this.#lastEventAt = performance.now()
        this.#send(o.sessionUpdate())
        for (const e of this.#onOpen.splice(0)) this.#send(e)
        this.#armWatchdog()
      },
      message: (data) => this.#onMessage(data),
      failed: (cause, detail) => this.#fail(cause, detail)
    })
  }

  get open (): boolean { return this.#conn.open && !this.#failed }

  connect (): void { this.#conn.connect() }

  appendAudio (pcm: Uint8Array): void {
    if (!this.open || pcm.length === 0) return
    this.#conn.send(jsonWithBase64(APPEND_HEAD, pcm, APPEND_TAIL))
  }

  startResponse (opts: { instructions?: string, noTools?: boolean } = {}): boolean {
    if (this.#failed || this.#closed) return false
    const eventId = `resp_req_${++this.#seq}`
    const event = responseCreate(eventId, opts.instructions, opts.noTools === true)
    if (!this.#conn.open) this.#onOpen.push(event)
    else if (!this.#send(event)) return false
    this.#requested.add(eventId)
    this.#armWatchdog()
    return true
  }

  cancelResponse (): void { this.#send({ type: 'response.cancel' }) }
  truncate (itemId: string, heardMs: number): void { this.#send(truncate(itemId, heardMs)) }
  discardInput (itemId: string): void { this.#send(itemDelete(itemId)) }
  addUserText (text: string): boolean { return this.#send(userText(text)) }

  sendToolResult (callId: string, output: string, respond: boolean): boolean {
    const sent = this.#send(functionOutput(callId, output))
    return sent && respond ? this.startResponse() : sent
  }

  /** The Realtime API needs no input clock: a gap in the caller's audio is just a gap. */
  beat (): void {}

  close (): void {
    this.#closed = true
    this.#onOpen.length = 0
    this.#stopWatchdog()
    this.#conn.close()
  }

  #send (event: ClientEvent): boolean {
    return !this.#failed && this.#conn.send(JSON.stringify(event))
  }

  #fail (cause: EngineFailure, detail: string): void {
    if (this.#failed) return
    this.#failed = true
    this.#stopWatchdog()
    this.#conn.terminate()
    this.emit('failed', { cause, detail: `${FAILURE_HINTS[cause]} (${detail})` })
  }

  /** Whether the model owes us an event: the answer to session.update, or a response. */
  get #owed (): boolean { return !this.#configured || this.#requested.size > 0 || this.#responding }

  #armWatchdog (): void {
    if (this.#stallTimer !== null || this.#failed || this.#closed) return
    const stallMs = this.#o.stallMs ?? STALL_MS
    const check = (): void => {
      this.#stallTimer = null
      if (this.#failed || !this.#conn.open || !this.#owed) return
      const quiet = performance.now() - this.#lastEventAt
      if (quiet >= stallMs) { this.#fail('stalled', `no event for ${Math.round(quiet)} ms while a response was owed`); return }
      this.#stallTimer = setTimeout(check, stallMs - quiet)
    }
    this.#stallTimer = setTimeout(check, stallMs)
  }

  #stopWatchdog (): void {
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer)
    this.#stallTimer = null
  }

  #onMessage (data: Buffer): void {
    this.#o.beforeMessage?.()
    this.#lastEventAt = performance.now()
    const ev = parseUpstream(data)
    if (ev === null || this.#failed) return
    if (ev.type === 'response.output_audio.delta') {
      this.emit('audio', { responseId: ev.responseId, itemId: ev.itemId, base64: ev.delta, message: data })
      return
    }
    this.#dispatch(ev.event)
  }

  #dispatch (e: ServerEvent): void {
    switch (e.type) {
      case 'session.updated':
        if (!this.#configured) { this.#configured = true; this.emit('ready') }
        break
      case 'error':
        this.#onError(obj(e.error))
        break
      case 'input_audio_buffer.speech_started':
        this.emit('speech-started', { audioStartMs: num(e.audio_start_ms), itemId: str(e.item_id), eventId: str(e.event_id) })
        break
      case 'input_audio_buffer.speech_stopped':
        this.emit('speech-stopped', { audioEndMs: num(e.audio_end_ms), itemId: str(e.item_id) })
        break
      case 'input_audio_buffer.committed':
        if (str(e.item_id) !== '') this.emit('caller-item', { itemId: str(e.item_id) })
        break
      case 'response.created': {
        this.#requested.clear()
        this.#responding = true
        // Responses the engine starts itself (server VAD) are owed too.
        this.#armWatchdog()
        this.emit('response-started', { responseId: str(obj(e.response).id) })
        break
      }
      case 'response.output_item.added': {
        const item = obj(e.item)
        if (item.type === 'message' && typeof item.id === 'string' && str(e.response_id) !== '') {
          this.#spoke.add(str(e.response_id))
          this.emit('assistant-item', { responseId: str(e.response_id), itemId: item.id })
        }
        break
      }
      case 'response.output_audio.done':
        if (str(e.item_id) !== '') this.emit('audio-done', { itemId: str(e.item_id) })
        break
      case 'response.output_audio_transcript.delta':
        this.#transcriptDelta('assistant', e)
        break
      case 'conversation.item.input_audio_transcription.delta':
        this.#transcriptDelta('caller', e)
        break
      case 'response.output_audio_transcript.done':
        if (str(e.item_id) !== '' && typeof e.transcript === 'string') this.emit('assistant-transcript', { itemId: str(e.item_id), text: e.transcript })
        break
      case 'conversation.item.input_audio_transcription.completed':
        if (str(e.item_id) !== '' && typeof e.transcript === 'string') this.emit('caller-transcript', { itemId: str(e.item_id), text: e.transcript })
        break
      case 'response.function_call_arguments.done':
        if (str(e.call_id) !== '') this.emit('tool-call', { callId: str(e.call_id), name: str(e.name), arguments: str(e.arguments), responseId: str(e.response_id) })
        break
      case 'response.done':
        this.#onResponseDone(obj(e.response))
        break
    }
  }

  #transcriptDelta (role: 'caller' | 'assistant', e: ServerEvent): void {
    if (str(e.item_id) !== '' && typeof e.delta === 'string') this.emit('transcript-delta', { role, itemId: str(e.item_id), text: e.delta })
  }

  #onError (err: Record<string, unknown>): void {
    const warning = { type: str(err.type), code: str(err.code), message: typeof err.message === 'string' ? err.message.slice(0, 500) : '' }
    if (!this.#configured) {
      // Going on would leave the caller with no persona and no tools: the call ends instead.
      this.#fail('config-refused', `${warning.code !== '' ? `${warning.code}: ` : ''}${warning.message}`)
      return
    }
    this.emit('warning', warning)
    const eventId = str(err.event_id)
    if (eventId !== '' && this.#requested.delete(eventId)) this.emit('response-refused', { busy: warning.code === ACTIVE_RESPONSE })
  }

  #onResponseDone (r: Record<string, unknown>): void {
    this.#responding = false
    const id = str(r.id)
    const spoke = this.#spoke.delete(id)
    this.emit('response-done', { responseId: id, status: str(r.status), reason: str(obj(r.status_details).reason), spoke, usage: usageOf(r.usage) })
  }
}

function usageOf (u: unknown): EngineUsage | null {
  if (u === null || typeof u !== 'object') return null
  const usage = obj(u)
  const input = obj(usage.input_token_details)
  const output = obj(usage.output_token_details)
  const cached = obj(input.cached_tokens_details)
  return {
    inputTokens: num(usage.input_tokens),
    outputTokens: num(usage.output_tokens),
    inputAudioTokens: num(input.audio_tokens),
    inputTextTokens: num(input.text_tokens),
    inputCachedTokens: num(input.cached_tokens),
    outputAudioTokens: num(output.audio_tokens),
    outputTextTokens: num(output.text_tokens),
    inputCachedAudioTokens: num(cached.audio_tokens),
    inputCachedTextTokens: num(cached.text_tokens)
  }
}
