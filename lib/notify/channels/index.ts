import type { AppConfig } from '../../config/schema.js'
import { emailList } from '../settings.js'
import type { Channel } from './channel.js'
import { EmailChannel } from './email.js'
import { LineChannel } from './line.js'
import { SlackChannel } from './slack.js'

export type NotifySettings = Pick<AppConfig, 'NOTIFY_LINE_CHANNEL_ACCESS_TOKEN' | 'NOTIFY_LINE_TO' | 'LINE_API_BASE_URL' | 'NOTIFY_SLACK_WEBHOOK_URL' | 'SMTP_URL' | 'NOTIFY_EMAIL_TO' | 'NOTIFY_EMAIL_FROM'>

/** The channels the settings configure, in the order the owner most likely reads them. */
export function configuredChannels (c: NotifySettings): Channel[] {
  const channels: Channel[] = []
  if (c.NOTIFY_LINE_CHANNEL_ACCESS_TOKEN !== '' && c.NOTIFY_LINE_TO !== '') channels.push(new LineChannel({ baseUrl: c.LINE_API_BASE_URL, token: c.NOTIFY_LINE_CHANNEL_ACCESS_TOKEN, to: c.NOTIFY_LINE_TO }))
  if (c.NOTIFY_SLACK_WEBHOOK_URL !== '') channels.push(new SlackChannel(c.NOTIFY_SLACK_WEBHOOK_URL))
  if (c.SMTP_URL !== '') channels.push(new EmailChannel({ smtpUrl: c.SMTP_URL, from: c.NOTIFY_EMAIL_FROM, to: emailList(c.NOTIFY_EMAIL_TO) }))
  return channels
}

/** The secret parts of the settings, for registerSecrets: the token, the webhook URL (its path is the key), the SMTP password. */
export function notifySecrets (c: NotifySettings): string[] {
  const out = [c.NOTIFY_LINE_CHANNEL_ACCESS_TOKEN, c.NOTIFY_SLACK_WEBHOOK_URL, c.SMTP_URL]
  try {
    const slack = new URL(c.NOTIFY_SLACK_WEBHOOK_URL)
    out.push(slack.pathname)
  } catch {}
  try {
    const smtp = new URL(c.SMTP_URL)
    out.push(smtp.password, decodeURIComponent(smtp.password))
  } catch {}
  return out.filter(s => s.length >= 6)
}
