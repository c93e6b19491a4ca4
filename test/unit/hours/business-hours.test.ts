import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseBusinessHours, parseClosedDates, localTime } from '../../../lib/hours/schedule.js'
import { BusinessHours, holidayName } from '../../../lib/hours/business-hours.js'
import { hoursWords } from '../../../lib/hours/words.js'
import { checkHoursSettings } from '../../../lib/hours/settings.js'
import type { RawConfig } from '../../../lib/config/schema.js'

const SHOP = 'mon-fri 09:00-12:00 13:00-18:00, sat 10:00-14:00'

/** A fixed instant, written in Japan's time (UTC+9, no daylight saving). */
const jst = (local: string): Date => new Date(`${local}+09:00`)

function hours (o: Partial<{ businessHours: string, closedOnHolidays: boolean, closedDates: string, timeZone: string }> = {}, at?: Date): BusinessHours {
  const h = new BusinessHours({ businessHours: SHOP, closedOnHolidays: true, closedDates: '', timeZone: 'Asia/Tokyo', ...o })
  if (at !== undefined) h.setClock(() => at)
  return h
}

test('BUSINESS_HOURS: days, spans, lists, several ranges a day; overlaps merged; empty = always open', () => {
  const week = parseBusinessHours(SHOP)
  assert.ok(week.ok && week.value !== null)
  assert.deepEqual(week.value[1], [{ start: 540, end: 720 }, { start: 780, end: 1080 }])
  assert.deepEqual(week.value[6], [{ start: 600, end: 840 }])
  assert.deepEqual(week.value[0], [])
  const list = parseBusinessHours('mon/wed/FRI 9:00-17:30; sat-sun 10:00-12:00 11:00-13:00, daily 23:00-24:00')
  assert.ok(list.ok && list.value !== null)
  assert.deepEqual(list.value[3], [{ start: 540, end: 1050 }, { start: 1380, end: 1440 }])
  assert.deepEqual(list.value[0], [{ start: 600, end: 780 }, { start: 1380, end: 1440 }], 'overlapping ranges are one')
  assert.deepEqual(parseBusinessHours('  '), { ok: true, value: null })
})

test('BUSINESS_HOURS mistakes name the part that could not be read', () => {
  const problem = (s: string): string => { const r = parseBusinessHours(s); assert.ok(!r.ok); return r.problem }
  assert.match(problem('mon-fry 09:00-18:00'), /the days "mon-fry" in "mon-fry 09:00-18:00"/)
  assert.match(problem('mon-fri 9-18'), /the hours "9-18" in "mon-fri 9-18".*HH:MM-HH:MM/)
  assert.match(problem('mon-fri 25:00-26:00'), /the hours "25:00-26:00"/)
  assert.match(problem('fri 22:00-02:00'), /end before they start.*past midnight is two entries/)
  assert.match(problem('sat'), /"sat" has no hours/)
  const checked = checkHoursSettings({ BUSINESS_HOURS: 'mon-fri 09:00-18:00, sun 10-14', CLOSED_DATES: '12-32', TIMEZONE: 'Asia/Tokio' } as unknown as RawConfig)
  assert.equal(checked.length, 3)
  assert.match(checked[0]!, /^BUSINESS_HOURS: could not read the hours "10-14" in "sun 10-14"/)
  assert.match(checked[1]!, /^CLOSED_DATES: could not read "12-32"/)
  assert.match(checked[2]!, /^TIMEZONE is not a time zone this server knows \("Asia\/Tokio"\)/)
})

test('CLOSED_DATES: yearly spans (wrapping the year end), single days, full dates', () => {
  const r = parseClosedDates('12-29..01-03, 08-13..08-16, 2026-05-07, 2026-12-24..2026-12-25')
  assert.ok(r.ok)
  assert.equal(r.value.length, 4)
  const h = hours({ closedDates: '12-29..01-03, 08-13..08-16, 2026-05-07' })
  for (const d of ['2026-12-29T10:00:00', '2027-01-02T10:00:00', '2026-08-14T10:00:00', '2026-05-07T10:00:00']) {
    assert.deepEqual(h.status(jst(d)), { open: false, why: 'closed-date' }, d)
  }
  assert.deepEqual(h.status(jst('2026-12-28T10:00:00')), { open: true, why: 'hours' })
  assert.deepEqual(h.status(jst('2027-05-07T10:00:00')), { open: true, why: 'hours' }, 'a full date is one year only')
  for (const bad of ['02-30', '2026-13-01', '01-05..2026-01-06', '2026-02-01..2026-01-01', '12/29']) assert.equal(parseClosedDates(bad).ok, false, bad)
})

test('open or closed is decided in TIMEZONE whatever the instant\'s zone: hours, the lunch break, Sunday, holidays', () => {
  const h = hours()
  assert.deepEqual(h.status(jst('2026-12-03T09:00:00')), { open: true, why: 'hours' }, 'Thursday 9:00')
  assert.deepEqual(h.status(jst('2026-12-03T12:30:00')), { open: false, why: 'after-hours' }, 'the lunch break')
  assert.deepEqual(h.status(jst('2026-12-03T18:00:00')), { open: false, why: 'after-hours' }, '18:00 is closing time')
  assert.deepEqual(h.status(jst('2026-12-05T13:59:00')), { open: true, why: 'hours' }, 'Saturday')
  assert.deepEqual(h.status(jst('2026-12-06T11:00:00')), { open: false, why: 'after-hours' }, 'Sunday')
  // 00:30 UTC on Thursday is 9:30 in Tokyo; in New York it is Wednesday evening.
  assert.equal(h.status(new Date('2026-12-03T00:30:00Z')).open, true)
  assert.equal(hours({ timeZone: 'America/New_York' }).status(new Date('2026-12-03T00:30:00Z')).open, false)
  assert.deepEqual(localTime(new Date('2026-12-02T15:30:00Z'), 'Asia/Tokyo'), { date: '2026-12-03', weekday: 4, minutes: 30 })
  // 文化の日 (a Tuesday): closed unless CLOSED_ON_HOLIDAYS=false.
  assert.deepEqual(h.status(jst('2026-11-03T10:00:00')), { open: false, why: 'holiday', holiday: '文化の日' })
  assert.deepEqual(hours({ closedOnHolidays: false }).status(jst('2026-11-03T10:00:00')), { open: true, why: 'hours' })
  // The holiday is the Tokyo calendar's: 23:30 UTC on 11-02 is already 11-03 in Japan.
  assert.equal(h.status(new Date('2026-11-02T23:30:00Z')).open, false)
  assert.equal(holidayName('2026-11-02'), null)
  assert.deepEqual(hours({ businessHours: '' }).status(jst('2026-11-03T03:00:00')), { open: true, why: 'always' })
})

test('the hours in words the assistant can say, and what it is told after hours', () => {
  const week = parseBusinessHours('mon-fri 09:00-18:00, sat 10:00-14:00')
  assert.ok(week.ok && week.value !== null)
  assert.equal(hoursWords(week.value), '平日は9時から18時まで、土曜は10時から14時まで')
  const lunch = parseBusinessHours('mon/wed 09:30-12:00 13:15-17:00, sat-sun 10:00-15:00')
  assert.ok(lunch.ok && lunch.value !== null)
  assert.equal(hoursWords(lunch.value), '月・水曜は9時半から12時までと13時15分から17時まで、土日は10時から15時まで')
  const h = hours({ businessHours: 'mon-fri 09:00-18:00, sat 10:00-14:00', closedDates: '12-29..01-03' })
  assert.equal(h.words(), '平日は9時から18時まで、土曜は10時から14時まで。日曜、祝日、12月29日から1月3日はお休みです')
  const open = h.instructions({ open: true, why: 'hours' })
  assert.deepEqual(open, [`- 営業時間 / business hours: ${h.words()}`])
  const [, closed] = h.instructions({ open: false, why: 'after-hours' })
  assert.match(closed!, /ただいま営業時間外です。担当者への転送はできません。.*平日は9時から18時まで.*伝言としてお預かりしてください（お名前、折り返しのお電話番号、ご用件）/)
  assert.match(h.instructions({ open: false, why: 'holiday', holiday: '文化の日' })[1]!, /^- 本日は祝日（文化の日）のため休業です。/)
  assert.deepEqual(hours({ businessHours: '' }).instructions(), [])
})
