import fp from 'fastify-plugin'
import fastifyEnv from '@fastify/env'
import type { FastifyInstance } from 'fastify'
import { configSchema, checkConfig, describeSchemaErrors, ConfigError, type AppConfig, type RawConfig } from '../lib/config/schema.js'
import { loadPersona, type Persona } from '../lib/config/persona.js'
import { registerSecrets } from '../lib/log/logger.js'
import { unknownNames, describeUnknown } from '../lib/config/unknown-names.js'
import { configuredModels, lookUpModel, shutdownWarning } from '../lib/doctor/models.js'

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
  // A misspelt name is otherwise ignored without a word (OPENAI_VOCIE=cedar leaves the default voice).
  for (const u of unknownNames({ dotenvPath: opts.dotenv ?? '.env', env: (opts.env ?? true) ? process.env : false })) {
    fastify.log.warn({ name: u.name, source: u.source, suggestion: u.suggestion }, describeUnknown(u))
  }
  if (config.MODEL_CHECK === 'on' && config.AZURE_OPENAI_ENDPOINT === '') {
    // One look-up per model at start, in the background: a slow or failing answer never holds up calls.
    fastify.addHook('onReady', async () => { void checkModels(fastify, config) })
  }
  if (config.publicHost === '') {
    fastify.log.warn('SERVER_URL is not set: call WebSocket URLs use the Host header of each webhook request')
  }
}

async function checkModels (fastify: FastifyInstance, config: AppConfig): Promise<void> {
  for (const m of configuredModels(config)) {
    const r = await lookUpModel(config.OPENAI_BASE_URL, config.OPENAI_API_KEY, m.id).catch(() => null)
    if (r === null || r.kind === 'failed') {
      fastify.log.info({ setting: m.setting, model: m.id, reason: r?.message }, 'model check: OpenAI did not answer (calls are not affected; npm run doctor checks it in full)')
    } else if (r.kind === 'unauthorized') {
      fastify.log.error({ setting: m.setting, model: m.id, status: r.status }, 'OpenAI refused OPENAI_API_KEY — check the key / OPENAI_API_KEY が拒否されました。キーを確認してください')
      return
    } else if (r.kind === 'not-found') {
      fastify.log.error({ setting: m.setting, model: m.id }, `${m.setting}=${m.id} は OpenAI にありません / OpenAI has no model ${m.id}: check ${m.setting}`)
    } else if (r.shutdownDate !== null) {
      fastify.log.warn({ setting: m.setting, model: m.id, shutdownDate: r.shutdownDate }, shutdownWarning(m.setting, m.id, r.shutdownDate))
    }
  }
}

export default fp(configPlugin, { name: 'config' })
