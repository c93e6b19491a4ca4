import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { keyMatches, keylessLocal, requestFacts, sameHost } from '../lib/security/softphone-access.js'
import { issueSession, sessionValid, SESSION_SECONDS } from '../lib/security/console-session.js'
import { registerSecrets } from '../lib/log/logger.js'

export type ConsoleVerdict =
  | { ok: true, via: 'local' | 'key' | 'cookie' }
  | { ok: false, status: 401 | 403 | 404, message: string }

export interface ConsoleGate {
  /** The decision for one request to a console page, its events or the API. */
  decide: (request: FastifyRequest) => ConsoleVerdict
  /** True when the request carries a key (query, Bearer or cookie) that is not the right one: those count against the rate limit. */
  carriesWrongKey: (request: FastifyRequest) => boolean
  /** The key in `?key=` matches: the cookie to set (a new random session each time). */
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
/** Behind TLS the cookie takes the __Host- prefix: the browser keeps it to this host, Path=/ and Secure (no subdomain can set or shadow it). */
export const CONSOLE_COOKIE_TLS = `__Host-${CONSOLE_COOKIE}`
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

function sessionCookie (request: FastifyRequest): string | undefined {
  return readCookie(request.headers.cookie, CONSOLE_COOKIE_TLS) ?? readCookie(request.headers.cookie, CONSOLE_COOKIE)
}

function bearer (request: FastifyRequest): string | undefined {
  const h = request.headers.authorization
  return typeof h === 'string' && /^Bearer /i.test(h) ? h.slice(7).trim() : undefined
}

/**
 * Who may open the operator console. It shows every caller's words, so it is
 * off for other machines until CONSOLE_KEY is set. While no key at all is set,
 * a browser on the server's own machine (no proxy in between) needs none, as
 * with the softphone; once one is, every request needs the key. The cookie is
 * a random session signed with the key (lib/security/console-session.ts), never
 * the key itself, and expires.
 */
async function consolePlugin (fastify: FastifyInstance): Promise<void> {
  const key = fastify.config.CONSOLE_KEY
  registerSecrets([key])
  const anyKeySet = key !== '' || fastify.config.SOFTPHONE_KEY !== ''
  const isLocal = (r: FastifyRequest): boolean => keylessLocal(requestFacts(r), anyKeySet)

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
      // A set key is always required, whatever the peer, Host, headers or HTTP version.
      if (key !== '') {
        if (keyMatches(bearer(r), key)) return { ok: true, via: 'key' }
        if (sessionValid(key, sessionCookie(r))) return { ok: true, via: 'cookie' }
        return { ok: false, status: 401, message: 'Unauthorized' }
      }
      if (isLocal(r)) return { ok: true, via: 'local' }
      return { ok: false, status: 404, message: 'The console is off for this request: no CONSOLE_KEY is set. Without one it opens only to a browser on the server itself (http://localhost:<PORT>/console, no proxy in between, and not once SOFTPHONE_KEY is set). Set CONSOLE_KEY (16+ random characters, e.g. `openssl rand -hex 16`) and open /console?key=<CONSOLE_KEY>.' }
    },
    carriesWrongKey (r) {
      if (key === '') return false
      const q = (r.query as { key?: unknown } | undefined)?.key
      const given = [typeof q === 'string' ? q : undefined, bearer(r)].filter((g): g is string => g !== undefined)
      const cookie = sessionCookie(r)
      // A stale cookie beside the right key (the key was changed) is not a guess.
      if (given.some(g => keyMatches(g, key)) || sessionValid(key, cookie)) return false
      return given.length > 0 || cookie !== undefined
    },
    loginCookie (r, given) {
      if (!keyMatches(given, key)) return null
      const attributes = `Path=/; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Strict`
      // Plain http is only ever localhost (a browser drops Secure cookies elsewhere there).
      if (r.protocol === 'https') return `${CONSOLE_COOKIE_TLS}=${issueSession(key)}; ${attributes}; Secure`
      return `${CONSOLE_COOKIE}=${issueSession(key)}; ${attributes}`
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
