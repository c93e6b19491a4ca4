import { randomBytes } from 'node:crypto'

/** ringing → (answered) → accepted | declined | no-answer | failed | cancelled */
export type TransferState = 'ringing' | 'answered' | 'accepted' | 'declined' | 'no-answer' | 'failed' | 'cancelled'
export type FinalState = Exclude<TransferState, 'ringing' | 'answered'>

/** One transfer as the call record and the console keep it. */
export interface TransferNote {
  /** The staff number, masked. */
  to: string
  state: TransferState
  ringingAt: string
  answeredAt?: string
  decidedAt?: string
  /** Why, in a word: the staff leg's Vonage status (busy, timeout, machine…), key-2, no-key, hung-up. */
  detail?: string
  /** What the staff heard before deciding. */
  briefing: string
}

export interface Decision { state: FinalState, detail: string }

/** Random enough that no one can guess the URL of a staff leg and join a caller. */
const TOKEN_BYTES = 24

/**
 * One ring of a staff phone for one caller. Its token is in the staff leg's
 * webhook URLs, so only Vonage (which got them from us) can report on it; the
 * first decision wins, later ones (a late event, a second key) are ignored.
 */
export class WarmTransfer {
  readonly token = randomBytes(TOKEN_BYTES).toString('base64url')
  /** The named conversation both legs meet in. */
  readonly room = `transfer-${this.token.slice(0, 16)}`
  readonly note: TransferNote
  /** The staff leg's uuid: from POST /v1/calls, or from its first webhook if that came first. */
  staffUuid: string | null = null
  /** Told on every change of `note` (the console's live view follows a ring as it goes). */
  onChange: ((note: TransferNote) => void) | null = null
  readonly decided: Promise<Decision>
  #resolve!: (d: Decision) => void
  #decision: Decision | null = null

  constructor (readonly callId: string, readonly number: string, maskedNumber: string, briefing: string, now = new Date()) {
    this.note = { to: maskedNumber, state: 'ringing', ringingAt: now.toISOString(), briefing }
    this.decided = new Promise(resolve => { this.#resolve = resolve })
  }

  get decision (): Decision | null { return this.#decision }

  /** The staff leg's uuid is this transfer's, or not yet known (then it becomes it). */
  owns (uuid: string): boolean {
    if (uuid === '') return this.staffUuid !== null
    if (this.staffUuid === null) this.staffUuid = uuid
    return this.staffUuid === uuid
  }

  answered (now = new Date()): void {
    if (this.#decision !== null || this.note.state !== 'ringing') return
    this.note.state = 'answered'
    this.note.answeredAt = now.toISOString()
    this.onChange?.(this.note)
  }

  /** False when already decided. */
  decide (d: Decision, now = new Date()): boolean {
    if (this.#decision !== null) return false
    this.#decision = d
    this.note.state = d.state
    this.note.decidedAt = now.toISOString()
    if (d.detail !== '') this.note.detail = d.detail
    this.onChange?.(this.note)
    this.#resolve(d)
    return true
  }
}
