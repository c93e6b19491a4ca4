import fastifyStatic from '@fastify/static'
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { keyMatches, keylessLocal, requestFacts, sameHost, softphoneAccess, type Access, type SoftphoneMode } from '../lib/security/softphone-access.js'
import { WRONG_KEYS_PER_MINUTE } from '../plugins/console.js'
import { noSniff } from './console.js'
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

  // The keyless mode ends once any key is set (the console's too): one rule for both (lib/security/softphone-access.ts).
  const anyKeySet = cfg.SOFTPHONE_KEY !== '' || cfg.CONSOLE_KEY !== ''

  function access (request: FastifyRequest, given: string | undefined): Access {
    return softphoneAccess(policy, keylessLocal(requestFacts(request), anyKeySet), given)
  }

  /** The key a request carries: ?key= on the page, the X-Softphone-Key header on the call. */
  function givenKey (request: FastifyRequest): string | undefined {
    const q = (request.query as { key?: unknown } | undefined)?.key
    const h = request.headers['x-softphone-key']
    return typeof q === 'string' ? q : typeof h === 'string' ? h : undefined
  }

  // Wrong ?key= on the page count against a budget per client, as on the console. (The call endpoint's own
  // limit counts every request, wrong keys included: @fastify/rate-limit runs one limiter per request.)
  const wrongKeyLimit = fastify.rateLimit({
    max: WRONG_KEYS_PER_MINUTE,
    timeWindow: 60_000,
    allowList: (request) => {
      const given = givenKey(request)
      return cfg.SOFTPHONE_KEY === '' || given === undefined || keyMatches(given, cfg.SOFTPHONE_KEY)
    }
  })

  async function refuse (reply: FastifyReply, a: Access & { ok: false }): Promise<FastifyReply> {
    return await reply.code(a.status).send({ statusCode: a.status, error: a.status === 404 ? 'Not Found' : 'Unauthorized', message: a.message })
  }

  await fastify.register(async function softphoneAssets (assets) {
    assets.addHook('onRequest', async (request, reply) => {
      const a = access(request, undefined)
      if (!a.ok && a.status === 404) return await refuse(reply, a)
    })
    await assets.register(fastifyStatic, { root: `${dir}softphone`, prefix: '/softphone/', decorateReply: false, index: false, redirect: false, setHeaders: noSniff })
  })

  fastify.addHook('onListen', async () => {
    if (policy.mode === 'false') return
    const address = fastify.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : cfg.PORT
    const url = `http://localhost:${port}/softphone`
    if (policy.mode === 'true' && policy.key === '') fastify.log.warn({ url }, 'browser softphone open to anyone who can reach this server (SOFTPHONE_ENABLED=true): each call costs model time')
    else if (policy.key !== '') fastify.log.info({ url: `${url}?key=<SOFTPHONE_KEY>` }, 'browser softphone: open it with ?key=SOFTPHONE_KEY (the key is required from every machine, this one included)')
    else if (anyKeySet) fastify.log.info({ url }, 'browser softphone: off (CONSOLE_KEY is set, so the keyless mode on this machine is off; set SOFTPHONE_KEY to use it)')
    else fastify.log.info({ url, otherMachines: 'off (no SOFTPHONE_KEY)' }, 'browser softphone: open the url in a browser on this machine to talk to the assistant')
  })

  fastify.get('/softphone', { onRequest: wrongKeyLimit }, async (request, reply) => {
    const a = access(request, givenKey(request))
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
