/**
 * Business hours as an owner writes them, e.g.
 *   BUSINESS_HOURS="mon-fri 09:00-12:00 13:00-18:00, sat 10:00-14:00"
 *   CLOSED_DATES="12-29..01-03, 08-13..08-16, 2026-05-07"
 * Parsed once at start (a mistake stops the server, naming the part), then
 * asked "open at this instant?" in the owner's time zone.
 */

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Day = typeof DAYS[number]

/** Minutes since midnight, [start, end). */
export interface Range { start: number, end: number }

/** Ranges per weekday (0 = Sunday … 6 = Saturday); an empty list is a closed day. */
export type WeeklyHours = Range[][]

/** A closure the owner named: every year (month-day) or one year (full date), a single day or a span. */
export interface ClosedSpan {
  /** 'MM-DD' or 'YYYY-MM-DD' */
  from: string
  to: string
  yearly: boolean
}

export type Parse<T> = { ok: true, value: T } | { ok: false, problem: string }

const TIME = /^(\d{1,2}):(\d{2})$/

function parseTime (s: string): number | null {
  const m = TIME.exec(s)
  if (m === null) return null
  const h = Number(m[1])
  const min = Number(m[2])
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null
  return h * 60 + min
}

function parseDays (s: string): number[] | null {
  const lower = s.toLowerCase()
  if (lower === 'daily' || lower === 'everyday') return [0, 1, 2, 3, 4, 5, 6]
  const days: number[] = []
  // "mon/wed/fri" lists, each item a day or a span such as mon-fri (sat-mon wraps past Sunday).
  for (const item of lower.split('/')) {
    const [a, b, extra] = item.split('-')
    if (extra !== undefined) return null
    const from = DAYS.indexOf(a as Day)
    const to = b === undefined ? from : DAYS.indexOf(b as Day)
    if (from < 0 || to < 0) return null
    for (let d = from; ; d = (d + 1) % 7) {
      if (!days.includes(d)) days.push(d)
      if (d === to) break
    }
  }
  return days
}

const HOURS_EXAMPLE = 'mon-fri 09:00-18:00, sat 10:00-14:00'

/** BUSINESS_HOURS → weekly ranges; '' → null (always open). */
export function parseBusinessHours (text: string): Parse<WeeklyHours | null> {
  if (text.trim() === '') return { ok: true, value: null }
  const week: WeeklyHours = [[], [], [], [], [], [], []]
  for (const rawEntry of text.split(/[,;]/)) {
    const entry = rawEntry.trim()
    if (entry === '') continue
    const [dayPart, ...rangeParts] = entry.split(/\s+/)
    const where = `"${entry}"`
    const days = parseDays(dayPart!)
    if (days === null) {
      return { ok: false, problem: `could not read the days "${dayPart}" in ${where} — use mon, tue, wed, thu, fri, sat, sun, a span such as mon-fri, a list such as mon/wed/fri, or daily (e.g. ${HOURS_EXAMPLE})` }
    }
    if (rangeParts.length === 0) return { ok: false, problem: `${where} has no hours — write them after the days, e.g. ${dayPart} 09:00-18:00` }
    for (const part of rangeParts) {
      const [a, b, extra] = part.split('-')
      const start = a === undefined ? null : parseTime(a)
      const end = b === undefined ? null : parseTime(b)
      if (start === null || end === null || extra !== undefined) {
        return { ok: false, problem: `could not read the hours "${part}" in ${where} — write HH:MM-HH:MM, e.g. 09:00-18:00 (several ranges for a break: 09:00-12:00 13:00-18:00)` }
      }
      if (end <= start) {
        return { ok: false, problem: `the hours "${part}" in ${where} end before they start — a range past midnight is two entries, e.g. fri 22:00-24:00, sat 00:00-02:00` }
      }
      for (const d of days) week[d]!.push({ start, end })
    }
  }
  for (const day of week) {
    day.sort((x, y) => x.start - y.start)
    // Overlapping or touching ranges are one.
    for (let i = day.length - 1; i > 0; i--) {
      if (day[i]!.start <= day[i - 1]!.end) {
        day[i - 1]!.end = Math.max(day[i - 1]!.end, day[i]!.end)
        day.splice(i, 1)
      }
    }
  }
  return { ok: true, value: week }
}

const MONTH_DAY = /^(\d{2})-(\d{2})$/
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

function validDate (y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

function parseDate (s: string): { key: string, yearly: boolean } | null {
  const md = MONTH_DAY.exec(s)
  // 2024 is a leap year: 02-29 is a valid yearly date.
  if (md !== null) return validDate(2024, Number(md[1]), Number(md[2])) ? { key: s, yearly: true } : null
  const full = FULL_DATE.exec(s)
  if (full !== null) return validDate(Number(full[1]), Number(full[2]), Number(full[3])) ? { key: s, yearly: false } : null
  return null
}

/** CLOSED_DATES: comma-separated MM-DD or YYYY-MM-DD, each alone or as a span FROM..TO. */
export function parseClosedDates (text: string): Parse<ClosedSpan[]> {
  const spans: ClosedSpan[] = []
  for (const raw of text.split(',')) {
    const item = raw.trim()
    if (item === '') continue
    const [a, b, extra] = item.split('..').map(s => s.trim())
    const from = parseDate(a!)
    const to = b === undefined ? from : parseDate(b)
    if (from === null || to === null || extra !== undefined) {
      return { ok: false, problem: `could not read "${item}" — write MM-DD (every year), YYYY-MM-DD (once) or a span FROM..TO, e.g. 12-29..01-03, 08-13..08-16, 2026-05-07` }
    }
    if (from.yearly !== to.yearly) return { ok: false, problem: `"${item}" mixes MM-DD and YYYY-MM-DD — write both ends the same way` }
    if (!from.yearly && to.key < from.key) return { ok: false, problem: `"${item}" ends before it starts` }
    spans.push({ from: from.key, to: to.key, yearly: from.yearly })
  }
  return { ok: true, value: spans }
}

/** The calendar in the owner's time zone at one instant. */
export interface LocalTime {
  /** 'YYYY-MM-DD' */
  date: string
  weekday: number
  minutes: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Throws RangeError for a time zone the runtime does not know. */
export function localTime (at: Date, timeZone: string): LocalTime {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', weekday: 'short' })
    formatters.set(timeZone, f)
  }
  const parts = Object.fromEntries(f.formatToParts(at).map(p => [p.type, p.value]))
  const weekday = DAYS.indexOf(String(parts.weekday).toLowerCase().slice(0, 3) as Day)
  return { date: `${parts.year}-${parts.month}-${parts.day}`, weekday, minutes: Number(parts.hour) * 60 + Number(parts.minute) }
}

export function inClosedSpan (date: string, spans: ClosedSpan[]): boolean {
  const md = date.slice(5)
  return spans.some(s => {
    if (!s.yearly) return date >= s.from && date <= s.to
    // A yearly span may wrap the year end (12-29..01-03).
    return s.from <= s.to ? md >= s.from && md <= s.to : md >= s.from || md <= s.to
  })
}

export function openAt (week: WeeklyHours, t: LocalTime): boolean {
  return week[t.weekday]!.some(r => t.minutes >= r.start && t.minutes < r.end)
}
