/** What the owner reads (LINE first, Slack, email) when a caller left a message. */
export interface VoicemailStored {
  callId: string
  /** The caller's full number (the owner calls back), as Vonage gave it: 819012345678. */
  from: string
  to: string
  /** '' when it could not be transcribed. */
  transcript: string
  durationSec: number
  /** Why the AI did not answer: 'budget', 'unavailable', 'failed'. */
  reason: VoicemailReason
  /** ISO-8601 UTC, when the message was left. */
  at: string
}

export type VoicemailReason = 'budget' | 'unavailable' | 'failed'

const REASONS: Record<VoicemailReason, string> = {
  budget: '本日の利用上限に達していたため',
  unavailable: 'AIに接続できなかったため',
  failed: '通話中にAIが応答できなくなったため'
}

/**
 * The number goes in as the notifier's `{number}` slot: filled at send time as the owner dials it back
 * (lib/notify/notifier.ts displayNumber), masked in the outbox and with NOTIFY_FULL_NUMBERS=false.
 */
export const NUMBER_SLOT = '{number}'

/** "12月3日 18:05" in the owner's time zone. */
export function jaTime (iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('ja-JP', { timeZone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso))
  const get = (t: string): string => parts.find(p => p.type === t)?.value ?? ''
  return `${get('month')}月${get('day')}日 ${get('hour')}:${get('minute')}`
}

export function voicemailText (v: VoicemailStored, timeZone: string, consoleUrl = ''): string {
  const lines = [
    '【AI電話】留守番電話にメッセージがあります。',
    `日時: ${jaTime(v.at, timeZone)}（${Math.max(1, Math.round(v.durationSec))}秒）`,
    `電話番号: ${v.from === '' ? '番号非通知' : NUMBER_SLOT}`,
    v.transcript !== '' ? `内容: 「${v.transcript}」` : '内容: （文字起こしできませんでした。録音をお聞きください）',
    `（${REASONS[v.reason]}、留守番電話でお預かりしました）`
  ]
  if (consoleUrl !== '') lines.push(`詳細: ${consoleUrl}`)
  return lines.join('\n')
}
