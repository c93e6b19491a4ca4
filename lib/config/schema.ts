import { existsSync } from 'node:fs'
import { parsePrefixes } from '../security/dial-prefixes.js'
import { isMachineId } from '../security/fly-replay.js'
import { liveSettings, checkLiveSettings } from '../live/settings.js'
import { hoursSettings, checkHoursSettings } from '../hours/settings.js'
import { transferSettings, checkTransferSettings } from '../transfer/settings.js'
import { outboundSettings, checkOutboundSettings } from '../vonage/settings.js'
import { summarySettings, checkSummarySettings } from '../summary/settings.js'
import { notifySettings, checkNotifySettings } from '../notify/settings.js'
import { voicemailSettings, checkVoicemailSettings } from '../voicemail/settings.js'
import { budgetSettings } from '../budget/settings.js'
import { recordingSettings, checkRecordingSettings } from '../recording/settings.js'
import { securitySettings, checkSecuritySettings } from '../security/settings.js'

/** CONNECT_API_KEY places calls on the owner's account: long enough that guessing it is hopeless. */
export const MIN_CONNECT_KEY_CHARS = 32

/**
 * Every setting the server reads, in one JSON schema for @fastify/env.
 * `description` doubles as the hint printed when a value is wrong, so it says
 * what is expected, not what the code does with it.
 */
export const configSchema = {
  type: 'object',
  required: ['OPENAI_API_KEY'],
  properties: {
    PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 3000, description: 'TCP port to listen on (1-65535)' },
    HOST: { type: 'string', default: '0.0.0.0', description: 'address to listen on (0.0.0.0 = all interfaces, 127.0.0.1 = this machine only)' },
    SERVER_URL: { type: 'string', default: '', description: 'public host name Vonage reaches, e.g. abcd.ngrok-free.app or myapp.fly.dev (https:// is optional)' },
    TRUST_PROXY_HOPS: { type: 'integer', minimum: 0, maximum: 10, default: 0, description: 'proxies in front of the server whose X-Forwarded-For is trusted (0 = clients connect directly, the safe default; 1 = Fly.io or ngrok)' },
    FLY_MACHINE_ID: { type: 'string', default: '', description: 'set by Fly.io on each machine: media tokens name the machine holding the call and other machines answer with fly-replay; leave unset elsewhere' },
    ANSWER_RATE_LIMIT_PER_MINUTE: { type: 'integer', minimum: 1, maximum: 100000, default: 60, description: 'answer webhooks (/incoming-call, /answer) allowed per client IP per minute (more get 429); requests with a valid Vonage signature are not counted' },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' },
    SYSTEM_MESSAGE_PATH: { type: 'string', default: './system-message.txt', description: 'file holding the persona (system prompt); missing or empty uses the built-in チャッピー' },
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 9091, description: 'port of the Prometheus metrics (GET /metrics) on HOST, never the public port; 0 = no metrics' },
    MODEL_CHECK: { type: 'string', enum: ['on', 'off'], default: 'on', description: 'on = at start, ask OpenAI (GET /v1/models/{id}) whether the configured models have a shutdown date and warn; off = do not ask' },
    SHUTDOWN_DRAIN_SECONDS: { type: 'integer', minimum: 0, maximum: 3600, default: 60, description: 'on SIGTERM/SIGINT, seconds to let calls in progress finish before closing' },

    OPENAI_API_KEY: { type: 'string', minLength: 1, description: 'OpenAI secret key (sk-...), or the Azure OpenAI key when AZURE_OPENAI_ENDPOINT is set' },
    OPENAI_MODEL: { type: 'string', minLength: 1, default: 'gpt-realtime-2.1', description: 'Realtime model, e.g. gpt-realtime-2.1 or gpt-realtime-2.1-mini (Azure: the deployment name)' },
    OPENAI_BASE_URL: { type: 'string', default: 'https://api.openai.com/v1', description: 'OpenAI API base URL (http(s)://...); the Realtime WebSocket URL is derived from it' },
    AZURE_OPENAI_ENDPOINT: { type: 'string', default: '', description: 'Azure OpenAI resource URL, e.g. https://myres.openai.azure.com (empty = use OpenAI)' },
    OPENAI_API_VERSION: { type: 'string', default: '', description: 'Azure preview api-version (e.g. 2025-04-01-preview); empty = Azure GA /openai/v1 form' },
    OPENAI_VOICE: { type: 'string', minLength: 1, default: 'marin', description: 'assistant voice, e.g. marin, cedar, alloy, shimmer' },
    OPENAI_REASONING_EFFORT: { type: 'string', enum: ['', 'minimal', 'low', 'medium', 'high', 'xhigh'], default: '', description: 'reasoning effort of reasoning-capable Realtime models (gpt-realtime-2 family): minimal, low, medium, high or xhigh; empty = the model\'s default (not sent)' },
    OPENAI_TURN_DETECTION: { type: 'string', enum: ['server_vad', 'semantic_vad'], default: 'server_vad', description: 'server_vad (fast, silence based) or semantic_vad (waits for the caller to finish the thought)' },
    OPENAI_TRANSCRIPTION_MODEL: { type: 'string', default: 'gpt-transcribe', description: 'model transcribing the caller\'s committed turns, e.g. gpt-transcribe or gpt-live-transcribe (empty = no input transcription)' },
    TRANSCRIPTION_LANGUAGE: { type: 'string', default: 'ja', description: 'ISO-639-1 language of the callers, e.g. ja or en' },
    OPENAI_NOISE_REDUCTION: { type: 'string', enum: ['near_field', 'far_field', 'off'], default: 'near_field', description: 'near_field (handsets), far_field (speakerphones) or off' },
    TURN_PROFILE: { type: 'string', enum: ['standard', 'patient'], default: 'standard', description: 'standard, or patient (older callers: longer pauses, louder threshold, longer aizuchi before the assistant gives way); see docs/turn-taking.md' },
    BARGE_IN_MIN_MS: { type: 'integer', minimum: 0, maximum: 3000, default: 0, description: 'ms of caller speech over the assistant that make an interruption (shorter = a backchannel), 20-3000; 0 = the profile\'s (standard 400, patient 600)' },
    BACKCHANNEL_WORDS: { type: 'string', default: '', description: 'extra backchannel words (Japanese, comma-separated) that never interrupt the assistant; the built-in list is in lib/call/backchannels.ts' },
    IDLE_PROMPT_SECONDS: { type: 'integer', minimum: 0, maximum: 120, default: 8, description: 'seconds of caller silence after the assistant finished before it checks in once (then says goodbye after the same again); 0 = never' },

    TOOLS_FILE: { type: 'string', default: './tools.json', description: 'JSON file declaring the custom tools TOOLS_WEBHOOK_URL runs (see tools.example.json)' },
    TOOLS_WEBHOOK_URL: { type: 'string', default: '', description: 'http(s) URL that runs the tools of TOOLS_FILE (POST {call, name, arguments}, signed); empty = no custom tools' },
    TOOLS_WEBHOOK_SECRET: { type: 'string', default: '', description: 'key of the X-Signature HMAC-SHA256 on tool requests (give the receiver the same value); empty = a derived key the receiver cannot check' },
    TOOLS_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 120000, default: 8000, description: 'how long a tool may run before the model is told it timed out, in ms' },
    VONAGE_TRANSFER_NUMBER: { type: 'string', default: '', description: 'E.164 number transfer_call puts the caller through to, e.g. +81312345678 (empty, and no allowlist = no transfers)' },
    VONAGE_TRANSFER_ALLOWLIST: { type: 'string', default: '', description: 'comma-separated E.164 numbers the model may name for transfer_call, e.g. +81312345678,+81612345678' },
    DTMF_TO_MODEL: { type: 'boolean', default: true, description: 'tell the model about keypad presses ("the caller pressed 1"): true or false' },
    LOG_TRANSCRIPTS: { type: 'boolean', default: false, description: 'also log what the caller and the assistant said (turn by turn, and in the logged call record): true or false; off by default so no words reach the logs (the record webhook keeps the transcript)' },
    CALL_RECORD_WEBHOOK_URL: { type: 'string', default: '', description: 'http(s) URL that receives each call record (POST JSON, signed); empty = records go to the log only' },
    CALL_RECORD_WEBHOOK_SECRET: { type: 'string', default: '', description: 'key of the X-Signature HMAC-SHA256 on call records (give the receiver the same value); empty = a derived key the receiver cannot check' },
    CALL_RECORD_WEBHOOK_RETRIES: { type: 'integer', minimum: 0, maximum: 10, default: 4, description: 'retries of a call record the webhook did not accept (backoff 1 s, 2 s, 4 s, ...)' },
    CALL_RECORD_WEBHOOK_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60000, default: 5000, description: 'how long one call record POST may take, in ms' },
    PRICE_AUDIO_INPUT_PER_1M: { type: 'number', minimum: 0, default: 0, description: 'USD per 1M audio input tokens for the call record\'s cost estimate; 0 = the list price of OPENAI_MODEL (lib/records/prices.ts)' },
    PRICE_AUDIO_OUTPUT_PER_1M: { type: 'number', minimum: 0, default: 0, description: 'USD per 1M audio output tokens; 0 = the list price of OPENAI_MODEL' },
    PRICE_TEXT_INPUT_PER_1M: { type: 'number', minimum: 0, default: 0, description: 'USD per 1M text input tokens; 0 = the list price of OPENAI_MODEL' },
    PRICE_TEXT_OUTPUT_PER_1M: { type: 'number', minimum: 0, default: 0, description: 'USD per 1M text output tokens; 0 = the list price of OPENAI_MODEL' },
    PRICE_CACHED_INPUT_PER_1M: { type: 'number', minimum: 0, default: 0, description: 'USD per 1M cached input tokens, audio or text; 0 = the list price of OPENAI_MODEL' },
    PRICE_TRANSCRIPTION_PER_MINUTE: { type: 'number', minimum: 0, default: 0, description: 'USD per minute of caller audio transcribed; 0 = the list price of OPENAI_TRANSCRIPTION_MODEL' },

    VONAGE_APPLICATION_ID: { type: 'string', default: '', description: 'Vonage application id (also the X-API-Key of POST /connect while CONNECT_API_KEY is unset)' },
    VONAGE_PRIVATE_KEY_PATH: { type: 'string', default: './private.key', description: 'path of the Vonage application private key (PEM)' },
    VONAGE_PRIVATE_KEY: { type: 'string', default: '', description: 'the private key PEM itself (for Fly secrets); wins over VONAGE_PRIVATE_KEY_PATH' },
    VONAGE_OUTBOUND_FROM: { type: 'string', default: '', description: 'default caller number for POST /connect, E.164 (e.g. +815012345678)' },
    VONAGE_API_KEY: { type: 'string', default: '', description: 'Vonage account API key (npm run change-url)' },
    VONAGE_API_SECRET: { type: 'string', default: '', description: 'Vonage account API secret (npm run change-url)' },
    VONAGE_SIGNATURE_SECRET: { type: 'string', default: '', description: 'Vonage signature secret (Vonage Dashboard → API settings); when set, unsigned, stale or replayed webhooks are refused' },
    VONAGE_API_HOST: { type: 'string', default: 'https://api.nexmo.com', description: 'Vonage REST API base URL' },
    VONAGE_AUDIO_RATE: { type: 'integer', enum: [8000, 16000, 24000], default: 16000, description: 'audio rate of the call WebSocket: 8000, 16000 or 24000' },
    VONAGE_API_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 120000, default: 10000, description: 'how long to wait for Vonage\'s REST API, in ms (POST /connect answers 504 after it)' },
    CONNECT_API_KEY: { type: 'string', default: '', description: 'the X-API-Key of POST /connect, at least 32 random characters (e.g. `openssl rand -hex 24`); empty = VONAGE_APPLICATION_ID, which is not a secret' },
    CONNECT_ALLOWED_PREFIXES: { type: 'string', default: '', description: 'comma-separated number prefixes POST /connect may dial, e.g. +81 or +8150,+8180 (* = anywhere); empty = the country code of VONAGE_OUTBOUND_FROM' },
    VONAGE_MACHINE_DETECTION: { type: 'string', enum: ['hangup', 'continue'], default: 'hangup', description: 'when an outbound call reaches an answering machine: hangup (Vonage ends the call) or continue (the assistant leaves a short message)' },
    CONNECT_RATE_LIMIT_PER_MINUTE: { type: 'integer', minimum: 1, maximum: 100000, default: 20, description: 'POST /connect requests allowed per client IP per minute (more get 429)' },

    GREETING_TEXT: { type: 'string', default: 'お電話ありがとうございます。AIアシスタントにおつなぎします。', description: 'what Vonage says before connecting the caller to the AI (empty = no greeting)' },
    GREETING_LANGUAGE: { type: 'string', default: 'ja-JP', description: 'language of the greeting, e.g. ja-JP or en-US' },
    MEDIA_TOKEN_SECRET: { type: 'string', default: '', description: 'key signing the call WebSocket URLs; empty = derived from the other secrets (same on every instance)' },
    MEDIA_TOKEN_TTL_SECONDS: { type: 'integer', minimum: 5, maximum: 3600, default: 120, description: 'how long a call WebSocket URL stays valid after the answer webhook' },
    MEDIA_WAIT_SECONDS: { type: 'integer', minimum: 1, maximum: 120, default: 15, description: 'how long a call prepared by the answer webhook waits for Vonage\'s media WebSocket before it is closed' },
    MAX_CALL_SECONDS: { type: 'integer', minimum: 10, maximum: 86400, default: 1800, description: 'longest call allowed, in seconds; a call that reaches it is ended cleanly' },
    MAX_CONCURRENT_CALLS: { type: 'integer', minimum: 1, default: 200, description: 'calls carried at once by this server; more are answered with a polite busy message. npm run bench measures what a machine carries (about 200 per core)' },
    PLAYBACK_LEAD_MS: { type: 'integer', minimum: 20, maximum: 1000, default: 100, description: 'assistant audio queued ahead at Vonage, in ms (small = crisp barge-in)' },

    SOFTPHONE_ENABLED: { type: 'string', enum: ['auto', 'true', 'false'], default: 'auto', description: 'browser softphone at /softphone: auto (open to this machine only, others need SOFTPHONE_KEY), true (open to anyone who reaches the server) or false (off)' },
    SOFTPHONE_KEY: { type: 'string', default: '', description: 'key for the softphone from other machines (/softphone?key=...), at least 16 characters, e.g. from `openssl rand -hex 16`; empty = this machine only' },

    DATA_DIR: { type: 'string', default: './data', description: 'folder of the embedded call store (SQLite, calls.sqlite; created when missing); empty = keep no call history (unless DATABASE_URL is set)' },
    DATABASE_URL: { type: 'string', default: '', description: 'PostgreSQL for the call store, postgres://user:password@host:5432/db (every machine pointing at one); empty = the embedded store in DATA_DIR' },
    STORE_FULL_NUMBERS: { type: 'boolean', default: false, description: 'keep callers\' full phone numbers in the call store besides the masked ones: true or false' },
    STORE_TRANSCRIPTS: { type: 'boolean', default: true, description: 'keep what was said in the call store (and show it in the console): true or false' },
    CALL_RETENTION_DAYS: { type: 'integer', minimum: 1, maximum: 36500, default: 90, description: 'days a call is kept in the call store before it is purged' },
    CONSOLE_KEY: { type: 'string', default: '', description: 'key of the operator console /console and the /api/calls API, at least 16 characters, e.g. from `openssl rand -hex 16`; empty = console on this machine only' },
    ...liveSettings,
    ...hoursSettings,
    ...transferSettings,
    ...outboundSettings,
    ...summarySettings,
    ...notifySettings,
    ...voicemailSettings,
    ...budgetSettings,
    ...recordingSettings,
    ...securitySettings
  }
} as const

type Schema = typeof configSchema
type Prop = Schema['properties']
/** A setting's type as the schema says it: its enum's literals where it has one (no casts at the call sites). */
type ValueOf<P> = P extends { enum: ReadonlyArray<infer E> } ? E : P extends { type: 'integer' | 'number' } ? number : P extends { type: 'boolean' } ? boolean : string
export type RawConfig = { [K in keyof Prop]: ValueOf<Prop[K]> }

/** The validated settings plus the values derived from them. */
export interface AppConfig extends RawConfig {
  /** SERVER_URL without scheme or trailing slash; '' when unset. */
  publicHost: string
}

/**
 * The .env file to read: ENV_FILE when set (e.g. ENV_FILE=.env.production to
 * try production settings locally), else .env. It names the file, so it can
 * only come from the real environment.
 */
export function envFilePath (): string {
  const f = process.env.ENV_FILE
  return f === undefined || f === '' ? '.env' : f
}

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map(p => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

interface AjvLikeError {
  instancePath: string
  keyword: string
  params: Record<string, unknown>
  message?: string
}

/** One line per Ajv error, naming the variable and what it expects. */
export function describeSchemaErrors (errors: AjvLikeError[]): string[] {
  const lines = new Set<string>()
  for (const e of errors) {
    const name = e.keyword === 'required'
      ? String(e.params.missingProperty)
      : e.instancePath.replace(/^\//, '')
    const hint = (configSchema.properties as Record<string, { description?: string }>)[name]?.description ?? ''
    const what = e.keyword === 'required'
      ? 'is required'
      : e.keyword === 'minLength' ? 'must not be empty' : (e.message ?? 'is invalid')
    lines.add(`${name} ${what}${hint ? ` — ${hint}` : ''}`)
  }
  return [...lines]
}

export const E164_RE = /^\+[1-9]\d{6,14}$/

const HOST_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i

/** Accepts `host`, `host:port`, `https://host/`; returns the bare host or null. */
export function normalizePublicHost (value: string): string | null {
  const bare = value.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '')
  return HOST_RE.test(bare) ? bare.toLowerCase() : null
}

function isHttpUrl (value: string): boolean {
  try {
    const u = new URL(value)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

/**
 * Checks that JSON schema cannot express. Returns every problem at once so a
 * user fixes their .env in one pass rather than one restart per mistake.
 */
export function checkConfig (raw: RawConfig): { config: AppConfig, problems: string[] } {
  const problems: string[] = []
  let publicHost = ''
  if (raw.SERVER_URL !== '') {
    const host = normalizePublicHost(raw.SERVER_URL)
    if (host === null) problems.push(`SERVER_URL is malformed ("${raw.SERVER_URL}") — expected a host name such as abcd.ngrok-free.app or myapp.fly.dev, with or without https://`)
    else publicHost = host
  }
  if (!isHttpUrl(raw.OPENAI_BASE_URL)) problems.push(`OPENAI_BASE_URL is malformed ("${raw.OPENAI_BASE_URL}") — expected an http(s) URL such as https://api.openai.com/v1`)
  if (raw.AZURE_OPENAI_ENDPOINT !== '' && !isHttpUrl(raw.AZURE_OPENAI_ENDPOINT)) problems.push(`AZURE_OPENAI_ENDPOINT is malformed ("${raw.AZURE_OPENAI_ENDPOINT}") — expected https://<resource>.openai.azure.com`)
  if (!isHttpUrl(raw.VONAGE_API_HOST)) problems.push(`VONAGE_API_HOST is malformed ("${raw.VONAGE_API_HOST}") — expected an http(s) URL such as https://api.nexmo.com`)
  if (raw.TOOLS_WEBHOOK_URL !== '' && !isHttpUrl(raw.TOOLS_WEBHOOK_URL)) problems.push(`TOOLS_WEBHOOK_URL is malformed ("${raw.TOOLS_WEBHOOK_URL}") — expected an http(s) URL such as https://tools.example.com/run`)
  if (raw.CALL_RECORD_WEBHOOK_URL !== '' && !isHttpUrl(raw.CALL_RECORD_WEBHOOK_URL)) problems.push(`CALL_RECORD_WEBHOOK_URL is malformed ("${raw.CALL_RECORD_WEBHOOK_URL}") — expected an http(s) URL such as https://crm.example.com/calls`)
  if (raw.VONAGE_TRANSFER_NUMBER !== '' && !E164_RE.test(raw.VONAGE_TRANSFER_NUMBER)) problems.push(`VONAGE_TRANSFER_NUMBER is malformed ("${raw.VONAGE_TRANSFER_NUMBER}") — expected an E.164 number such as +81312345678`)
  for (const n of raw.VONAGE_TRANSFER_ALLOWLIST.split(',').map(s => s.trim()).filter(s => s !== '')) {
    if (!E164_RE.test(n)) problems.push(`VONAGE_TRANSFER_ALLOWLIST has a malformed number ("${n}") — expected comma-separated E.164 numbers such as +81312345678,+81612345678`)
  }
  const outboundGiven = raw.VONAGE_APPLICATION_ID !== '' || raw.VONAGE_OUTBOUND_FROM !== ''
  if (outboundGiven && raw.VONAGE_PRIVATE_KEY === '' && !existsSync(raw.VONAGE_PRIVATE_KEY_PATH)) {
    problems.push(`VONAGE_PRIVATE_KEY_PATH points to a file that does not exist ("${raw.VONAGE_PRIVATE_KEY_PATH}") — put the application's private key there, or set VONAGE_PRIVATE_KEY to the PEM itself`)
  }
  if (raw.VONAGE_OUTBOUND_FROM !== '' && !E164_RE.test(raw.VONAGE_OUTBOUND_FROM)) problems.push(`VONAGE_OUTBOUND_FROM is malformed ("${raw.VONAGE_OUTBOUND_FROM}") — expected an E.164 number such as +815012345678`)
  if (raw.SOFTPHONE_KEY !== '' && raw.SOFTPHONE_KEY.length < 16) problems.push(`SOFTPHONE_KEY is too short (${raw.SOFTPHONE_KEY.length} characters) — it opens a line to the model, so use at least 16 random characters, e.g. from \`openssl rand -hex 16\``)
  if (raw.CONNECT_API_KEY !== '' && raw.CONNECT_API_KEY.length < MIN_CONNECT_KEY_CHARS) problems.push(`CONNECT_API_KEY is too short (${raw.CONNECT_API_KEY.length} characters) — it lets its holder place calls on your account, so use at least ${MIN_CONNECT_KEY_CHARS} random characters, e.g. from \`openssl rand -hex 24\``)
  problems.push(...parsePrefixes(raw.CONNECT_ALLOWED_PREFIXES).problems)
  if (raw.FLY_MACHINE_ID !== '' && !isMachineId(raw.FLY_MACHINE_ID)) problems.push(`FLY_MACHINE_ID is malformed ("${raw.FLY_MACHINE_ID}") — Fly.io sets it to the machine id (letters and digits); leave it unset elsewhere`)
  if (raw.CONSOLE_KEY !== '' && raw.CONSOLE_KEY.length < 16) problems.push(`CONSOLE_KEY is too short (${raw.CONSOLE_KEY.length} characters) — it opens every call's transcript, so use at least 16 random characters, e.g. from \`openssl rand -hex 16\``)
  if (raw.DATABASE_URL !== '' && !/^postgres(ql)?:\/\//.test(raw.DATABASE_URL)) problems.push('DATABASE_URL is malformed — expected postgres://user:password@host:5432/database')
  if (raw.OPENAI_API_VERSION !== '' && raw.AZURE_OPENAI_ENDPOINT === '') problems.push('OPENAI_API_VERSION is set but AZURE_OPENAI_ENDPOINT is not — the api-version only applies to Azure OpenAI\'s preview endpoint; remove it for OpenAI')
  problems.push(...checkLiveSettings(raw))
  problems.push(...checkHoursSettings(raw))
  problems.push(...checkTransferSettings(raw))
  problems.push(...checkOutboundSettings(raw))
  problems.push(...checkSummarySettings(raw))
  problems.push(...checkNotifySettings(raw))
  problems.push(...checkVoicemailSettings(raw))
  problems.push(...checkRecordingSettings(raw))
  problems.push(...checkSecuritySettings(raw))
  return { config: { ...raw, publicHost }, problems }
}
