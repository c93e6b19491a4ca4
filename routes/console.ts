import fastifyStatic from '@fastify/static'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { UNAUTHORIZED } from '../plugins/console.js'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ServerResponse } from 'node:http'

/** public/console/ from source (tsx) and from dist/ alike. */
function consoleDir (): string {
  const fromSource = fileURLToPath(new URL('../public/console/', import.meta.url))
  return existsSync(fromSource) ? fromSource : fileURLToPath(new URL('../../public/console/', import.meta.url))
}

/** No inline script or style anywhere: everything the page runs comes from /console/assets/. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
/** Proxies drop an idle stream, and so does our own idle-socket timeout (IDLE_SOCKET_MS, 10 s): a comment line now and then keeps it open. */
export const SSE_PING_MS = 5_000
/** Live-view streams one server holds at once; more get 429 until one closes (each holds a socket and listeners). */
export const MAX_LIVE_STREAMS = 100

/** Every static file says its type is final: a browser must not run a mislabelled file as script or style. */
export function noSniff (reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff')
}

function securityHeaders (reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    // The key may be in the URL: keep it out of Referer headers.
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
}

/**
 * The operator console: the page, its scripts, the live calls as
 * Server-Sent Events, and hanging up a call. History and figures come from
 * the JSON API (routes/api.ts) with the same cookie.
 */
export default async function consoleRoutes (fastify: FastifyInstance): Promise<void> {
  const gate = fastify.consoleGate
  const live = fastify.callStore.live
  const dir = consoleDir()
  const page = readFileSync(`${dir}index.html`, 'utf8')
  const limited = gate.limit

  await fastify.register(async function consoleAssets (assets) {
    assets.addHook('onRequest', async (request, reply) => {
      // The assets hold nothing secret; they are hidden only where the console is off.
      const v = gate.decide(request)
      if (!v.ok && v.status === 404) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: v.message })
    })
    await assets.register(fastifyStatic, { root: `${dir}assets`, prefix: '/console/assets/', decorateReply: false, index: false, redirect: false, setHeaders: noSniff })
  })

  fastify.get('/console', { onRequest: limited }, async (request, reply) => {
    const q = request.query as Record<string, unknown>
    if (typeof q.key === 'string') {
      const cookie = gate.loginCookie(request, q.key)
      if (cookie === null) return await securityHeaders(reply).code(401).send(UNAUTHORIZED)
      // The key leaves the address bar (and history) at once; the cookie carries the session.
      return await securityHeaders(reply).header('set-cookie', cookie).redirect('/console', 303)
    }
    const v = gate.decide(request)
    if (!v.ok) {
      if (v.status === 401) {
        return await securityHeaders(reply).code(401)
          .send({ ...UNAUTHORIZED, message: '/console?key=<CONSOLE_KEY> で開いてください / open /console?key=<CONSOLE_KEY>' })
      }
      return await gate.guard(request, reply)
    }
    return await securityHeaders(reply).type('text/html; charset=utf-8').header('content-security-policy', CONSOLE_CSP).send(page)
  })

  const streams = new Set<ServerResponse>()
  fastify.get('/console/events', { onRequest: [limited, gate.guard] }, async (request, reply) => {
    // Only an EventSource gets the endless stream; anything else (a HEAD, a plain fetch) an answer that ends.
    if (request.method !== 'GET' || !String(request.headers.accept ?? '').includes('text/event-stream')) {
      return await reply.code(406).send({ statusCode: 406, error: 'Not Acceptable', message: 'this is a Server-Sent Events stream: send Accept: text/event-stream' })
    }
    if (streams.size >= MAX_LIVE_STREAMS) {
      request.log.warn({ streams: streams.size }, 'live view refused: MAX_LIVE_STREAMS streams already open')
      return await reply.code(429).header('retry-after', '30')
        .send({ statusCode: 429, error: 'Too Many Requests', message: `at most ${MAX_LIVE_STREAMS} live views are open at once: close another console tab, or try again shortly` })
    }
    const res = reply.raw
    reply.hijack()
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff'
    })
    const send = (event: string, data: unknown): void => { res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) }
    send('snapshot', { calls: [...live.calls.values()] })
    const onStart = (call: unknown): void => send('start', call)
    const onLine = (id: string, line: unknown): void => send('line', { id, line })
    const onCost = (id: string, costUsd: number): void => send('cost', { id, costUsd })
    const onEnd = (id: string): void => send('end', { id })
    const onTransfer = (id: string, transfers: unknown): void => send('transfer', { id, transfers })
    live.on('transfer', onTransfer)
    live.on('start', onStart)
    live.on('line', onLine)
    live.on('cost', onCost)
    live.on('end', onEnd)
    const ping = setInterval(() => res.write(': ping\n\n'), SSE_PING_MS)
    streams.add(res)
    res.on('close', () => {
      clearInterval(ping)
      live.off('start', onStart)
      live.off('line', onLine)
      live.off('cost', onCost)
      live.off('end', onEnd)
      live.off('transfer', onTransfer)
      streams.delete(res)
    })
  })
  // Open streams would hold the server's close until the shutdown timeout.
  fastify.addHook('preClose', async () => { for (const res of streams) res.end() })

  fastify.post('/console/calls/:id/hangup', { onRequest: [limited, gate.guard] }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const session = fastify.bridge.sessions.get(id)
    if (session === undefined || session.ended) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no call ${id} in progress` })
    request.log.info({ callId: id }, 'call hung up from the console')
    session.end('ended')
    return { id, ended: true }
  })
}
