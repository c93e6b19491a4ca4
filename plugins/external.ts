import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import rateLimit from '@fastify/rate-limit'
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance } from 'fastify'

/** Largest message a caller's media socket may send; bigger ones are ours to drop, not a reason to close the call. */
const MAX_MEDIA_MESSAGE_BYTES = 1024 * 1024

/**
 * The external Fastify plugins, registered once for the whole app (as
 * fastify/demo does), and the one error handler:
 * - @fastify/websocket: the media sockets' upgrades;
 * - @fastify/rate-limit: opt-in per route, through `fastify.rateLimit({ … })`;
 * - errors: one body shape, `{ statusCode, code?, error, message }`; a 5xx
 *   never shows its internals to the client and is logged with its stack.
 * (@fastify/static is registered where its files are served: each with its
 * own root.)
 */
async function externalPlugins (fastify: FastifyInstance): Promise<void> {
  await fastify.register(websocket, {
    options: { maxPayload: MAX_MEDIA_MESSAGE_BYTES, perMessageDeflate: false },
    // A broken frame from a caller is their problem, not ours: one warn line, no stack (a token holder must not flood the logs).
    errorHandler (err: Error & { code?: string }, socket, request) {
      request.log.warn({ code: err.code, reason: err.message.slice(0, 200) }, 'media socket error: closing it')
      socket.terminate()
    }
  })
  await fastify.register(rateLimit, { global: false })

  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: err.code, message: err.message }, 'request refused')
    const body: Record<string, unknown> = { statusCode: status }
    if (status < 500 && typeof err.code === 'string') body.code = err.code
    body.error = STATUS_CODES[status] ?? 'Error'
    body.message = status < 500 ? err.message : 'internal error — the server log has the details'
    return reply.code(status).send(body)
  })
}

export default fp(externalPlugins, { name: 'external' })
