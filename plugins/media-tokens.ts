import fp from 'fastify-plugin'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { deriveTokenKey, signToken, verifyToken, type TokenPayload } from '../lib/security/tokens.js'
import { ReplayGuard } from '../lib/security/replay-guard.js'

/**
 * What a media URL token says, and nothing more: it travels in a URL that
 * proxies and Vonage log, so no phone number or call context goes in it.
 */
export interface MediaTokenClaims extends TokenPayload {
  /** Call (leg) uuid from the answer webhook, or a softphone call id. */
  c: string
  /** FLY_MACHINE_ID of the machine holding the call; '' off Fly. */
  m: string
  /** Random id: the token opens one media socket, ever. */
  j: string
}

export type MediaTokenCheck =
  | { ok: true, claims: MediaTokenClaims }
  | { ok: false, reason: 'malformed' | 'bad-signature' | 'expired' | 'used' }

export interface MediaTokens {
  /** This machine's FLY_MACHINE_ID ('' when not on Fly). */
  readonly machineId: string
  issue: (callId: string) => string
  /** Signature, expiry, shape, and not used yet; has no side effect. */
  verify: (token: string) => MediaTokenCheck
  /** Marks the token used; false when it already was (another socket won the race). */
  consume: (claims: MediaTokenClaims) => boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    mediaTokens: MediaTokens
  }
}

const TOKEN_ID_BYTES = 12

function isClaims (p: TokenPayload): p is MediaTokenClaims {
  return typeof p.c === 'string' && p.c !== '' && typeof p.m === 'string' && typeof p.j === 'string' && p.j !== ''
}

async function mediaTokensPlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  // Same key on every machine of a deployment, so any of them can read the machine id.
  const key = deriveTokenKey(config.MEDIA_TOKEN_SECRET, config.OPENAI_API_KEY, 'media/v2')
  const used = new ReplayGuard()
  const machineId = config.FLY_MACHINE_ID

  const tokens: MediaTokens = {
    machineId,
    issue (callId) {
      const claims: MediaTokenClaims = {
        exp: Math.floor(Date.now() / 1000) + config.MEDIA_TOKEN_TTL_SECONDS,
        c: callId,
        m: machineId,
        j: randomBytes(TOKEN_ID_BYTES).toString('base64url')
      }
      return signToken(claims, key)
    },
    verify (token) {
      const result = verifyToken<MediaTokenClaims>(token, key)
      if (!result.ok) return result
      if (!isClaims(result.payload)) return { ok: false, reason: 'malformed' }
      if (used.has(result.payload.j)) return { ok: false, reason: 'used' }
      return { ok: true, claims: result.payload }
    },
    consume (claims) {
      return used.use(claims.j, claims.exp * 1000)
    }
  }
  fastify.decorate('mediaTokens', tokens)
}

export default fp(mediaTokensPlugin, { name: 'media-tokens', dependencies: ['config'] })
