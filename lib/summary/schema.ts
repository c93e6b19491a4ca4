/**
 * The after-call summary: the JSON schema the model must follow (Structured
 * Outputs, strict: every field required, nulls where nothing was said) and
 * what our code keeps of it.
 */

export const URGENCIES = ['high', 'normal', 'low'] as const
export const SUMMARY_OUTCOMES = ['resolved', 'transferred', 'voicemail', 'hung-up'] as const

export interface Reservation {
  /** YYYY-MM-DD when the caller named a day; free text ("来週の金曜") otherwise. */
  date: string | null
  time: string | null
  partySize: number | null
  name: string | null
}

export interface AfterCallSummary {
  callerName: string | null
  /** The caller's number as the line gave it (masked unless the owner keeps full numbers). */
  callerNumber: string | null
  /** A number the caller said to call back on, when they gave one. */
  callbackNumber: string | null
  request: string
  urgency: typeof URGENCIES[number]
  callback: { wanted: boolean, when: string | null }
  reservation: Reservation | null
  outcome: typeof SUMMARY_OUTCOMES[number]
  openItems: string[]
  model: string
  usage: { inputTokens: number, outputTokens: number, cachedTokens: number }
  costUsd: number
}

const nullable = (type: string, description: string): Record<string, unknown> => ({ type: [type, 'null'], description })

/** Snake case, as the model reads it; every property required (strict mode). */
export const SUMMARY_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['caller_name', 'callback_number', 'request', 'urgency', 'callback', 'reservation', 'outcome', 'open_items'],
  properties: {
    caller_name: nullable('string', '名乗った名前（例: 田中様）。名乗らなければ null'),
    callback_number: nullable('string', '折り返し先として相手が口にした電話番号。言わなければ null'),
    request: { type: 'string', description: '用件を 1〜2 文で。店主がすぐ分かる簡潔な日本語' },
    urgency: { type: 'string', enum: [...URGENCIES], description: 'high = 至急の対応が必要、normal = 通常、low = 急ぎでない' },
    callback: {
      type: 'object',
      additionalProperties: false,
      required: ['wanted', 'when'],
      properties: {
        wanted: { type: 'boolean', description: '相手が折り返しの電話を望んだか、用件が未解決で折り返しが必要か' },
        when: nullable('string', '折り返しの希望時間帯（例: 本日17時以降）。言わなければ null')
      }
    },
    reservation: {
      type: ['object', 'null'],
      description: '予約の話が出たときだけ。なければ null',
      additionalProperties: false,
      required: ['date', 'time', 'party_size', 'name'],
      properties: {
        date: nullable('string', '日付 YYYY-MM-DD。特定できなければ言われたとおり'),
        time: nullable('string', '時刻 HH:MM'),
        party_size: nullable('integer', '人数'),
        name: nullable('string', '予約の名前')
      }
    },
    outcome: { type: 'string', enum: [...SUMMARY_OUTCOMES], description: 'resolved = 通話内で解決、transferred = 担当者に転送、voicemail = 伝言を残した、hung-up = 用件の途中で切れた' },
    open_items: { type: 'array', items: { type: 'string' }, description: '店側が後で対応すべきこと（なければ空配列）' }
  }
} as const

export const SUMMARY_INSTRUCTIONS = [
  'あなたは小さなお店・医院の電話受付の記録係です。AI アシスタントと電話の相手との会話の文字起こしを読み、店主のための通話メモを日本語で作ります。',
  '文字起こしにないことは推測で書かないでください。分からない項目は null にします。',
  '「発信者」が電話の相手、「AI」が受付の AI です。相手の言葉を丁寧で簡潔な日本語にまとめてください。',
  '日付は通話日を基準に YYYY-MM-DD にしてください（「明日」なども換算）。'
].join('\n')

/** What the model returns, checked before use: a strict schema should make this always pass. */
export function fromModel (raw: unknown): Omit<AfterCallSummary, 'callerNumber' | 'model' | 'usage' | 'costUsd'> | null {
  if (raw === null || typeof raw !== 'object') return null
  const r = raw as Record<string, any>
  const str = (v: unknown): string | null => typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 500) : null
  if (typeof r.request !== 'string' || !(URGENCIES as readonly string[]).includes(r.urgency) || !(SUMMARY_OUTCOMES as readonly string[]).includes(r.outcome)) return null
  if (r.callback === null || typeof r.callback !== 'object' || typeof r.callback.wanted !== 'boolean') return null
  const res = r.reservation
  return {
    callerName: str(r.caller_name),
    callbackNumber: str(r.callback_number),
    request: r.request.trim().slice(0, 1000),
    urgency: r.urgency,
    callback: { wanted: r.callback.wanted, when: str(r.callback.when) },
    reservation: res !== null && typeof res === 'object'
      ? { date: str(res.date), time: str(res.time), partySize: Number.isInteger(res.party_size) ? res.party_size : null, name: str(res.name) }
      : null,
    outcome: r.outcome,
    openItems: Array.isArray(r.open_items) ? r.open_items.filter((x: unknown): x is string => typeof x === 'string' && x.trim() !== '').slice(0, 10).map((x: string) => x.trim().slice(0, 300)) : []
  }
}
