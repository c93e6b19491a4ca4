import fp from 'fastify-plugin'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { CallMetrics } from '../lib/metrics/call-metrics.js'
import { PortError } from '../lib/config/port-error.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Null when METRICS_PORT is 0. */
    metrics: CallMetrics | null
  }
}

/**
 * Prometheus metrics on METRICS_PORT (HOST), a server of their own so they are
 * never reachable through the public port: Fly scrapes them inside its network
 * (fly.toml [metrics]). Opened when the app is ready, so a port in use stops the start with a message naming the setting.
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
    const srv = createServer((req, res) => {
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
    srv.listen(port, fastify.config.HOST)
    const failed = once(srv, 'error').then(([err]) => { throw err })
    try {
      await Promise.race([once(srv, 'listening'), failed])
    } catch (err) {
      throw new PortError('METRICS_PORT', port, fastify.config.HOST, (err as NodeJS.ErrnoException).code)
    }
    failed.catch(() => {})
    server = srv
    const addr = srv.address()
    fastify.log.info({ metricsPort: typeof addr === 'object' && addr !== null ? addr.port : port }, 'metrics: GET /metrics on METRICS_PORT')
  })
  fastify.addHook('onClose', async () => {
    if (server === null) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server!.close(() => resolve()))
  })
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['config', 'bridge'] })
