import type { FastifyInstance } from 'fastify'

/**
 * The call audio WebSocket Vonage opens after the NCCO's greeting. The token in
 * the URL is checked before the upgrade, so a stranger never costs us an
 * upstream connection.
 */
export default async function mediaRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get('/media', {
    websocket: true,
    preValidation: async (request, reply) => {
      const token = (request.query as { token?: unknown }).token
      const check = typeof token === 'string' ? fastify.bridge.verifyToken(token) : { ok: false as const, reason: 'malformed' as const }
      if (!check.ok) {
        request.log.warn({ reason: check.reason }, 'media socket refused: bad or expired token')
        return await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'invalid or expired media token' })
      }
      if (check.payload.d !== 'softphone' && !fastify.verifyVonageJwt(request.headers.authorization)) {
        request.log.warn('media socket refused: missing or invalid Vonage signature')
        return await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'missing or invalid Vonage signature' })
      }
      const existing = fastify.bridge.sessions.get(check.payload.c)
      if (existing?.mediaAttached === true) {
        return await reply.code(409).send({ statusCode: 409, error: 'Conflict', message: 'this call already has its media socket' })
      }
    }
  }, (socket, request) => {
    // Handlers go on before anything async, or the first frames are lost.
    const token = fastify.bridge.verifyToken((request.query as { token: string }).token)
    if (!token.ok) { socket.close(1008, 'invalid token'); return }
    const p = token.payload
    // A call this process does not hold (ended, unknown, answered elsewhere) gets no new session: that would be a new paid model session per replay.
    const session = fastify.bridge.sessions.get(p.c)
    if (session === undefined || session.ended || session.mediaAttached) {
      request.log.warn({ callId: p.c }, 'media socket refused: this process holds no such call waiting for its media')
      socket.close(1008, 'unknown or ended call')
      return
    }
    socket.on('message', (data: Buffer, isBinary: boolean) => session.onMediaMessage(data, isBinary))
    socket.on('close', () => session.end('caller-hangup'))
    session.attachMedia(socket)
  })
}
