import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'

/**
 * Time limits on every connection, so a slow or silent client costs a socket
 * for seconds, not forever. They bound only what comes before a response: a
 * media WebSocket (a call lasts up to 30 min) and a live-view stream leave the
 * HTTP server's timers at the upgrade or the response, and are untouched.
 */
/** The request line and headers must arrive within this (a client that connects and sends nothing, too). */
export const HEADERS_TIMEOUT_MS = 12_000
/** The whole request, body included (Vonage's webhooks are under 2 KB). */
export const REQUEST_TIMEOUT_MS = 15_000
/** An idle keep-alive socket between two requests is closed after this. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000
/**
 * A socket with no traffic either way for this long is closed: one that
 * connects and never sends a byte is not closed by headersTimeout (measured on
 * Node 26: it must also stay under HEADERS_TIMEOUT_MS, or Node never fires it).
 * Upgraded WebSockets leave this timer at the upgrade; a live-view stream
 * writes a ping well within it (routes/console.ts SSE_PING_MS).
 */
export const IDLE_SOCKET_MS = 10_000
/** How often Node checks the two timeouts above (its default, 30 s, would let a slow socket live 45 s). */
export const TIMEOUT_CHECK_MS = 2_000

/** What the server's createServer and Fastify take (spread into Fastify's options in app.ts). */
export const connectionOptions = {
  connectionTimeout: IDLE_SOCKET_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS }
}

const LABELS: Record<string, { status: number, message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'the request did not arrive in time' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'the request headers are too large' }
}

/**
 * Fastify's clientErrorHandler, replacing its default, which logs the Node
 * error whole: a parse error carries the raw bytes received (rawPacket), and
 * with them any Authorization header or key. Here only the error's code is
 * logged, at debug, whatever LOG_LEVEL, and the client gets the usual short
 * JSON answer before the socket closes.
 */
export function clientErrorHandler (this: { log: FastifyBaseLogger }, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const { status, message } = LABELS[err.code ?? ''] ?? { status: 400, message: 'malformed request' }
  this.log.debug({ code: err.code, status }, 'client error: connection closed')
  const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message })
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`)
  socket.destroy()
}
