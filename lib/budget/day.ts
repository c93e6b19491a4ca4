/** The calendar day `now` falls on in `timeZone`, and its bounds in UTC (for "calls started today"). */
export interface LocalDay {
  /** YYYY-MM-DD in the zone. */
  day: string
  /** ISO-8601 UTC of the day's first instant. */
  startUtc: string
  /** ISO-8601 UTC of the next day's first instant. */
  endUtc: string
}

const HOUR_MS = 3_600_000

/** Minutes east of UTC of `timeZone` at `at`. */
export function zoneOffsetMinutes (timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'
  }).formatToParts(at)
  const get = (t: string): number => Number(parts.find(p => p.type === t)?.value)
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000)
}

/** The wall-clock midnight of a local date, as a UTC instant (DST days are 23 or 25 hours long). */
function midnightUtc (timeZone: string, y: number, m: number, d: number): Date {
  const guess = Date.UTC(y, m - 1, d)
  // Two rounds settle the offset even when midnight sits next to a DST change.
  let at = new Date(guess - zoneOffsetMinutes(timeZone, new Date(guess)) * 60_000)
  at = new Date(guess - zoneOffsetMinutes(timeZone, at) * 60_000)
  return at
}

export function localDay (timeZone: string, now = new Date()): LocalDay {
  const wall = new Date(now.getTime() + zoneOffsetMinutes(timeZone, now) * 60_000)
  const y = wall.getUTCFullYear()
  const m = wall.getUTCMonth() + 1
  const d = wall.getUTCDate()
  const start = midnightUtc(timeZone, y, m, d)
  const next = new Date(Date.UTC(y, m - 1, d) + 24 * HOUR_MS)
  const end = midnightUtc(timeZone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate())
  return { day: wall.toISOString().slice(0, 10), startUtc: start.toISOString(), endUtc: end.toISOString() }
}
