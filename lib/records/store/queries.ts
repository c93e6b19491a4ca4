import type { Db } from './db.js'
import { parseSummary } from '../../summary/store.js'
import type { AfterCallSummary } from '../../summary/schema.js'
import { getVoicemail, type VoicemailRow } from '../../voicemail/store.js'

/** The history's filter, as the console and the API take it from a query string. */
export interface CallFilter {
  from?: Date
  /** Exclusive. */
  to?: Date
  direction?: string
  outcome?: string
  q?: string
  /** Only calls whose summary says the caller wants a call back. */
  callback?: boolean
  page: number
  limit: number
}

export type Parsed<T> = { ok: true, value: T } | { ok: false, param: string, message: string }

export const DIRECTIONS = ['inbound', 'outbound', 'softphone'] as const
export const OUTCOMES = ['completed', 'ended-by-ai', 'transferred', 'upstream-failure', 'no-media', 'media-failure', 'shutdown', 'voicemail', 'budget-reached'] as const
export const MAX_PAGE_SIZE = 100
export const MAX_EXPORT_ROWS = 10_000
const MAX_SEARCH_CHARS = 200
const DAY = /^\d{4}-\d{2}-\d{2}$/
const FILTER_PARAMS = ['from', 'to', 'direction', 'outcome', 'q', 'callback', 'page', 'limit']

function bad (param: string, message: string): { ok: false, param: string, message: string } {
  return { ok: false, param, message: `query parameter "${param}": ${message}` }
}

/** The stored times are ISO-8601 text: only years 0001-9999 have the 4-digit form that compares in order. */
const FIRST_MS = Date.parse('0001-01-01T00:00:00Z')
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z')

function parseDay (value: string, endOfDay: boolean): Date | null | 'out-of-range' {
  // A bare day is the whole day in UTC; a full ISO time is taken as given.
  const d = new Date(DAY.test(value) ? `${value}T00:00:00Z` : value)
  if (Number.isNaN(d.getTime())) return null
  if (d.getTime() < FIRST_MS || d.getTime() > LAST_MS) return 'out-of-range'
  if (endOfDay && DAY.test(value)) d.setUTCDate(d.getUTCDate() + 1)
  // to=9999-12-31 means up to the end of that day: the last instant that has a 4-digit year.
  if (d.getTime() > LAST_MS) d.setTime(LAST_MS)
  return d
}

/** Checks every parameter; the first bad one is named. `extra` lists parameters the caller handles itself. */
export function parseFilter (query: unknown, o: { maxLimit?: number, extra?: string[] } = {}): Parsed<CallFilter> {
  const q = (query ?? {}) as Record<string, unknown>
  const f: CallFilter = { page: 1, limit: 25 }
  const allowed = [...FILTER_PARAMS, ...(o.extra ?? [])]
  for (const [name, raw] of Object.entries(q)) {
    if (!allowed.includes(name)) return bad(name, `unknown (known: ${allowed.join(', ')})`)
    if (typeof raw !== 'string') return bad(name, 'give it once')
    if (o.extra?.includes(name) === true || raw === '') continue
    switch (name) {
      case 'from':
      case 'to': {
        const d = parseDay(raw, name === 'to')
        if (d === null) return bad(name, 'expected a date, YYYY-MM-DD (or an ISO 8601 time)')
        if (d === 'out-of-range') return bad(name, 'expected a date from 0001-01-01 to 9999-12-31')
        f[name] = d
        break
      }
      case 'direction':
        if (!(DIRECTIONS as readonly string[]).includes(raw)) return bad(name, `expected one of ${DIRECTIONS.join(', ')}`)
        f.direction = raw
        break
      case 'outcome':
        if (!(OUTCOMES as readonly string[]).includes(raw)) return bad(name, `expected one of ${OUTCOMES.join(', ')}`)
        f.outcome = raw
        break
      case 'q':
        if (raw.length > MAX_SEARCH_CHARS) return bad(name, `at most ${MAX_SEARCH_CHARS} characters`)
        f.q = raw
        break
      case 'callback':
        if (raw !== '1' && raw !== '0') return bad(name, 'expected 1 (only calls where the caller wants a call back) or 0 (any)')
        if (raw === '1') f.callback = true
        break
      case 'page':
      case 'limit': {
        const max = name === 'page' ? 1_000_000 : (o.maxLimit ?? MAX_PAGE_SIZE)
        if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) return bad(name, `expected a whole number from 1 to ${max}`)
        f[name] = Number(raw)
        break
      }
    }
  }
  if (f.from !== undefined && f.to !== undefined && f.from >= f.to) return bad('to', 'must come after "from"')
  return { ok: true, value: f }
}

export interface CallSummary {
  id: string
  startedAt: string
  endedAt: string | null
  direction: string
  from: string
  to: string
  fromFull?: string
  toFull?: string
  persona: string | null
  model: string | null
  outcome: string | null
  endReason: string | null
  durationMs: number | null
  costUsd: number | null
  timeToFirstAudioMs: number | null
  lateFrames: number | null
  bargeIns: number
  backchannels: number
  callerAudioMs: number | null
  assistantAudioMs: number | null
  upstreamErrors: number | null
  usage: unknown
  /** The after-call summary; null when there is none (no words, SUMMARY_MODEL empty, or it failed). */
  summary: AfterCallSummary | null
  callbackWanted: boolean
}

export interface CallDetail extends CallSummary {
  transcript: Array<{ seq: number, role: string, text: string, atMs: number }>
  tools: Array<{ seq: number, name: string, ok: boolean, latencyMs: number, result: string | null }>
  /** Warm transfers (staff rung, state, times, the briefing heard); [] when none. */
  transfers: unknown[]
  /** The message the caller left when the AI could not answer (its audio: GET /api/calls/:id/voicemail). */
  voicemail: VoicemailRow | null
}

type Row = Record<string, unknown>

const iso = (v: unknown): string | null => v === null || v === undefined ? null : new Date(v as string).toISOString()
const num = (v: unknown): number | null => v === null || v === undefined ? null : Number(v)

function summary (r: Row): CallSummary {
  const s: CallSummary = {
    id: String(r.id),
    startedAt: iso(r.started_at) ?? '',
    endedAt: iso(r.ended_at),
    direction: String(r.direction),
    from: String(r.from_masked),
    to: String(r.to_masked),
    persona: r.persona as string | null,
    model: r.model as string | null,
    outcome: r.outcome as string | null,
    endReason: r.end_reason as string | null,
    durationMs: num(r.duration_ms),
    costUsd: num(r.cost_usd),
    timeToFirstAudioMs: num(r.time_to_first_audio_ms),
    lateFrames: num(r.late_frames),
    bargeIns: Number(r.barge_ins),
    backchannels: Number(r.backchannels),
    callerAudioMs: num(r.caller_audio_ms),
    assistantAudioMs: num(r.assistant_audio_ms),
    upstreamErrors: num(r.upstream_errors),
    usage: typeof r.usage === 'string' ? JSON.parse(r.usage) : r.usage ?? null,
    summary: parseSummary(r.summary),
    callbackWanted: Number(r.callback_wanted ?? 0) === 1
  }
  if (r.from_full !== null && r.from_full !== undefined) s.fromFull = String(r.from_full)
  if (r.to_full !== null && r.to_full !== undefined) s.toFull = String(r.to_full)
  return s
}

function where (f: CallFilter): { sql: string, params: unknown[] } {
  const parts: string[] = []
  const params: unknown[] = []
  const add = (sql: string, value: unknown): void => { params.push(value); parts.push(sql.replace('?', `$${params.length}`)) }
  if (f.from !== undefined) add('c.started_at >= ?', f.from.toISOString())
  if (f.to !== undefined) add('c.started_at < ?', f.to.toISOString())
  if (f.direction !== undefined) add('c.direction = ?', f.direction)
  if (f.outcome !== undefined) add('c.outcome = ?', f.outcome)
  if (f.callback === true) add('c.callback_wanted = ?', 1)
  if (f.q !== undefined && f.q.trim() !== '') {
    // lower() on both sides: SQLite has no ILIKE, and its LIKE ignores case (ASCII) where PostgreSQL's does not.
    add("EXISTS (SELECT 1 FROM call_lines l WHERE l.call_id = c.id AND lower(l.text) LIKE ? ESCAPE '\\')", `%${f.q.trim().toLowerCase().replace(/[\\%_]/g, m => '\\' + m)}%`)
  }
  return { sql: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params }
}

export async function listCalls (db: Db, f: CallFilter): Promise<{ total: number, page: number, limit: number, calls: CallSummary[] }> {
  const w = where(f)
  // The page and its total from one statement (one snapshot): a flush between two queries made them disagree.
  const rows = await db.query(`SELECT c.*, count(*) OVER () AS total_count FROM calls c ${w.sql} ORDER BY c.started_at DESC, c.id LIMIT ${f.limit} OFFSET ${(f.page - 1) * f.limit}`, w.params)
  // A page past the end has no rows to carry the total: ask for it alone.
  const total = rows.length > 0
    ? Number(rows[0]!.total_count)
    : Number((await db.query<{ n: number }>(`SELECT count(*) AS n FROM calls c ${w.sql}`, w.params))[0]?.n ?? 0)
  return { total, page: f.page, limit: f.limit, calls: rows.map(summary) }
}

function parseList (v: unknown): unknown[] {
  if (typeof v !== 'string' || v === '') return []
  try {
    const list: unknown = JSON.parse(v)
    return Array.isArray(list) ? list : []
  } catch {
    return []
  }
}

export async function getCall (db: Db, id: string): Promise<CallDetail | null> {
  const rows = await db.query('SELECT c.* FROM calls c WHERE c.id = $1', [id])
  if (rows[0] === undefined) return null
  const lines = await db.query<{ seq: number, role: string, text: string, at_ms: number }>('SELECT seq, role, text, at_ms FROM call_lines WHERE call_id = $1 ORDER BY at_ms, seq', [id])
  const tools = await db.query<{ seq: number, name: string, ok: number, latency_ms: number, result: string | null }>('SELECT seq, name, ok, latency_ms, result FROM call_tools WHERE call_id = $1 ORDER BY seq', [id])
  return {
    ...summary(rows[0]),
    transcript: lines.map(l => ({ seq: l.seq, role: l.role, text: l.text, atMs: l.at_ms })),
    tools: tools.map(t => ({ seq: t.seq, name: t.name, ok: t.ok === 1, latencyMs: t.latency_ms, result: t.result })),
    transfers: parseList(rows[0].transfers),
    voicemail: await getVoicemail(db, id)
  }
}

export interface Overview {
  days: Array<{ day: string, calls: number, costUsd: number }>
  outcomes: Array<{ outcome: string, calls: number }>
  medianTimeToFirstAudioMs: number | null
  calls: number
  costUsd: number
  /** Calls in the period whose summary asks for a call back. */
  callbacksWanted: number
}

/** The middle value (the mean of the two middle ones for an even count), as percentile_cont(0.5) gives it. */
function median (values: number[]): number | null {
  if (values.length === 0) return null
  const v = values.slice().sort((a, b) => a - b)
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
}

/** The last `days` days, counted in the viewer's time zone (`offsetMinutes` east of UTC). */
export async function overview (db: Db, days: number, offsetMinutes: number, now = new Date()): Promise<Overview> {
  const localNow = new Date(now.getTime() + offsetMinutes * 60_000)
  localNow.setUTCHours(0, 0, 0, 0)
  const firstDay = new Date(localNow.getTime() - (days - 1) * 86_400_000)
  const since = new Date(firstDay.getTime() - offsetMinutes * 60_000).toISOString()
  // The calls of the span, counted here: grouping by the viewer's local day and a median are written
  // differently in SQLite and PostgreSQL, and a span of days holds few enough rows to count in a loop.
  const rows = await db.query<{ started_at: string, cost_usd: number | null, outcome: string | null, time_to_first_audio_ms: number | null }>(
    'SELECT c.started_at, c.cost_usd, c.outcome, c.time_to_first_audio_ms FROM calls c WHERE c.started_at >= $1', [since])
  const byDay = new Map<string, { calls: number, cost: number }>()
  const byOutcome = new Map<string | null, number>()
  const ttfa: number[] = []
  for (const r of rows) {
    const day = new Date(new Date(r.started_at).getTime() + offsetMinutes * 60_000).toISOString().slice(0, 10)
    const d = byDay.get(day) ?? { calls: 0, cost: 0 }
    d.calls++
    d.cost += r.cost_usd ?? 0
    byDay.set(day, d)
    byOutcome.set(r.outcome, (byOutcome.get(r.outcome) ?? 0) + 1)
    if (r.time_to_first_audio_ms !== null) ttfa.push(r.time_to_first_audio_ms)
  }
  const callbacks = await db.query<{ n: number }>('SELECT count(*) AS n FROM calls c WHERE c.started_at >= $1 AND c.callback_wanted = $2', [since, 1])
  const out: Overview['days'] = []
  for (let i = 0; i < days; i++) {
    const day = new Date(firstDay.getTime() + i * 86_400_000).toISOString().slice(0, 10)
    const r = byDay.get(day)
    out.push({ day, calls: r?.calls ?? 0, costUsd: Math.round((r?.cost ?? 0) * 1e6) / 1e6 })
  }
  const outcomes = [...byOutcome].map(([outcome, calls]) => ({ outcome, calls })).sort((a, b) => b.calls - a.calls)
  const m = median(ttfa)
  return {
    days: out,
    outcomes: outcomes.map(o => ({ outcome: o.outcome ?? 'in-progress', calls: o.calls })),
    medianTimeToFirstAudioMs: m === null ? null : Math.round(m),
    calls: out.reduce((s, d) => s + d.calls, 0),
    costUsd: Math.round(out.reduce((s, d) => s + d.costUsd, 0) * 1e6) / 1e6,
    callbacksWanted: Number(callbacks[0]?.n ?? 0)
  }
}

const CSV_COLUMNS: Array<[string, (c: CallSummary) => unknown]> = [
  ['id', c => c.id], ['started_at', c => c.startedAt], ['ended_at', c => c.endedAt], ['direction', c => c.direction],
  ['from', c => c.fromFull ?? c.from], ['to', c => c.toFull ?? c.to], ['outcome', c => c.outcome], ['end_reason', c => c.endReason],
  ['duration_ms', c => c.durationMs], ['cost_usd', c => c.costUsd], ['time_to_first_audio_ms', c => c.timeToFirstAudioMs],
  ['late_frames', c => c.lateFrames], ['barge_ins', c => c.bargeIns], ['backchannels', c => c.backchannels], ['model', c => c.model],
  ['callback_wanted', c => c.callbackWanted ? 1 : 0], ['summary', c => c.summary?.request ?? '']
]

function csvCell (v: unknown): string {
  if (v === null || v === undefined) return ''
  let s = String(v)
  // A cell a spreadsheet would run as a formula is quoted as text.
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?[\d*.]+$/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function toCsv (calls: CallSummary[]): string {
  const lines = [CSV_COLUMNS.map(c => c[0]).join(',')]
  for (const call of calls) lines.push(CSV_COLUMNS.map(([, get]) => csvCell(get(call))).join(','))
  return lines.join('\r\n') + '\r\n'
}
