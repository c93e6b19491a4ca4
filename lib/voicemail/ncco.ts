import { talk, type TalkAction } from '../vonage/ncco.js'

/** What a caller hears when the AI cannot answer: an apology, then the request for a message. */
export const VOICEMAIL_PROMPT = '申し訳ございません。ただいまAIアシスタントが電話に出られません。ピーという発信音のあとに、お名前とご用件をお話しください。お話しが終わりましたら、そのまま電話をお切りください。'
/** After the message (the caller stayed on the line). */
export const VOICEMAIL_THANKS = 'メッセージを承りました。お電話ありがとうございました。'

export interface RecordAction {
  action: 'record'
  format: 'mp3'
  beepStart: true
  endOnSilence: number
  timeOut: number
  eventUrl: string[]
  eventMethod: 'POST'
}

export interface VoicemailNccoOptions {
  language: string
  /** Our recording webhook, bound to the call by its token. */
  eventUrl: string
  maxSeconds: number
  silenceSeconds: number
}

/**
 * talk → record → talk. The record ends on silence or at the time limit (and
 * when the caller hangs up); Vonage then posts the recording to eventUrl.
 */
export function voicemailNcco (o: VoicemailNccoOptions): Array<TalkAction | RecordAction> {
  return [
    talk(VOICEMAIL_PROMPT, o.language),
    { action: 'record', format: 'mp3', beepStart: true, endOnSilence: o.silenceSeconds, timeOut: o.maxSeconds, eventUrl: [o.eventUrl], eventMethod: 'POST' },
    talk(VOICEMAIL_THANKS, o.language)
  ]
}
