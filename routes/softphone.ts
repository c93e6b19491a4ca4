import fastifyStatic from '@fastify/static'
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isLocalRequest, sameHost, softphoneAccess, type Access, type SoftphoneMode } from '../lib/security/softphone-access.js'
import { registerSecrets } from '../lib/log/logger.js'
import type { CallContext } from '../lib/realtime/session-update.js'

/** public/ from source (tsx) and from dist/ alike. */
function publicDir (): string {
  const fromSource = fileURLToPath(new URL('../public/', import.meta.url))
  return existsSync(fromSource) ? fromSource : fileURLToPath(new URL('../../public/', import.meta.url))
}

export const SOFTPHONE_CALLS_PER_MINUTE = 10

const SAFE_HOST = /^[a-z0-9.:[\]-]+$/i

/**
 * The browser softphone: the page, its scripts, and `POST /softphone/call`,
 * which starts a call and hands back a media socket URL. The browser then
 * talks to /media exactly as Vonage does, through the same token check.
 */
export default async function softphoneRoutes (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const policy = { mode: cfg.SOFTPHONE_ENABLED as SoftphoneMode, key: cfg.SOFTPHONE_KEY }
  registerSecrets([cfg.SOFTPHONE_KEY])
  const dir = publicDir()
  const page = readFileSync(`${dir}softphone.html`, 'utf8')

  function access (request: FastifyRequest, given: string | undefined): Access {
    // The socket's own peer: request.ip follows X-Forwarded-For (trustProxy), which anyone can write.
    const local = isLocalRequest({ peer: request.raw.socket.remoteAddress, host: request.headers.host, headers: request.headers, httpVersion: request.raw.httpVersion })
    return softphoneAccess(policy, local, given)
  }

  async function refuse (reply: FastifyReply, a: Access & { ok: false }): Promise<FastifyReply> {
    return await reply.code(a.status).send({ statusCode: a.status, error: a.status === 404 ? 'Not Found' : 'Unauthorized', message: a.message })
  }

  await fastify.register(async function softphoneAssets (assets) {
    assets.addHook('onRequest', async (request, reply) => {
      const a = access(request, undefined)
      if (!a.ok && a.status === 404) return await refuse(reply, a)
    })
    await assets.register(fastifyStatic, { root: `${dir}softphone`, prefix: '/softphone/', decorateReply: false, index: false, redirect: false })
  })

  fastify.addHook('onListen', async () => {
    if (policy.mode === 'false') return
    const address = fastify.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : cfg.PORT
    const url = `http://localhost:${port}/softphone`
    if (policy.mode === 'true') fastify.log.warn({ url }, 'browser softphone open to anyone who can reach this server (SOFTPHONE_ENABLED=true): each call costs model time')
    else fastify.log.info({ url, otherMachines: policy.key !== '' ? 'with ?key=SOFTPHONE_KEY' : 'off (no SOFTPHONE_KEY)' }, 'browser softphone: open the url in a browser on this machine to talk to the assistant')
  })

  fastify.get('/softphone', async (request, reply) => {
    const a = access(request, (request.query as { key?: unknown }).key as string | undefined)
    if (!a.ok) return await refuse(reply, a)
    const host = request.host
    const sockets = SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : ''
    return await reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      // The key may be in the URL: keep it out of Referer headers.
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', `default-src 'self'; connect-src 'self'${sockets}; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`)
      .send(page)
  })

  // Each call costs model time: a page stuck in a redial loop, or a leaked key, must not run up a bill.
  fastify.post('/softphone/call', { onRequest: fastify.rateLimit({ max: SOFTPHONE_CALLS_PER_MINUTE, timeWindow: 60_000 }) }, async (request, reply) => {
    const given = request.headers['x-softphone-key']
    const a = access(request, typeof given === 'string' ? given : undefined)
    if (!a.ok) return await refuse(reply, a)
    // Another site's page in the user's browser must not spend model time: browsers always send Origin on a cross-site POST.
    const origin = request.headers.origin
    if (origin !== undefined && !sameHost(origin, request.host)) {
      request.log.warn({ origin }, 'softphone call refused: cross-site request')
      return await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'cross-site softphone calls are refused' })
    }
    const id = randomUUID()
    const call: CallContext = { direction: 'softphone' }
    // A test call hears what a caller would about the business hours.
    const hours = fastify.hours.instructions()
    if (hours.length > 0) call.notes = hours
    // The visitor passed the softphone's own access check: the greeting may be prepared at once.
    const session = fastify.bridge.startCall(id, call, { greetEarly: true })
    if (session === null) {
      request.log.warn({ callId: id, calls: fastify.calls.size }, 'softphone call refused: at capacity or shutting down')
      return await reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: fastify.calls.draining ? 'the server is shutting down' : 'the server is at its call limit (MAX_CONCURRENT_CALLS)' })
    }
    request.log.info({ callId: id, via: a.via }, 'softphone call started')
    const scheme = request.protocol === 'https' ? 'wss' : 'ws'
    return {
      id,
      wsUrl: `${scheme}://${request.host}/media?token=${encodeURIComponent(fastify.mediaTokens.issue(id))}`,
      rate: cfg.VONAGE_AUDIO_RATE
    }
  })
}
