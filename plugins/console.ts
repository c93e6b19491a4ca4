import fp from 'fastify-plugin'
import { createHmac } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { isLocalRequest, keyMatches, sameHost } from '../lib/security/softphone-access.js'
import { registerSecrets } from '../lib/log/logger.js'

export type ConsoleVerdict =
  | { ok: true, via: 'local' | 'key' | 'cookie' }
  | { ok: false, status: 401 | 403 | 404, message: string }

export interface ConsoleGate {
  /** The decision for one request to a console page, its events or the API. */
  decide: (request: FastifyRequest) => ConsoleVerdict
  /** True when the request carries a key (query, Bearer or cookie) that is not the right one: those count against the rate limit. */
  carriesWrongKey: (request: FastifyRequest) => boolean
  /** The key in `?key=` matches: the cookie to set. */
  loginCookie: (request: FastifyRequest, given: string) => string | null
  /** onRequest hook counting wrong keys (one budget for the pages and the API); 429 past WRONG_KEYS_PER_MINUTE. */
  limit: onRequestHookHandler
  /** onRequest hook refusing what decide() refuses. */
  guard: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
}

declare module 'fastify' {
  interface FastifyInstance {
    consoleGate: ConsoleGate
  }
}

export const CONSOLE_COOKIE = 'console_session'
const COOKIE_MAX_AGE_S = 7 * 24 * 3600
/** Wrong keys allowed per client and minute; right ones are not counted. */
export const WRONG_KEYS_PER_MINUTE = 10
/** All a wrong or missing key learns. */
export const UNAUTHORIZED = { statusCode: 401, error: 'Unauthorized', message: 'Unauthorized' }
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** A cookie value, from the Cookie header, without a cookie library for one name. */
function readCookie (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function bearer (request: FastifyRequest): string | undefined {
  const h = request.headers.authorization
  return typeof h === 'string' && /^Bearer /i.test(h) ? h.slice(7).trim() : undefined
}

/**
 * Who may open the operator console. It shows every caller's words, so it is
 * off for other machines until CONSOLE_KEY is set; a browser on the server's
 * own machine (no proxy in between) needs no key, as with the softphone. The
 * cookie holds a value derived from the key, not the key itself.
 */
async function consolePlugin (fastify: FastifyInstance): Promise<void> {
  const key = fastify.config.CONSOLE_KEY
  registerSecrets([key])
  const session = key === '' ? '' : createHmac('sha256', key).update('console-session-v1').digest('hex')

  const isLocal = (r: FastifyRequest): boolean =>
    // The socket's own peer: request.ip follows X-Forwarded-For (trustProxy), which anyone can write.
    isLocalRequest({ peer: r.raw.socket.remoteAddress, host: r.headers.host, headers: r.headers })

  function crossSite (r: FastifyRequest): boolean {
    if (!STATE_CHANGING.has(r.method)) return false
    const site = r.headers['sec-fetch-site']
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true
    const origin = r.headers.origin
    return typeof origin === 'string' && !sameHost(origin, r.host)
  }

  let limit: onRequestHookHandler | null = null
  // In a scope of its own: the softphone registers the same plugin in its scope.
  await fastify.register(async function consoleRateLimit (scope) {
    limit = scope.rateLimit({ max: WRONG_KEYS_PER_MINUTE, timeWindow: 60_000, allowList: (r) => !gate.carriesWrongKey(r) })
  })
  if (limit === null) throw new Error('console rate limit not set up')

  const gate: ConsoleGate = {
    limit,
    decide (r) {
      if (crossSite(r)) return { ok: false, status: 403, message: 'cross-site requests to the console are refused' }
      if (key !== '') {
        if (keyMatches(bearer(r), key)) return { ok: true, via: 'key' }
        if (keyMatches(readCookie(r.headers.cookie, CONSOLE_COOKIE), session)) return { ok: true, via: 'cookie' }
      }
      if (isLocal(r)) return { ok: true, via: 'local' }
      if (key === '') {
        return { ok: false, status: 404, message: 'The console is off for requests from other machines: no CONSOLE_KEY is set. Open http://localhost:<PORT>/console on the server itself, or set CONSOLE_KEY (16+ random characters, e.g. `openssl rand -hex 16`) and open /console?key=<CONSOLE_KEY>.' }
      }
      return { ok: false, status: 401, message: 'Unauthorized' }
    },
    carriesWrongKey (r) {
      if (key === '') return false
      const q = (r.query as { key?: unknown } | undefined)?.key
      const given = [typeof q === 'string' ? q : undefined, bearer(r)].filter((g): g is string => g !== undefined)
      const cookie = readCookie(r.headers.cookie, CONSOLE_COOKIE)
      // A stale cookie beside the right key (the key was changed) is not a guess.
      if (given.some(g => keyMatches(g, key)) || (cookie !== undefined && keyMatches(cookie, session))) return false
      return given.length > 0 || cookie !== undefined
    },
    loginCookie (r, given) {
      if (!keyMatches(given, key)) return null
      const secure = r.protocol === 'https' ? '; Secure' : ''
      return `${CONSOLE_COOKIE}=${session}; Path=/; Max-Age=${COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Strict${secure}`
    },
    async guard (request, reply) {
      const v = gate.decide(request)
      if (v.ok) return
      if (v.status === 403) request.log.warn({ origin: request.headers.origin, site: request.headers['sec-fetch-site'] }, 'console request refused: cross-site')
      // A wrong key learns nothing: no page, no hint.
      if (v.status === 401) return await reply.code(401).header('cache-control', 'no-store').send(UNAUTHORIZED)
      return await reply.code(v.status).send({ statusCode: v.status, error: v.status === 404 ? 'Not Found' : 'Forbidden', message: v.message })
    }
  }
  fastify.decorate('consoleGate', gate)
}

export default fp(consolePlugin, { name: 'console', dependencies: ['config'] })
