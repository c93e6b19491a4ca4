import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, envFilePath } from './lib/config/schema.js'

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
  closeWithGrace({ delay: drainMs + 10_000, logger: app.log }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    app.log.info({ signal, calls: app.calls.size, drainSeconds: app.config.SHUTDOWN_DRAIN_SECONDS }, 'shutting down: no new calls, waiting for calls in progress')
    const cut = await app.calls.drain(drainMs)
    if (cut > 0) app.log.warn({ cut }, 'drain time is up: ending the remaining calls')
    await app.close()
  })

  // Scale-out is the platform's job: more machines behind Fly's proxy, one process each (docs/operations.md).
  await app.listen({ port: app.config.PORT, host: app.config.HOST })
}

await main()
