import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FLY_REPLAY_HEADER, FLY_REPLAY_SRC_HEADER, flyReplayValue, placement } from '../lib/security/fly-replay.js'
import type { MediaTokenClaims } from '../plugins/media-tokens.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The media token that passed every check of the upgrade (set by the media route only). */
    mediaClaims?: MediaTokenClaims
  }
}

/**
 * The call audio WebSocket Vonage opens after the NCCO's greeting. Everything
 * is decided before the upgrade: a stranger, a used token, or a call this
 * process does not hold never costs a socket, let alone an upstream session.
 */
export default async function mediaRoutes (fastify: FastifyInstance): Promise<void> {
  const tokens = fastify.mediaTokens

  async function refuse (reply: FastifyReply, code: 401 | 404 | 409 | 410, message: string): Promise<FastifyReply> {
    const error = { 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 410: 'Gone' }[code]
    return await reply.code(code).send({ statusCode: code, error, message })
  }

  async function checkUpgrade (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const token = (request.query as { token?: unknown }).token
    const check = typeof token === 'string' ? tokens.verify(token) : { ok: false as const, reason: 'malformed' as const }
    if (!check.ok) {
      request.log.warn({ reason: check.reason }, 'media socket refused: bad, expired or used token')
      return await refuse(reply, 401, check.reason === 'used'
        ? 'this media token was already used: each one opens a single socket'
        : 'invalid or expired media token: use the URL from a fresh answer webhook')
    }
    const claims = check.claims
    const where = placement(claims.m, tokens.machineId, request.headers[FLY_REPLAY_SRC_HEADER] !== undefined)
    if (where.where === 'replay') {
      // Fly's proxy delivers the upgrade again to the holder; nothing is opened here.
      request.log.info({ callId: claims.c, holder: where.instance }, 'media socket for a call held elsewhere: fly-replay')
      return await reply.code(409).header(FLY_REPLAY_HEADER, flyReplayValue(where.instance))
        .send({ statusCode: 409, error: 'Conflict', message: `this call is held by machine ${where.instance}` })
    }
    if (where.where === 'lost') {
      request.log.warn({ callId: claims.c, holder: where.instance }, 'media socket refused: the call is held by a machine this request cannot reach')
      return await refuse(reply, 410, `this call is held by machine ${where.instance}, which this request cannot reach`)
    }
    const session = fastify.bridge.sessions.get(claims.c)
    if (session === undefined || session.ended) {
      request.log.warn({ callId: claims.c }, 'media socket refused: no such call here (ended or unknown)')
      return await refuse(reply, 410, 'this call has ended or is not held by this server')
    }
    if (session.call.direction !== 'softphone' && !fastify.verifyVonageJwt(request.headers.authorization)) {
      request.log.warn({ callId: claims.c }, 'media socket refused: missing, invalid or reused Vonage signature')
      return await refuse(reply, 401, 'missing or invalid Vonage signature on the media socket: check VONAGE_SIGNATURE_SECRET')
    }
    if (session.mediaAttached || !tokens.consume(claims)) {
      return await refuse(reply, 409, 'this call already has its media socket')
    }
    request.mediaClaims = claims
  }

  fastify.get('/media', { websocket: true, preValidation: checkUpgrade }, (socket, request) => {
    // Handlers go on before anything async, or the first frames are lost.
    const claims = request.mediaClaims
    const session = claims === undefined ? undefined : fastify.bridge.sessions.get(claims.c)
    if (claims === undefined || session === undefined || session.ended || session.mediaAttached) {
      // The call ended (or got its socket) between the check and the upgrade: nothing is started for it.
      socket.close(1008, 'unknown or ended call')
      return
    }
    socket.on('message', (data: Buffer, isBinary: boolean) => session.onMediaMessage(data, isBinary))
    socket.on('close', () => session.end('caller-hangup'))
    session.attachMedia(socket)
  })
}
