import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildApp } from './app.js'
import { ConfigError, envFilePath } from './lib/config.js'
import { attachWorker, primarySettings, runPrimary, webConcurrency } from './lib/cluster.js'
import { loggerOptions } from './lib/logger.js'

async function main (): Promise<void> {
  let app
  try {
    app = await buildApp({ config: { dotenv: envFilePath() } })
    await app.ready()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error — fix these in ${envFilePath()} (or the environment) and start again:\n`)
      for (const p of err.problems) process.stderr.write(`  ${p}\n`)
      process.exit(1)
    }
    throw err
  }

  const drainMs = app.config.SHUTDOWN_DRAIN_SECONDS * 1000
  let closing = false
  const grace = closeWithGrace({ delay: drainMs + 10_000, logger: app.log }, async ({ signal, err }) => {
    closing = true
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    app.log.info({ signal, calls: app.calls.size, drainSeconds: app.config.SHUTDOWN_DRAIN_SECONDS }, 'shutting down: no new calls, waiting for calls in progress')
    const cut = await app.calls.drain(drainMs)
    if (cut > 0) app.log.warn({ cut }, 'drain time is up: ending the remaining calls')
    await app.close()
  })

  if (cluster.isWorker) {
    // The primary owns the port and hands connections over (lib/cluster.ts).
    attachWorker(app, () => { if (!closing) void grace.close() })
    return
  }
  await app.listen({ port: app.config.PORT, host: app.config.HOST })
}

const workers = webConcurrency()
if (workers > 1 && cluster.isPrimary) {
  const s = primarySettings()
  await runPrimary({ workers, port: s.port, host: s.host, log: pino(loggerOptions(s.logLevel)) })
} else {
  await main()
}
