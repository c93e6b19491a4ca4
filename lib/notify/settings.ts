import type { RawConfig } from '../config/schema.js'

/** The owner's notifications (LINE, Slack, email): spread into lib/config/schema.ts. */
export const notifySettings = {
  NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: { type: 'string', default: '', description: 'LINE Messaging API channel access token (long-lived) of the bot that tells the owner about calls; empty = no LINE messages' },
  NOTIFY_LINE_TO: { type: 'string', default: '', description: 'LINE user id (U...) or group id (C...) the bot pushes to' },
  LINE_API_BASE_URL: { type: 'string', default: 'https://api.line.me', description: 'base URL of the LINE Messaging API (change only for tests)' },
  NOTIFY_SLACK_WEBHOOK_URL: { type: 'string', default: '', description: 'Slack incoming webhook URL (https://hooks.slack.com/services/...); empty = no Slack messages' },
  SMTP_URL: { type: 'string', default: '', description: 'mail server for email notifications, smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; empty = no email' },
  NOTIFY_EMAIL_TO: { type: 'string', default: '', description: 'comma-separated addresses that get the email notifications' },
  NOTIFY_EMAIL_FROM: { type: 'string', default: '', description: 'sender address of the email notifications, e.g. phone@example.jp (a domain with SPF/DKIM for SMTP_URL)' },
  NOTIFY_FULL_NUMBERS: { type: 'boolean', default: true, description: 'put the caller\'s full number in notifications so the owner can call back: true or false (false = last 4 digits only)' },
  NOTIFY_MIN_SECONDS: { type: 'integer', minimum: 0, maximum: 3600, default: 5, description: 'calls shorter than this, in which the caller said nothing, send no notification' },
  NOTIFY_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 20, default: 6, description: 'tries per message and channel (429, 5xx and network errors are retried) before it is marked failed' },
  NOTIFY_RETRY_BASE_MS: { type: 'integer', minimum: 10, maximum: 600000, default: 2000, description: 'wait before the first retry, in ms; doubled for each later one (a Retry-After from the channel wins)' }
} as const

const LINE_TO_RE = /^[UCR][0-9a-f]{32}$/
const EMAIL_RE = /^[^\s@,<>]+@[^\s@,<>]+\.[^\s@,<>]+$/

function httpUrl (value: string): URL | null {
  try {
    const u = new URL(value)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null
  } catch {
    return null
  }
}

export function emailList (value: string): string[] {
  return value.split(',').map(s => s.trim()).filter(s => s !== '')
}

/** Problems JSON schema cannot see; each names the setting and what to write. */
export function checkNotifySettings (raw: RawConfig): string[] {
  const p: string[] = []
  const token = raw.NOTIFY_LINE_CHANNEL_ACCESS_TOKEN
  const to = raw.NOTIFY_LINE_TO
  if (token !== '' && to === '') p.push('NOTIFY_LINE_TO is required when NOTIFY_LINE_CHANNEL_ACCESS_TOKEN is set — the user id (U + 32 hex digits) or group id (C...) to push to; see docs/notifications.md')
  if (to !== '' && token === '') p.push('NOTIFY_LINE_CHANNEL_ACCESS_TOKEN is required when NOTIFY_LINE_TO is set — the channel access token from the LINE Developers console (Messaging API tab)')
  if (to !== '' && !LINE_TO_RE.test(to)) p.push(`NOTIFY_LINE_TO is malformed ("${to}") — expected a user id U followed by 32 hex digits (or a group id C..., room id R...), not the bot's basic id (@...)`)
  if (/\s/.test(token)) p.push('NOTIFY_LINE_CHANNEL_ACCESS_TOKEN contains spaces or line breaks — paste the token alone, without "Bearer"')
  if (httpUrl(raw.LINE_API_BASE_URL) === null) p.push(`LINE_API_BASE_URL is malformed ("${raw.LINE_API_BASE_URL}") — expected https://api.line.me`)
  if (raw.NOTIFY_SLACK_WEBHOOK_URL !== '' && httpUrl(raw.NOTIFY_SLACK_WEBHOOK_URL) === null) p.push('NOTIFY_SLACK_WEBHOOK_URL is malformed — expected the incoming webhook URL, https://hooks.slack.com/services/...')
  if (raw.SMTP_URL !== '') {
    let u: URL | null = null
    try { u = new URL(raw.SMTP_URL) } catch {}
    if (u === null || (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') || u.hostname === '') p.push('SMTP_URL is malformed — expected smtp://user:pass@host:587 or smtps://user:pass@host:465 (percent-encode @ and : inside the user or password)')
    if (raw.NOTIFY_EMAIL_TO === '') p.push('NOTIFY_EMAIL_TO is required when SMTP_URL is set — the address(es) that get the notifications, comma-separated')
    if (raw.NOTIFY_EMAIL_FROM === '') p.push('NOTIFY_EMAIL_FROM is required when SMTP_URL is set — the sender address, e.g. phone@example.jp')
  } else if (raw.NOTIFY_EMAIL_TO !== '') {
    p.push('SMTP_URL is required when NOTIFY_EMAIL_TO is set — the mail server, smtp://user:pass@host:587')
  }
  for (const a of emailList(raw.NOTIFY_EMAIL_TO)) if (!EMAIL_RE.test(a)) p.push(`NOTIFY_EMAIL_TO has a malformed address ("${a}") — expected name@example.jp, comma-separated`)
  if (raw.NOTIFY_EMAIL_FROM !== '' && !EMAIL_RE.test(raw.NOTIFY_EMAIL_FROM)) p.push(`NOTIFY_EMAIL_FROM is malformed ("${raw.NOTIFY_EMAIL_FROM}") — expected an address such as phone@example.jp`)
  return p
}
