import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, envFilePath } from './lib/config/schema.js'
import { PortError } from './lib/config/port-error.js'
import { tuneHeapFor } from './lib/live/heap-tuning.js'

async function main (): Promise<void> {
  let app
  try {
    app = await buildApp({ config: { dotenv: envFilePath() } })
    // Before the first call: how V8 should treat this engine's garbage (lib/live/heap-tuning.ts).
    const v8Flags = tuneHeapFor(app.config.OPENAI_ENGINE)
    if (v8Flags.length > 0) app.log.info({ v8Flags }, 'V8 flags set for the engine')
    await app.ready()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error — fix these in ${envFilePath()} (or the environment) and start again:\n`)
      for (const p of err.problems) process.stderr.write(`  ${p}\n`)
      process.exit(1)
    }
    if (err instanceof PortError) {
      process.stderr.write(`${err.message}\n`)
      await app?.close().catch(() => {})
      process.exit(1)
    }
    throw err
  }

  // Listen first: a port in use says which setting to change, rather than a "fatal error" and a shutdown story.
  try {
    await app.listen({ port: app.config.PORT, host: app.config.HOST })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    process.stderr.write(`${new PortError('PORT', app.config.PORT, app.config.HOST, code).message}\n`)
    await app.close().catch(() => {})
    process.exit(1)
  }

  const drainSeconds = app.config.SHUTDOWN_DRAIN_SECONDS
  closeWithGrace({
    delay: (drainSeconds + 10) * 1000,
    logger: app.log,
    onSecondSignal (signal) {
      app.log.warn({ signal }, `2 回目の ${signal}: 通話を待たずに今すぐ終了します / second ${signal}: exiting now without waiting for calls`)
    }
  }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    const calls = app.calls.size
    if (calls > 0) {
      app.log.info({ signal, calls, drainSeconds }, 'shutting down: no new calls, waiting for calls in progress')
      // A person at a terminal pressed Ctrl-C: say how to stop waiting.
      if (signal === 'SIGINT') process.stderr.write(`通話中の ${calls} 件の終了を最大 ${drainSeconds} 秒待ちます。もう一度 Ctrl-C で今すぐ終了します / waiting up to ${drainSeconds} s for ${calls} call(s) in progress — press Ctrl-C again to exit now\n`)
    } else {
      app.log.info({ signal }, 'shutting down: no new calls, and none in progress')
    }
    const cut = await app.calls.drain(drainSeconds * 1000)
    if (cut > 0) app.log.warn({ cut }, 'drain time is up: ending the remaining calls')
    await app.close()
  })
  // Scale-out is the platform's job: more machines behind Fly's proxy, one process each (docs/deploy.md).
}

await main()
