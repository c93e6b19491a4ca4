/**
 * The NCCOs of a warm transfer (shared/RECEPTIONIST.md): the staff leg hears
 * a briefing and presses 1 or 2; on 1 both legs meet in one named conversation.
 */

/** How long the staff has to press a key once the briefing has played, in seconds (Vonage allows up to 10). */
export const INPUT_TIMEOUT_SECONDS = 8
/** What the staff hears of the model's briefing at most (a phone line, not a letter). */
export const BRIEFING_MAX_CHARS = 200

export const BRIEFING_PROMPT = 'おつなぎする場合は1を、お断りする場合は2を押してください。'
export const ACCEPTED_MESSAGE = 'おつなぎします。'
export const DECLINED_MESSAGE = '承知しました。お客様にはAIがご伝言を伺います。失礼いたします。'
export const NO_KEY_MESSAGE = '操作が確認できなかったため、お客様にはAIがご伝言を伺います。失礼いたします。'

export type NccoAction = Record<string, unknown>

/**
 * The model's briefing as the staff hears it: one line, no markup (the text
 * goes to Vonage's speech synthesis, which reads SSML), not too long.
 */
export function briefingText (briefing: string, reason: string, callerLast4: string): string {
  const said = (briefing.trim() !== '' ? briefing : reason).replace(/[<>&\s]+/g, ' ').trim().slice(0, BRIEFING_MAX_CHARS)
  const who = callerLast4 !== '' ? `お電話番号の末尾は${callerLast4}です。` : ''
  const what = said !== '' ? said : 'ご用件は伺えていません。'
  return `AI受付です。お客様からお電話です。${what}${/[。.!?！？]$/.test(what) ? '' : '。'}${who}${BRIEFING_PROMPT}`
}

/** The staff leg's NCCO (inline in POST /v1/calls): the briefing, interruptible by a key, then one digit. */
export function staffNcco (briefing: string, inputUrl: string, language: string): NccoAction[] {
  return [
    { action: 'talk', text: briefing, language, bargeIn: true, premium: false },
    { action: 'input', type: ['dtmf'], dtmf: { maxDigits: 1, timeOut: INPUT_TIMEOUT_SECONDS }, eventUrl: [inputUrl], eventMethod: 'POST' }
  ]
}

/** The staff pressed 1: a word, then the room the caller is moved into. */
export function staffJoinNcco (room: string, language: string): NccoAction[] {
  return [
    { action: 'talk', text: ACCEPTED_MESSAGE, language, premium: false },
    { action: 'conversation', name: room, startOnEnter: true, endOnExit: true }
  ]
}

/** The caller's leg, moved by PUT /v1/calls/{uuid} transfer: the same room. */
export function callerJoinNcco (room: string): NccoAction[] {
  return [{ action: 'conversation', name: room, startOnEnter: true, endOnExit: true }]
}

/** The staff said no (or pressed nothing): a word, and the NCCO ends the staff leg. */
export function staffGoodbyeNcco (text: string, language: string): NccoAction[] {
  return [{ action: 'talk', text, language, premium: false }]
}
