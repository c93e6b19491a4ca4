import fp from 'fastify-plugin'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { CallMetrics } from '../lib/metrics/call-metrics.js'
import { PortError } from '../lib/config/port-error.js'
import { HEADERS_TIMEOUT_MS, IDLE_SOCKET_MS, KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS, TIMEOUT_CHECK_MS } from '../lib/security/connection-limits.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Null when METRICS_PORT is 0. */
    metrics: CallMetrics | null
  }
}

/**
 * Prometheus metrics on METRICS_PORT of METRICS_HOST (default 127.0.0.1: this
 * machine only; they are unauthenticated), a server of their own so they are
 * never reachable through the public port. Fly scrapes them over its private
 * network (fly.toml: METRICS_HOST=fly-local-6pn, [metrics]). Opened when the app is ready, so a port in use stops the start with a message naming the setting.
 */
async function metricsPlugin (fastify: FastifyInstance): Promise<void> {
  const port = fastify.config.METRICS_PORT
  if (port === 0) {
    fastify.decorate('metrics', null)
    return
  }
  const metrics = new CallMetrics(() => fastify.bridge.sessions.size)
  fastify.decorate('metrics', metrics)
  fastify.bridge.onSession.add(session => { metrics.watch(session) })

  let server: Server | null = null
  fastify.addHook('onReady', async () => {
    const srv = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS }, (req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n')
        return
      }
      metrics.scrape().then(({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType }).end(body)
      }, (err: unknown) => {
        fastify.log.error({ err }, 'metrics scrape failed')
        res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n')
      })
    })
    const host = fastify.config.METRICS_HOST
    srv.setTimeout(IDLE_SOCKET_MS)
    srv.listen(port, host)
    const failed = once(srv, 'error').then(([err]) => { throw err })
    try {
      await Promise.race([once(srv, 'listening'), failed])
    } catch (err) {
      throw new PortError('METRICS_PORT', port, host, (err as NodeJS.ErrnoException).code)
    }
    failed.catch(() => {})
    server = srv
    const addr = srv.address()
    fastify.log.info({ metricsHost: host, metricsPort: typeof addr === 'object' && addr !== null ? addr.port : port }, 'metrics: GET /metrics on METRICS_HOST:METRICS_PORT')
  })
  fastify.addHook('onClose', async () => {
    if (server === null) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server!.close(() => resolve()))
  })
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['config', 'bridge'] })
