import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { Auth } from '@vonage/auth'
import { Applications } from '@vonage/applications'
import { configSchema, normalizePublicHost } from '../config/schema.js'
import { classifyVonageError } from './errors.js'

/**
 * `npm run change-url -- dev|prod`: points the Vonage application's voice
 * webhooks at this server, so that switching between ngrok and Fly is one command.
 */

export class ChangeUrlError extends Error {
  override name = 'ChangeUrlError'
}

export interface Webhook { address: string, http_method: string }
export interface VoiceWebhooks { answer_url: Webhook, event_url: Webhook }

export interface ChangeUrlResult {
  applicationId: string
  name: string
  before: VoiceWebhooks
  after: VoiceWebhooks
  /** False when the application already pointed here. */
  changed: boolean
  /** True when the PUT was sent (changed and not a dry run). */
  updated: boolean
}

export interface ChangeUrlOptions {
  /** Where `env` came from, for messages (".env", ".env.production"). */
  source?: string
  /** Vonage API base URL; wins over VONAGE_API_HOST (tests point it at a fake). */
  apiHost?: string
  dryRun?: boolean
  timeoutMs?: number
}

const REQUIRED = ['SERVER_URL', 'VONAGE_APPLICATION_ID', 'VONAGE_API_KEY', 'VONAGE_API_SECRET'] as const

function describeSetting (name: string): string {
  return (configSchema.properties as Record<string, { description?: string }>)[name]?.description ?? ''
}

function webhook (value: unknown): Webhook {
  const w = (value ?? {}) as Partial<Webhook>
  return { address: typeof w.address === 'string' ? w.address : '', http_method: typeof w.http_method === 'string' ? w.http_method : '' }
}

async function explain (err: unknown, what: string, ctx: { id: string, source: string, apiHost: string, timeoutMs: number }): Promise<never> {
  const failure = await classifyVonageError(err)
  if (failure === null) throw err
  if (failure.kind === 'timeout') throw new ChangeUrlError(`Vonage did not answer ${what} within ${ctx.timeoutMs} ms (${ctx.apiHost})`)
  if (failure.kind === 'unreachable') throw new ChangeUrlError(`could not reach Vonage at ${ctx.apiHost} (${failure.code})`)
  if (failure.status === 401 || failure.status === 403) {
    throw new ChangeUrlError(`Vonage refused VONAGE_API_KEY / VONAGE_API_SECRET (${failure.status} ${failure.title}) — check both in ${ctx.source} (Vonage dashboard → API settings)`)
  }
  if (failure.status === 404) {
    throw new ChangeUrlError(`Vonage has no application ${ctx.id} in this account (404) — check VONAGE_APPLICATION_ID in ${ctx.source}; it must belong to the account of VONAGE_API_KEY`)
  }
  const detail = failure.detail !== '' ? `: ${failure.detail}` : ''
  throw new ChangeUrlError(`Vonage refused ${what} (${failure.status} ${failure.title}${detail})`)
}

export async function changeUrl (env: Record<string, string | undefined>, opts: ChangeUrlOptions = {}): Promise<ChangeUrlResult> {
  const source = opts.source ?? 'the environment'
  const missing = REQUIRED.filter(name => (env[name] ?? '').trim() === '')
  if (missing.length > 0) {
    throw new ChangeUrlError(`not set in ${source}: ${missing.map(n => `${n} — ${describeSetting(n)}`).join('; ')}`)
  }
  const host = normalizePublicHost(env.SERVER_URL!)
  if (host === null) throw new ChangeUrlError(`SERVER_URL in ${source} is malformed ("${env.SERVER_URL}") — expected a host name such as abcd.ngrok-free.app or myapp.fly.dev`)
  const id = env.VONAGE_APPLICATION_ID!.trim()
  const apiHost = (opts.apiHost ?? (env.VONAGE_API_HOST !== undefined && env.VONAGE_API_HOST !== '' ? env.VONAGE_API_HOST : 'https://api.nexmo.com')).replace(/\/+$/, '')
  const timeoutMs = opts.timeoutMs ?? 15_000
  const ctx = { id, source, apiHost, timeoutMs }

  // privateKey '': @vonage/auth tests existsSync(privateKey) even when there is none, and Node ≥ 23 prints a deprecation warning (DEP0187) for undefined.
  const client = new Applications(new Auth({ apiKey: env.VONAGE_API_KEY!.trim(), apiSecret: env.VONAGE_API_SECRET!.trim(), privateKey: '' }), { apiHost, timeout: timeoutMs })
  // getApplication/updateApplication rewrite every key to camelCase and back;
  // the client's raw requests return to Vonage exactly what it gave us, but two addresses.
  const url = `${apiHost}/v2/applications/${encodeURIComponent(id)}`
  let app: Record<string, unknown>
  try {
    app = (await client.sendGetRequest<Record<string, unknown>>(url)).data
  } catch (err) {
    return await explain(err, 'reading the application', ctx)
  }

  const capabilities = (app.capabilities ?? {}) as Record<string, unknown>
  const voice = capabilities.voice as { webhooks?: Record<string, unknown> } | undefined
  if (voice?.webhooks === undefined) {
    throw new ChangeUrlError(`application ${id} has no Voice capability — turn Voice on for it in the Vonage dashboard, then run this again`)
  }
  const before: VoiceWebhooks = { answer_url: webhook(voice.webhooks.answer_url), event_url: webhook(voice.webhooks.event_url) }
  const after: VoiceWebhooks = {
    answer_url: { address: `https://${host}/incoming-call`, http_method: 'POST' },
    event_url: { address: `https://${host}/event`, http_method: 'POST' }
  }
  const changed = JSON.stringify(before) !== JSON.stringify(after)
  const result = { applicationId: id, name: typeof app.name === 'string' ? app.name : '', before, after, changed, updated: false }
  if (!changed || opts.dryRun === true) return result

  const { _links: _ignored, ...rest } = app
  const update = {
    ...rest,
    capabilities: {
      ...capabilities,
      voice: {
        ...voice,
        webhooks: {
          ...voice.webhooks,
          // Spread the old ones: timeouts and other per-webhook fields stay as they were.
          answer_url: { ...(voice.webhooks.answer_url as object), ...after.answer_url },
          event_url: { ...(voice.webhooks.event_url as object), ...after.event_url }
        }
      }
    }
  }
  try {
    await client.sendPutRequest(url, update)
  } catch (err) {
    return await explain(err, 'the update', ctx)
  }
  return { ...result, updated: true }
}

/** What the command prints: before → after, then what happened. */
export function describeChange (r: ChangeUrlResult, dryRun: boolean): string[] {
  const line = (label: string, b: Webhook, a: Webhook): string =>
    `  ${label}  ${b.http_method || '-'} ${b.address || '(none)'}  →  ${a.http_method} ${a.address}`
  return [
    `Vonage application ${r.name !== '' ? `"${r.name}" ` : ''}(${r.applicationId})`,
    line('answer_url', r.before.answer_url, r.after.answer_url),
    line('event_url ', r.before.event_url, r.after.event_url),
    !r.changed ? 'Already up to date: nothing to change.' : dryRun ? 'Dry run: nothing was changed.' : 'Updated.'
  ]
}

export interface RunOptions {
  cwd?: string
  /** The process's environment (tests pass their own): its values win over the file's, and ENV_FILE names the file. */
  env?: Record<string, string | undefined>
  apiHost?: string
  out?: (line: string) => void
  err?: (line: string) => void
}

const USAGE = 'usage: npm run change-url -- dev|prod [--dry-run]   (dev reads .env, prod reads .env.production, ENV_FILE another; environment variables win over the file)'
/** What change-url reads; the rest of the file is the server's business. */
const READS = [...REQUIRED, 'VONAGE_API_HOST'] as const

/** The command line: returns the exit code, writes one line to `err` on failure. */
export async function runChangeUrl (argv: string[], opts: RunOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => { process.stdout.write(`${l}\n`) })
  const err = opts.err ?? ((l: string) => { process.stderr.write(`${l}\n`) })
  const dryRun = argv.includes('--dry-run')
  const rest = argv.filter(a => a !== '--dry-run')
  if (rest.length !== 1 || (rest[0] !== 'dev' && rest[0] !== 'prod')) {
    err(`change-url: ${USAGE}`)
    return 1
  }
  const procEnv = opts.env ?? process.env
  // As the server reads its settings: ENV_FILE names the file, and a variable set in the environment wins over it.
  const file = procEnv.ENV_FILE !== undefined && procEnv.ENV_FILE !== '' ? procEnv.ENV_FILE : rest[0] === 'dev' ? '.env' : '.env.production'
  const fromEnv = Object.fromEntries(READS.filter(n => procEnv[n] !== undefined).map(n => [n, procEnv[n]]))
  let fromFile: Record<string, string | undefined> = {}
  try {
    fromFile = parseEnv(readFileSync(join(opts.cwd ?? process.cwd(), file), 'utf8'))
  } catch {
    // Everything it needs in the environment (CI, a deploy job): no file is needed.
    if (REQUIRED.some(n => (procEnv[n] ?? '') === '')) {
      err(`change-url: ${file} not found — ${rest[0] === 'dev' ? 'create it with SERVER_URL, VONAGE_APPLICATION_ID, VONAGE_API_KEY and VONAGE_API_SECRET' : 'create it (cp .env .env.production) and set SERVER_URL to the Fly host'} (or set them as environment variables)`)
      return 1
    }
  }
  const source = Object.keys(fromEnv).length > 0 ? `${file} or the environment` : file
  try {
    const result = await changeUrl({ ...fromFile, ...fromEnv }, { source, dryRun, apiHost: opts.apiHost })
    for (const l of describeChange(result, dryRun)) out(l)
    return 0
  } catch (e) {
    if (e instanceof ChangeUrlError) {
      err(`change-url: ${e.message}`)
      return 1
    }
    throw e
  }
}
