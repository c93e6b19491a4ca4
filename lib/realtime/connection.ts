import WebSocket from 'ws'
import type { RealtimeEndpoint } from './endpoint.js'
import type { EngineFailure } from './engine.js'

/** Bounds of the model's socket: a peer that sends too much or goes quiet must not hold a call. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024
export const PING_EVERY_MS = 15_000
export const PONG_WAIT_MS = 10_000
const HANDSHAKE_TIMEOUT_MS = 3000
const RETRY_DELAYS_MS = [300]
/** A peer that does not answer the close handshake still must not cost us a second of session. */
const CLOSE_GRACE_MS = 100
/** Errors of the network below the WebSocket: the host is not there or not answering. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])

export interface ConnectionOptions {
  endpoint: RealtimeEndpoint
  retryDelaysMs?: number[]
  handshakeTimeoutMs?: number
  maxMessageBytes?: number
  pingEveryMs?: number
  pongWaitMs?: number
}

export interface ConnectionHandlers {
  open: (attempt: number) => void
  message: (data: Buffer) => void
  /** The connection is gone for good (retries used up, or lost after open). */
  failed: (cause: EngineFailure, detail: string) => void
}

/**
 * The WebSocket to the model, through ws's public API only: its 'message'
 * event and send(), its random masks, its maxPayload. Retries a connection
 * that never opened, pings a live one, and names the cause when it fails.
 */
export class RealtimeConnection {
  readonly #o: ConnectionOptions
  readonly #on: ConnectionHandlers
  #ws: WebSocket | null = null
  #open = false
  #attempt = 0
  #closed = false
  /** What went wrong on the current socket, before its 'close' says it is gone. */
  #cause: { cause: EngineFailure, detail: string } | null = null
  #retryTimer: NodeJS.Timeout | null = null
  #pingTimer: NodeJS.Timeout | null = null
  #pongTimer: NodeJS.Timeout | null = null

  constructor (o: ConnectionOptions, on: ConnectionHandlers) {
    this.#o = o
    this.#on = on
  }

  get open (): boolean { return this.#open }
  get bufferedAmount (): number { return this.#ws?.bufferedAmount ?? 0 }

  connect (): void {
    if (this.#closed) return
    this.#cause = null
    const ws = new WebSocket(this.#o.endpoint.url, {
      headers: this.#o.endpoint.headers,
      handshakeTimeout: this.#o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      perMessageDeflate: false,
      maxPayload: this.#o.maxMessageBytes ?? MAX_MESSAGE_BYTES
    })
    this.#ws = ws
    ws.on('open', () => {
      this.#open = true
      this.#keepAlive(ws)
      this.#on.open(this.#attempt)
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary && this.#ws === ws && !this.#closed) this.#on.message(data)
    })
    ws.on('pong', () => {
      if (this.#pongTimer !== null) { clearTimeout(this.#pongTimer); this.#pongTimer = null }
    })
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0
      this.#cause = status === 401 || status === 403
        ? { cause: 'unauthorized', detail: `HTTP ${status}` }
        : { cause: 'handshake', detail: `HTTP ${status}` }
      res.resume()
      ws.terminate()
    })
    ws.on('error', (err: Error & { code?: string }) => {
      if (this.#cause !== null) return
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#cause = { cause: 'too-large', detail: `a message over ${this.#o.maxMessageBytes ?? MAX_MESSAGE_BYTES} bytes` }
      else if (!this.#open) this.#cause = { cause: 'unreachable', detail: err.code !== undefined && UNREACHABLE.has(err.code) ? err.code : err.message.slice(0, 200) }
      else this.#cause = { cause: 'closed', detail: err.message.slice(0, 200) }
    })
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(ws, code, reason))
  }

  send (data: string | Buffer): boolean {
    const ws = this.#ws
    if (!this.#open || ws === null || ws.readyState !== WebSocket.OPEN) return false
    ws.send(data, { binary: false })
    return true
  }

  /** Ends the connection for good (idempotent): a close handshake, cut short if the peer does not answer. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#stopTimers()
    const ws = this.#ws
    if (ws === null) return
    if (ws.readyState === WebSocket.OPEN) {
      ws.close(1000)
      const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS)
      ws.once('close', () => clearTimeout(grace))
    } else {
      ws.terminate()
    }
  }

  /** Drops the socket at once (no close handshake): for a peer already judged dead. */
  terminate (): void {
    this.#closed = true
    this.#stopTimers()
    this.#ws?.terminate()
  }

  #keepAlive (ws: WebSocket): void {
    const every = this.#o.pingEveryMs ?? PING_EVERY_MS
    this.#pingTimer = setInterval(() => {
      if (this.#pongTimer !== null) return
      ws.ping()
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = null
        this.#cause = { cause: 'stalled', detail: `no pong within ${this.#o.pongWaitMs ?? PONG_WAIT_MS} ms` }
        ws.terminate()
      }, this.#o.pongWaitMs ?? PONG_WAIT_MS)
    }, every)
  }

  #stopTimers (): void {
    for (const t of [this.#retryTimer, this.#pongTimer]) if (t !== null) clearTimeout(t)
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer)
    this.#retryTimer = this.#pingTimer = this.#pongTimer = null
  }

  #onClose (ws: WebSocket, code: number, reason: Buffer): void {
    if (this.#ws !== ws) return
    const wasOpen = this.#open
    this.#open = false
    this.#ws = null
    this.#stopTimers()
    if (this.#closed) return
    if (!wasOpen) {
      const delays = this.#o.retryDelaysMs ?? RETRY_DELAYS_MS
      if (this.#attempt < delays.length) {
        this.#retryTimer = setTimeout(() => { this.#retryTimer = null; this.#attempt++; this.connect() }, delays[this.#attempt])
        return
      }
      this.#closed = true
      const c = this.#cause ?? { cause: 'unreachable' as const, detail: `closed before opening (code ${code})` }
      this.#on.failed(c.cause, `${c.detail} after ${this.#attempt + 1} attempts`)
      return
    }
    this.#closed = true
    const c = this.#cause ?? { cause: 'closed' as const, detail: `code ${code}${reason.length > 0 ? `: ${reason.toString('utf8').slice(0, 200)}` : ''}` }
    this.#on.failed(c.cause, c.detail)
  }
}
