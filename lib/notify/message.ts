import type { AfterCallSummary } from '../summary/schema.js'
import type { TransferNote, TransferState } from '../transfer/warm-transfer.js'

export interface CallFacts {
  callId: string
  direction: string
  startedAt: string
  durationMs: number
  summary: AfterCallSummary | null
  /** The first words of the caller, for a call without a summary. */
  firstWords: string | null
  /** https://<SERVER_URL>/console#call/<id>; null without SERVER_URL. */
  link: string | null
  /** The owner's time zone (TIMEZONE): the call's time as the owner's clock shows it. */
  timeZone: string
  /** The staff phones rung for this call (warm transfers), in order; none when absent. */
  transfers?: TransferNote[]
}

const URGENCY_JA: Record<AfterCallSummary['urgency'], string> = { high: '至急', normal: '通常', low: '急ぎではない' }
const OUTCOME_JA: Record<AfterCallSummary['outcome'], string> = { resolved: '通話内で対応済み', transferred: '担当者に転送', voicemail: '伝言あり', 'hung-up': '途中で切れました' }

/** Why a caller who asked for a person did not reach one, as the owner reads it. */
const NOT_REACHED_JA: Record<Exclude<TransferState, 'accepted'>, string> = {
  ringing: '呼び出し中に通話が終わりました',
  answered: '担当者が応じる前に通話が終わりました',
  declined: '担当者が受けられませんでした',
  'no-answer': '担当者が出ませんでした',
  failed: '担当者の電話につながりませんでした',
  cancelled: '呼び出し中に相手が電話を切りました'
}

/**
 * A staff phone was rung and nobody took the caller: the one thing the AI's
 * summary may not make plain, and the owner's cue to call back. Null when no
 * phone was rung, or when one was answered and the caller put through.
 */
export function transferNotReached (transfers: TransferNote[] | undefined): string | null {
  if (transfers === undefined || transfers.length === 0 || transfers.some(t => t.state === 'accepted')) return null
  const last = transfers[transfers.length - 1]!
  return NOT_REACHED_JA[last.state as Exclude<TransferState, 'accepted'>]
}

function when (iso: string, timeZone: string): string {
  return new Date(iso).toLocaleString('ja-JP', { timeZone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' })
}

function duration (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  return s < 60 ? `${s}秒` : `${Math.floor(s / 60)}分${String(s % 60).padStart(2, '0')}秒`
}

function reservationLine (r: NonNullable<AfterCallSummary['reservation']>): string | null {
  const parts = [r.date, r.time, r.partySize !== null ? `${r.partySize}名` : null, r.name !== null ? `${r.name.replace(/様$/, '')}様` : null].filter((x): x is string => x !== null)
  return parts.length === 0 ? null : parts.join(' ')
}

/**
 * The owner's message about one call, short enough to read on a lock screen:
 * who (`{number}`, filled at send time), what they want, whether to call back.
 */
export function callMessage (f: CallFacts): { subject: string, text: string } {
  const s = f.summary
  const name = s?.callerName !== null && s?.callerName !== undefined ? `${s.callerName.replace(/様$/, '')}様` : null
  const who = name !== null ? `${name}（{number}）` : '{number}'
  const head = f.direction === 'outbound' ? `📞 ${who}への発信が終わりました` : `📞 ${who}からお電話がありました`
  const lines = [head]
  if (s !== null) {
    lines.push(`用件: ${s.request}`)
    if (s.urgency === 'high') lines.push(`緊急度: ${URGENCY_JA[s.urgency]}`)
    lines.push(s.callback.wanted ? `折り返し: 希望あり${s.callback.when !== null ? `（${s.callback.when}）` : ''}` : '折り返し: 不要')
    if (s.callbackNumber !== null) lines.push(`折り返し先: ${s.callbackNumber}`)
    const r = s.reservation === null ? null : reservationLine(s.reservation)
    if (r !== null) lines.push(`予約: ${r}`)
    lines.push(`結果: ${OUTCOME_JA[s.outcome]}`)
    if (s.openItems.length > 0) lines.push(`対応事項: ${s.openItems.join(' / ')}`)
  } else if (f.firstWords !== null) {
    lines.push(`最初のお話: 「${f.firstWords.slice(0, 120)}」`, '（要約はありません）')
  } else {
    lines.push('相手は何も話さずに切りました')
  }
  const notReached = transferNotReached(f.transfers)
  if (notReached !== null) lines.push(`転送: ${notReached}`)
  lines.push(`通話: ${when(f.startedAt, f.timeZone)} · ${duration(f.durationMs)}`)
  if (f.link !== null) lines.push(`詳細: ${f.link}`)
  const tag = s?.callback.wanted === true ? '【折り返し希望】' : s?.urgency === 'high' ? '【至急】' : notReached !== null ? '【転送できず】' : '【着信】'
  const subject = `${tag}${name ?? '{number}'} ${s !== null ? s.request.slice(0, 40) : 'お電話がありました'}`
  return { subject, text: lines.join('\n') }
}

export function consoleLink (publicHost: string, callId: string): string | null {
  return publicHost === '' ? null : `https://${publicHost}/console#call/${encodeURIComponent(callId)}`
}
