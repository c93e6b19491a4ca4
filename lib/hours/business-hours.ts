import holidayJp from '@holiday-jp/holiday_jp'
import { inClosedSpan, localTime, openAt, parseBusinessHours, parseClosedDates, type ClosedSpan, type WeeklyHours } from './schedule.js'
import { closedWords, hoursWords } from './words.js'

export type Clock = () => Date

export interface HoursOptions {
  businessHours: string
  closedOnHolidays: boolean
  closedDates: string
  timeZone: string
  clock?: Clock
}

export type HoursStatus =
  | { open: true, why: 'always' | 'hours' }
  | { open: false, why: 'after-hours' | 'closed-date' | 'holiday', holiday?: string }

/**
 * Whether staff can be rung now, in the owner's time zone whatever the
 * server's clock zone, and what the assistant should say about the hours.
 * The clock is injected (tests fix it; the app uses the real one).
 */
export class BusinessHours {
  readonly week: WeeklyHours | null
  readonly closed: ClosedSpan[]
  readonly #o: HoursOptions
  #clock: Clock

  /** Throws on settings checkHoursSettings would have refused. */
  constructor (o: HoursOptions) {
    this.#o = o
    this.#clock = o.clock ?? (() => new Date())
    const week = parseBusinessHours(o.businessHours)
    const closed = parseClosedDates(o.closedDates)
    if (!week.ok) throw new Error(`BUSINESS_HOURS: ${week.problem}`)
    if (!closed.ok) throw new Error(`CLOSED_DATES: ${closed.problem}`)
    this.week = week.value
    this.closed = closed.value
  }

  /** Hours are kept at all (BUSINESS_HOURS set). */
  get limited (): boolean { return this.week !== null }

  now (): Date { return this.#clock() }

  /** Tests fix the time here; the audio path never reads this clock. */
  setClock (clock: Clock): void { this.#clock = clock }

  status (at: Date = this.#clock()): HoursStatus {
    if (this.week === null) return { open: true, why: 'always' }
    const t = localTime(at, this.#o.timeZone)
    if (inClosedSpan(t.date, this.closed)) return { open: false, why: 'closed-date' }
    if (this.#o.closedOnHolidays) {
      const name = holidayName(t.date)
      if (name !== null) return { open: false, why: 'holiday', holiday: name }
    }
    return openAt(this.week, t) ? { open: true, why: 'hours' } : { open: false, why: 'after-hours' }
  }

  /** 「平日は9時から18時まで、土曜は10時から14時まで。日曜、祝日はお休みです」; '' when always open. */
  words (): string {
    if (this.week === null) return ''
    const closed = closedWords(this.week, this.#o.closedOnHolidays, this.closed)
    return `${hoursWords(this.week)}${closed !== '' ? `。${closed}` : ''}`
  }

  /** Lines for the model's instructions at the start of a call; none when always open. */
  instructions (status: HoursStatus = this.status()): string[] {
    if (this.week === null) return []
    const hours = `- 営業時間 / business hours: ${this.words()}`
    if (status.open) return [hours]
    const today = status.why === 'holiday'
      ? `本日は祝日（${status.holiday ?? ''}）のため休業です`
      : status.why === 'closed-date' ? '本日は休業日です' : 'ただいま営業時間外です'
    return [hours, `- ${closedInstructions(today, this.words())}`]
  }
}

/** What the model is told when no one can be rung: say so, give the hours, take a message. */
export function closedInstructions (today: string, words: string): string {
  return `${today}。担当者への転送はできません。転送を頼まれたら、営業時間（${words}）をお伝えし、` +
    'ご用件を伝言としてお預かりしてください（お名前、折り返しのお電話番号、ご用件）。 / ' +
    'The business is closed now: no one can be transferred. If asked, say the hours above and take a message (name, callback number, what it is about).'
}

/** The holiday's name on a 'YYYY-MM-DD' calendar date, or null. */
export function holidayName (date: string): string | null {
  // holiday_jp keys its table by the calendar date; asking by key avoids its Date reading the server's zone.
  const table = holidayJp.holidays as Record<string, { name: string } | undefined>
  return table[date]?.name ?? null
}
