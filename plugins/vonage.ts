import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Auth } from '@vonage/auth'
import { Voice } from '@vonage/voice'
import { ConfigError } from '../lib/config/schema.js'
import { loadPrivateKey } from '../lib/vonage/private-key.js'

export interface VonageClients {
  /** Voice API client (outbound calls, hangup, transfer); null without an application id and a private key. */
  voice: Voice | null
  applicationId: string
  /** Settings POST /connect needs but lacks; empty when outbound calling is ready. */
  missing: string[]
}

declare module 'fastify' {
  interface FastifyInstance {
    vonage: VonageClients
  }
}

const KEY_SETTING = 'VONAGE_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY'

async function vonagePlugin (fastify: FastifyInstance): Promise<void> {
  const { config } = fastify
  const applicationId = config.VONAGE_APPLICATION_ID
  // Read once: the key never changes while we run, and a bad key should stop
  // the start rather than the first call.
  const key = loadPrivateKey(config.VONAGE_PRIVATE_KEY, config.VONAGE_PRIVATE_KEY_PATH)
  if (applicationId !== '' && !key.ok && key.problem === 'invalid') {
    throw new ConfigError([key.from === 'VONAGE_PRIVATE_KEY'
      ? 'VONAGE_PRIVATE_KEY is not a PEM private key — paste the whole private.key of the Vonage application, including the BEGIN/END lines'
      : `VONAGE_PRIVATE_KEY_PATH ("${config.VONAGE_PRIVATE_KEY_PATH}") does not hold a PEM private key — use the private.key downloaded with the Vonage application`])
  }

  let voice: Voice | null = null
  if (applicationId !== '' && key.ok) {
    const auth = new Auth({ applicationId, privateKey: key.pem })
    voice = new Voice(auth, { apiHost: config.VONAGE_API_HOST.replace(/\/+$/, ''), timeout: config.VONAGE_API_TIMEOUT_MS })
  }

  const missing: string[] = []
  if (applicationId === '') missing.push('VONAGE_APPLICATION_ID')
  if (!key.ok) missing.push(KEY_SETTING)
  if (config.publicHost === '') missing.push('SERVER_URL')
  if (missing.length > 0) {
    fastify.log.warn({ missing }, `outbound calls (POST /connect) are disabled: set ${missing.join(', ')} to enable them`)
  }

  fastify.decorate('vonage', { voice, applicationId, missing })
}

export default fp(vonagePlugin, { name: 'vonage', dependencies: ['config'] })
