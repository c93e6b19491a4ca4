import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import configPlugin, { type ConfigPluginOptions } from './plugins/config.js'
import externalPlugins from './plugins/external.js'
import vonagePlugin from './plugins/vonage.js'
import webhookAuthPlugin from './plugins/webhook-auth.js'
import mediaTokensPlugin from './plugins/media-tokens.js'
import callsPlugin from './plugins/calls.js'
import bridgePlugin from './plugins/bridge.js'
import hoursPlugin from './plugins/hours.js'
import transferPlugin from './plugins/transfer.js'
import toolsPlugin from './plugins/tools.js'
import dtmfPlugin from './plugins/dtmf.js'
import callRecordsPlugin from './plugins/call-records.js'
import softphonePlugin from './plugins/softphone.js'
import metricsPlugin from './plugins/metrics.js'
import callStorePlugin from './plugins/call-store.js'
import consolePlugin from './plugins/console.js'
import notifyPlugin from './plugins/notify.js'
import summaryPlugin from './plugins/summary.js'
import ownerAlertsPlugin from './plugins/owner-alerts.js'
import budgetPlugin from './plugins/budget.js'
import voicemailPlugin from './plugins/voicemail.js'
import recordingPlugin from './plugins/recording.js'
import healthRoutes from './routes/health.js'
import connectRoutes from './routes/connect.js'
import nccoRoutes from './routes/ncco.js'
import mediaRoutes from './routes/media.js'
import softphoneRoutes from './routes/softphone.js'
import consoleRoutes from './routes/console.js'
import apiRoutes from './routes/api.js'
import transferRoutes from './routes/transfer.js'
import voicemailRoutes from './routes/voicemail.js'
import callDataRoutes from './routes/call-data.js'
import { loggerOptions } from './lib/log/logger.js'
import { clientErrorHandler, connectionOptions } from './lib/security/connection-limits.js'

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
  let trustedHops = 0
  const app = Fastify({
    loggerInstance: opts.logger ?? pino(loggerOptions(process.env.LOG_LEVEL ?? 'info')),
    // Fly and ngrok terminate TLS one hop in front of us. Trusting exactly that
    // hop keeps a client from choosing its own IP (rate limits) with X-Forwarded-For.
    // Fastify wants this at construction, before the config is read, hence the indirection.
    trustProxy: (_address: string, hop: number) => hop < trustedHops,
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    // Slow or silent clients are dropped in seconds; malformed requests are never logged with their bytes.
    ...connectionOptions,
    // (Framework errors, a bad URL or content type, go through the one error handler: code and message only.)
    clientErrorHandler
  })
  await app.register(configPlugin, opts.config ?? {})
  trustedHops = app.config.TRUST_PROXY_HOPS
  await app.register(externalPlugins)
  await app.register(vonagePlugin)
  await app.register(webhookAuthPlugin)
  await app.register(mediaTokensPlugin)
  await app.register(callsPlugin)
  await app.register(bridgePlugin)
  await app.register(hoursPlugin)
  await app.register(transferPlugin)
  await app.register(toolsPlugin)
  await app.register(dtmfPlugin)
  await app.register(callRecordsPlugin)
  await app.register(softphonePlugin)
  await app.register(metricsPlugin)
  await app.register(callStorePlugin)
  await app.register(budgetPlugin)
  await app.register(voicemailPlugin)
  await app.register(recordingPlugin)
  await app.register(consolePlugin)
  await app.register(notifyPlugin)
  await app.register(summaryPlugin)
  await app.register(ownerAlertsPlugin)
  await app.register(healthRoutes)
  await app.register(connectRoutes)
  await app.register(nccoRoutes)
  await app.register(mediaRoutes)
  await app.register(softphoneRoutes)
  await app.register(consoleRoutes)
  await app.register(apiRoutes)
  await app.register(transferRoutes)
  await app.register(voicemailRoutes)
  await app.register(callDataRoutes)
  return app
}
