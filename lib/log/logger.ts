import { stdSerializers, type LoggerOptions } from 'pino'

/** The slice of pino that lib/ code logs through, so it needs no Fastify. */
export interface Log {
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
  debug: (obj: object, msg?: string) => void
}

/** Keeps the last 4 digits so an operator can still tell calls apart. */
export function maskNumber (value: unknown): string {
  const s = String(value ?? '')
  if (s.includes('*')) return s // already masked
  const digits = s.replace(/\D/g, '')
  if (digits.length <= 4) return digits === '' ? s : '*'.repeat(digits.length)
  return `${s.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`
}

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/sk-[A-Za-z0-9_-]{8,}/g, '[redacted]'], // OpenAI keys
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted]'], // JWTs
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted]'],
  [/([?&](?:token|key|api-key|api_key|sig|ctx)=)[^&\s"]+/gi, '$1[redacted]'] // tokens in URLs
]

/**
 * Exact secret values (Azure keys, Vonage secrets) have no recognisable shape,
 * so the config plugin registers them here once they are known.
 */
const knownSecrets = new Set<string>()

export function registerSecrets (values: readonly string[]): void {
  for (const v of values) if (v.length >= 6) knownSecrets.add(v)
}

/** Removes anything that looks like a credential from free text. */
export function scrubSecrets (text: string): string {
  let out = text
  for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]')
  for (const [re, replacement] of SECRET_PATTERNS) out = out.replace(re, replacement)
  return out
}

const NUMBER_KEYS = new Set(['to', 'from', 'number', 'caller', 'callee', 'msisdn'])

/** Fields that hold a secret wherever they appear in a logged object. */
const SECRET_KEYS = new Set([
  'OPENAI_API_KEY', 'VONAGE_PRIVATE_KEY', 'VONAGE_API_SECRET', 'VONAGE_SIGNATURE_SECRET', 'MEDIA_TOKEN_SECRET',
  'apiKey', 'privateKey', 'token', 'jwt', 'authorization', 'api-key', 'x-api-key', 'cookie'
])

/** The field's censored value, or undefined to leave it to the walk. Below the first level only text counts as a number: `{ turns: { caller: 3 } }` is a count. */
function censorField (key: string, value: unknown, depth: number): unknown {
  if (value === undefined || value === null) return undefined
  if (SECRET_KEYS.has(key)) return '[redacted]'
  if (typeof value === 'string') return maskNumber(value)
  if (depth > 1) return undefined
  return typeof value === 'object' ? '[redacted]' : maskNumber(value)
}

/**
 * The value with credentials scrubbed and phone numbers masked, by field name
 * at any depth; the same value, not a copy, when there was nothing to change
 * (most log lines). Done here, in the one walk every line already takes,
 * because pino's wildcard redact paths cost three times the rest of a line.
 */
function scrubValue (value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubSecrets(value)
  if (depth > 4 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    let out: unknown[] | null = null
    for (let i = 0; i < value.length; i++) {
      const v = scrubValue(value[i], depth + 1)
      if (v !== value[i]) (out ??= value.slice())[i] = v
    }
    return out ?? value
  }
  // Requests, errors and buffers have their own serializers; copying them would lose their getters.
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  let out: Record<string, unknown> | null = null
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue
    const before = (value as Record<string, unknown>)[k]
    const censored = NUMBER_KEYS.has(k) || SECRET_KEYS.has(k) ? censorField(k, before, depth) : undefined
    const v = censored !== undefined ? censored : scrubValue(before, depth + 1)
    if (v !== before) (out ??= { ...value })[k] = v
  }
  return out ?? value
}

/**
 * Header and field paths that always hold a secret or a phone number, for
 * what reaches pino without passing scrubValue (its own serializers' output).
 * No wildcards: scrubValue masks those fields by name at any depth.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["api-key"]',
  'apiKey',
  'privateKey',
  'token',
  'jwt',
  'to', 'from', 'number', 'caller', 'callee', 'msisdn'
]

/**
 * pino options shared by the server and the scripts: JSON when piped (for log
 * shippers), pretty on a terminal, and nothing in a log line that could be used
 * to call our API or identify a caller.
 */
export function loggerOptions (level: string, pretty = process.stdout.isTTY === true): LoggerOptions {
  return {
    level,
    redact: {
      paths: REDACT_PATHS,
      censor: (value: unknown, path: string[]) => NUMBER_KEYS.has(path[path.length - 1] ?? '') ? maskNumber(value) : '[redacted]'
    },
    serializers: {
      err: (err: Error) => scrubValue({ ...stdSerializers.err(err) }, 0),
      req (req: { method: string, url: string, id?: string, ip?: string }) {
        return { method: req.method, url: scrubSecrets(req.url), id: req.id }
      }
    },
    hooks: {
      logMethod (args, method) {
        method.apply(this, args.map(a => scrubValue(a, 0)) as Parameters<typeof method>)
      }
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
