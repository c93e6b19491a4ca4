import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import configPlugin, { type ConfigPluginOptions } from './plugins/config.js'
import vonagePlugin from './plugins/vonage.js'
import webhookAuthPlugin from './plugins/webhook-auth.js'
import callsPlugin from './plugins/calls.js'
import bridgePlugin from './plugins/bridge.js'
import healthRoutes from './routes/health.js'
import connectRoutes from './routes/connect.js'
import nccoRoutes from './routes/ncco.js'
import mediaRoutes from './routes/media.js'
import { loggerOptions } from './lib/logger.js'

export interface AppOptions {
  config?: ConfigPluginOptions
  /** A ready pino logger (tests pass one writing to a buffer). */
  logger?: FastifyBaseLogger
}

/**
 * Builds the app without listening, so tests can `inject` into it. Plugins are
 * registered in dependency order: config → Vonage clients → NCCO routes → media bridge.
 */
export async function buildApp (opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger ?? pino(loggerOptions(process.env.LOG_LEVEL ?? 'info')),
    // Fly and ngrok terminate TLS in front of us; their X-Forwarded-* headers are the truth.
    trustProxy: true,
    bodyLimit: 64 * 1024,
    return503OnClosing: true
  })
  await app.register(configPlugin, opts.config ?? {})
  await app.register(vonagePlugin)
  await app.register(webhookAuthPlugin)
  await app.register(callsPlugin)
  await app.register(bridgePlugin)
  await app.register(healthRoutes)
  await app.register(connectRoutes)
  await app.register(nccoRoutes)
  await app.register(mediaRoutes)
  return app
}
