import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { Ajv } from 'ajv'
import { HttpMethod } from '@vonage/voice'
import { E164_RE } from '../lib/config/schema.js'
import { maskNumber } from '../lib/log/logger.js'
import { deriveTokenKey } from '../lib/security/tokens.js'
import { encodeOutboundContext, OUTBOUND_CONTEXT_MAX_BYTES, OUTBOUND_CONTEXT_PURPOSE, OUTBOUND_CONTEXT_TTL_SECONDS } from '../lib/vonage/outbound-context.js'
import { classifyVonageError } from '../lib/vonage/errors.js'
import { countryCode, destinationAllowed, parsePrefixes } from '../lib/security/dial-prefixes.js'
import { MachineDetectionBehavior } from '@vonage/voice'

interface ConnectBody {
  to: string
  from?: string
  context?: Record<string, unknown>
  machineDetection?: 'hangup' | 'continue'
}

const E164_EXAMPLE = '+818012345678'

const bodySchema = {
  type: 'object',
  required: ['to'],
  additionalProperties: false,
  properties: {
    to: { type: 'string', pattern: E164_RE.source },
    from: { type: 'string', pattern: E164_RE.source },
    context: { type: 'object' },
    machineDetection: { type: 'string', enum: ['hangup', 'continue'] }
  }
} as const

// Fastify's shared Ajv removes unknown fields and coerces types, which would
// turn a typo or a number into a silently different call. This route wants them refused.
const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false })

function describe (errors: FastifySchemaValidationError[]): Error {
  const e = errors[0]
  if (e === undefined) return new Error('body is invalid')
  const field = e.instancePath === '' ? 'body' : `body${e.instancePath.replace(/\//g, '.')}`
  const params = e.params as Record<string, unknown>
  let message: string
  switch (e.keyword) {
    case 'required': message = `body.${String(params.missingProperty)} is required (an E.164 number such as ${E164_EXAMPLE})`; break
    case 'additionalProperties': message = `body has an unknown field "${String(params.additionalProperty)}" (allowed: to, from, context, machineDetection)`; break
    case 'enum': message = `${field} must be one of ${(params.allowedValues as string[]).join(', ')}`; break
    case 'pattern': message = `${field} must be an E.164 number such as ${E164_EXAMPLE} (+, country code, number, no spaces)`; break
    case 'type': message = field === 'body' ? 'body must be a JSON object' : `${field} must be ${params.type === 'object' ? 'a JSON object' : `a ${String(params.type)}`}`; break
    default: message = `${field} ${e.message ?? 'is invalid'}`
  }
  return new Error(message)
}

/** Same-length digests so the comparison takes the same time whatever the key. */
function sameSecret (given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** Vonage wants E.164 without the leading + (e.g. 818012345678). */
function vonageNumber (e164: string): string {
  return e164.replace(/^\+/, '')
}

export default async function connectRoutes (fastify: FastifyInstance): Promise<void> {
  const { config, vonage } = fastify
  const contextKey = deriveTokenKey(config.MEDIA_TOKEN_SECRET, config.OPENAI_API_KEY, OUTBOUND_CONTEXT_PURPOSE)
  const machineId = fastify.mediaTokens.machineId
  // CONNECT_API_KEY is the secret; the application id travels in every signed
  // webhook token and is accepted only while no real key is set (the original API).
  const apiKey = config.CONNECT_API_KEY !== '' ? config.CONNECT_API_KEY : vonage.applicationId
  const keyName = config.CONNECT_API_KEY !== '' ? 'CONNECT_API_KEY' : 'the Vonage application id (VONAGE_APPLICATION_ID)'
  if (config.CONNECT_API_KEY === '' && vonage.applicationId !== '') {
    fastify.log.warn('POST /connect の X-API-Key は Vonage のアプリケーション ID です。これは秘密ではありません（署名付き Webhook のたびに送られます）。CONNECT_API_KEY に 32 文字以上のランダムな文字列を設定してください。 / ' +
      'POST /connect accepts the Vonage application id as its X-API-Key, and that id is not a secret (it travels in every signed webhook): set CONNECT_API_KEY to 32+ random characters (e.g. `openssl rand -hex 24`).')
  }
  const configuredPrefixes = parsePrefixes(config.CONNECT_ALLOWED_PREFIXES).prefixes
  const defaultPrefix = countryCode(config.VONAGE_OUTBOUND_FROM)

  /** CONNECT_ALLOWED_PREFIXES, else the caller number's country: a leaked key cannot dial abroad. */
  function allowedPrefixes (from: string): string[] {
    if (configuredPrefixes.length > 0) return configuredPrefixes
    const own = defaultPrefix !== '' ? defaultPrefix : countryCode(from)
    return own === '' ? [] : [own]
  }

  // Registered here, not globally: only this route costs money per request.

  function notConfigured (reply: FastifyReply): FastifyReply {
    return reply.code(503).send({
      statusCode: 503,
      error: 'Service Unavailable',
      message: `outbound calls are not configured: set ${vonage.missing.join(', ')}`,
      missing: vonage.missing
    })
  }

  async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    // Without an application id there is no key to compare with, and nothing to call with.
    if (vonage.applicationId === '') return notConfigured(reply)
    const given = request.headers['x-api-key']
    if (given === undefined || given === '') {
      return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: `X-API-Key header is required (${keyName})` })
    }
    if (typeof given !== 'string' || !sameSecret(given, apiKey)) {
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `X-API-Key is not valid (expected ${keyName})` })
    }
  }

  fastify.post<{ Body: ConnectBody }>('/connect', {
    // Limit first, so that guessing X-API-Key costs the guesser their quota too.
    onRequest: [fastify.rateLimit({ max: config.CONNECT_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 }), authenticate],
    schema: { body: bodySchema },
    validatorCompiler: ({ schema }) => ajv.compile(schema),
    schemaErrorFormatter: describe
  }, async (request, reply) => {
    if (vonage.missing.length > 0 || vonage.voice === null) return notConfigured(reply)
    const { to, context = {} } = request.body
    const from = request.body.from ?? config.VONAGE_OUTBOUND_FROM
    if (from === '') {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'no caller number: give body.from (E.164) or set VONAGE_OUTBOUND_FROM' })
    }
    const allowed = allowedPrefixes(from)
    if (!destinationAllowed(to, allowed)) {
      request.log.warn({ toMasked: maskNumber(to), allowed }, 'outbound call refused: destination not in CONNECT_ALLOWED_PREFIXES')
      const list = allowed.length > 0 ? allowed.join(', ') : 'none'
      return await reply.code(403).send({
        statusCode: 403,
        error: 'Forbidden',
        message: `この番号には発信できません（許可されている番号の頭: ${list}）。CONNECT_ALLOWED_PREFIXES で変更できます。 / ` +
          `body.to is not an allowed destination (allowed prefixes: ${list}); set CONNECT_ALLOWED_PREFIXES (e.g. +81,+1) to change it`,
        allowed
      })
    }
    const machineDetection = request.body.machineDetection ?? config.VONAGE_MACHINE_DETECTION
    const contextBytes = Buffer.byteLength(JSON.stringify(context))
    if (contextBytes > OUTBOUND_CONTEXT_MAX_BYTES) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `body.context is too large: ${contextBytes} bytes as JSON, at most ${OUTBOUND_CONTEXT_MAX_BYTES}` })
    }

    // The context rides in the answer URL, signed, so whichever instance Vonage reaches can serve /answer.
    const ctx = encodeOutboundContext(context, contextKey, OUTBOUND_CONTEXT_TTL_SECONDS)
    const log = { toMasked: maskNumber(to), fromMasked: maskNumber(from), contextBytes, machineDetection }
    // This machine places the call, so it answers it and holds it (fly-replay routes Vonage's requests back here).
    const m = machineId !== '' ? `&m=${encodeURIComponent(machineId)}` : ''
    try {
      const call = await vonage.voice.createOutboundCall({
        to: [{ type: 'phone', number: vonageNumber(to) }],
        from: { type: 'phone', number: vonageNumber(from) },
        answerUrl: [`https://${config.publicHost}/answer?ctx=${ctx}${m}`],
        answerMethod: HttpMethod.POST,
        eventUrl: [`https://${config.publicHost}/event?md=${machineDetection}${m}`],
        eventMethod: HttpMethod.POST,
        machineDetection: machineDetection === 'continue' ? MachineDetectionBehavior.CONTINUE : MachineDetectionBehavior.HANGUP
      })
      request.log.info({ ...log, uuid: call.uuid, status: call.status }, 'outbound call placed')
      return await reply.code(201).send({ uuid: call.uuid, status: call.status })
    } catch (err) {
      const failure = await classifyVonageError(err)
      if (failure === null) throw err
      if (failure.kind === 'timeout') {
        request.log.warn(log, `outbound call: Vonage did not answer within ${config.VONAGE_API_TIMEOUT_MS} ms`)
        return await reply.code(504).send({ statusCode: 504, error: 'Gateway Timeout', message: `Vonage did not answer within ${config.VONAGE_API_TIMEOUT_MS} ms; the call may or may not have been placed` })
      }
      if (failure.kind === 'unreachable') {
        request.log.warn({ ...log, code: failure.code }, 'outbound call: could not reach Vonage')
        return await reply.code(502).send({ statusCode: 502, error: 'Bad Gateway', message: `could not reach Vonage (${failure.code})` })
      }
      // Vonage's detail may quote the number back; it goes to the client who sent it, not to the log.
      request.log.warn({ ...log, vonageStatus: failure.status, title: failure.title }, 'outbound call refused by Vonage')
      return await reply.code(502).send({
        statusCode: 502,
        error: 'Bad Gateway',
        message: `Vonage refused the call (HTTP ${failure.status})${failure.title !== '' ? `: ${failure.title}` : ''}`,
        vonageStatus: failure.status,
        title: failure.title,
        detail: failure.detail
      })
    }
  })
}
