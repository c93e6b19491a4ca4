import type { ClosedSpan, Range, WeeklyHours } from './schedule.js'

/**
 * The hours in words the assistant can say as they are, in Japanese:
 * 「平日は9時から18時まで、土曜は10時から14時まで」.
 */

const DAY_NAMES = ['日', '月', '火', '水', '木', '金', '土']

function time (minutes: number): string {
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  return m === 0 ? `${h}時` : m === 30 ? `${h}時半` : `${h}時${m}分`
}

function ranges (list: Range[]): string {
  return list.map(r => `${time(r.start)}から${time(r.end)}まで`).join('と')
}

/** 「平日」「土日」「毎日」「月・水・金曜」… for a set of weekdays (0 = Sunday). */
export function dayWords (days: number[]): string {
  const set = new Set(days)
  const has = (...d: number[]): boolean => d.every(x => set.has(x)) && set.size === d.length
  if (set.size === 7) return '毎日'
  if (has(1, 2, 3, 4, 5)) return '平日'
  if (has(0, 6)) return '土日'
  if (has(1, 2, 3, 4, 5, 6)) return '月曜から土曜'
  // Monday first, as a Japanese calendar reads.
  const ordered = [1, 2, 3, 4, 5, 6, 0].filter(d => set.has(d))
  return `${ordered.map(d => DAY_NAMES[d]).join('・')}曜`
}

/** 「平日は9時から18時まで、土曜は10時から14時まで」; days with the same hours are said together. */
export function hoursWords (week: WeeklyHours): string {
  const groups: Array<{ key: string, days: number[], ranges: Range[] }> = []
  for (const d of [1, 2, 3, 4, 5, 6, 0]) {
    const list = week[d]!
    if (list.length === 0) continue
    const key = list.map(r => `${r.start}-${r.end}`).join(',')
    const g = groups.find(x => x.key === key)
    if (g !== undefined) g.days.push(d)
    else groups.push({ key, days: [d], ranges: list })
  }
  if (groups.length === 0) return '営業時間の設定がありません'
  return groups.map(g => `${dayWords(g.days)}は${ranges(g.ranges)}`).join('、')
}

/** 「日曜、祝日、年末年始（12月29日から1月3日）はお休みです」 */
export function closedWords (week: WeeklyHours, holidays: boolean, spans: ClosedSpan[]): string {
  const parts: string[] = []
  const closedDays = [0, 1, 2, 3, 4, 5, 6].filter(d => week[d]!.length === 0)
  if (closedDays.length > 0) parts.push(dayWords(closedDays))
  if (holidays) parts.push('祝日')
  for (const s of spans.slice(0, 4)) parts.push(spanWords(s))
  return parts.length === 0 ? '' : `${parts.join('、')}はお休みです`
}

function dateWords (key: string): string {
  const [m, d] = key.slice(-5).split('-').map(Number)
  return `${m}月${d}日`
}

function spanWords (s: ClosedSpan): string {
  return s.from === s.to ? dateWords(s.from) : `${dateWords(s.from)}から${dateWords(s.to)}`
}
