import fp from 'fastify-plugin'
import fastifyEnv from '@fastify/env'
import type { FastifyInstance } from 'fastify'
import { configSchema, checkConfig, describeSchemaErrors, ConfigError, type AppConfig, type RawConfig } from '../lib/config/schema.js'
import { loadPersona, type Persona } from '../lib/config/persona.js'
import { registerSecrets } from '../lib/log/logger.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    persona: Persona
  }
}

export interface ConfigPluginOptions {
  /** Values that win over the environment (tests pass their whole config here). */
  data?: Record<string, string | number | boolean>
  /** Read process.env (default true; tests turn it off for isolation). */
  env?: boolean
  /** Path of the .env file to read, or false for none (default '.env'). */
  dotenv?: string | false
}

async function configPlugin (fastify: FastifyInstance, opts: ConfigPluginOptions): Promise<void> {
  try {
    await fastify.register(fastifyEnv, {
      confKey: 'rawConfig',
      schema: structuredClone(configSchema) as unknown as Record<string, unknown>,
      env: opts.env ?? true,
      dotenv: opts.dotenv === false ? false : { path: opts.dotenv ?? '.env' },
      data: opts.data ?? {}
    })
  } catch (err) {
    const errors = (err as { errors?: Parameters<typeof describeSchemaErrors>[0] }).errors
    if (errors === undefined) throw err
    throw new ConfigError(describeSchemaErrors(errors))
  }
  const raw = (fastify as unknown as { rawConfig: RawConfig }).rawConfig
  const { config, problems } = checkConfig(raw)
  if (problems.length > 0) throw new ConfigError(problems)
  registerSecrets([config.OPENAI_API_KEY, config.VONAGE_PRIVATE_KEY, config.VONAGE_API_SECRET, config.VONAGE_SIGNATURE_SECRET, config.MEDIA_TOKEN_SECRET])
  fastify.log.level = config.LOG_LEVEL
  fastify.decorate('config', config)

  const persona = loadPersona(config.SYSTEM_MESSAGE_PATH)
  fastify.decorate('persona', persona)
  fastify.log.info({ persona: persona.source, path: persona.path, chars: persona.text.length },
    persona.source === 'file' ? 'persona loaded from file' : 'persona file missing or empty: using the built-in チャッピー')
  if (config.publicHost === '') {
    fastify.log.warn('SERVER_URL is not set: call WebSocket URLs use the Host header of each webhook request')
  }
}

export default fp(configPlugin, { name: 'config' })
