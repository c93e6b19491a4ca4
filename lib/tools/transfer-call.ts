import { maskNumber } from '../log/logger.js'
import { ToolError, type ToolDefinition } from './types.js'

export interface TransferOptions {
  /** VONAGE_TRANSFER_NUMBER (E.164), '' for none. */
  defaultNumber: string
  /** VONAGE_TRANSFER_ALLOWLIST: the only numbers the model may name. */
  allowlist: string[]
  /** Vonage's REST timeout: the tool's own timeout allows for it. */
  apiTimeoutMs: number
  /** TRANSFER_RING_SECONDS: the tool waits for the ring and the staff's decision. */
  ringSeconds: number
}

const E164 = /^\+[1-9]\d{6,14}$/

/** "+81 3-1234-5678" → "+81312345678"; null when it is not an international number. */
export function normalizeNumber (value: string): string | null {
  const compact = value.trim().replace(/[\s\-().]/g, '')
  const e164 = compact.startsWith('+') ? compact : compact.startsWith('00') ? `+${compact.slice(2)}` : null
  return e164 !== null && E164.test(e164) ? e164 : null
}

/** Comma-separated E.164 numbers (VONAGE_TRANSFER_ALLOWLIST). */
export function parseNumberList (value: string): string[] {
  return value.split(',').map(s => s.trim()).filter(s => s !== '')
}

export type Destination = { ok: true, number: string } | { ok: false, code: string, reason: string }

/** The number to transfer to: the default, or one the model named only if it is allowed. */
export function resolveDestination (requested: string | undefined, o: Pick<TransferOptions, 'defaultNumber' | 'allowlist'>): Destination {
  if (requested === undefined || requested.trim() === '') {
    if (o.defaultNumber !== '') return { ok: true, number: o.defaultNumber }
    return { ok: false, code: 'no_destination', reason: 'No number was given and there is no default transfer number. Ask the caller which department they need.' }
  }
  const wanted = normalizeNumber(requested)
  const allowed = [o.defaultNumber, ...o.allowlist].filter(n => n !== '')
  const match = wanted === null ? undefined : allowed.find(n => normalizeNumber(n) === wanted)
  if (match === undefined) {
    return { ok: false, code: 'destination_not_allowed', reason: `${maskNumber(requested)} is not a number calls may be transferred to. Do not try other numbers; offer the caller the destinations you were told about.` }
  }
  return { ok: true, number: match }
}

/** What the model is told when the staff cannot take the call: apologise and take a message. */
export const STAFF_UNAVAILABLE_MESSAGE = '担当者は電話に出られませんでした。お待たせしたことをお詫びし、担当者がただいま電話に出られないことをお伝えしてから、' +
  '伝言をお預かりしてください。お名前、折り返しのお電話番号、ご用件を伺い、最後に内容を復唱してください。 / ' +
  'The staff member cannot come to the phone. Apologise for the wait, say so, and take a message: the caller\'s name, a callback number and what it is about; read it back at the end.'

/** The ring, the briefing and the key press, plus Vonage's round trips, fit in this. */
const TRANSFER_MARGIN_MS = 60_000

/**
 * Built-in transfer_call, a warm transfer: the staff phone rings while the
 * caller stays with the model; the staff hears the model's briefing and
 * presses 1 (put through: the model's session is closed) or 2 (the model
 * takes the caller back and takes a message). Outside business hours no one
 * is rung. The number is the default or one on the allowlist, never another.
 */
export function transferCallTool (o: TransferOptions): ToolDefinition<{ number?: string, reason?: string, briefing: string }> {
  const properties: Record<string, unknown> = {
    briefing: {
      type: 'string',
      maxLength: 400,
      description: 'What the staff member hears before deciding to take the call, in Japanese, one or two short sentences: who is calling (their name if given) and what they want, ' +
        'e.g. 「山田様から、明日の予約時間の変更についてのご相談です。」'
    },
    reason: { type: 'string', description: 'Why the caller is transferred, in a few words (for the call record).' }
  }
  if (o.allowlist.length > 0) {
    properties.number = {
      type: 'string',
      description: 'E.164 number to transfer to, e.g. +81312345678. Only the numbers you were given for transfers work.' +
        (o.defaultNumber !== '' ? ' Leave it out to transfer to the default operator.' : '')
    }
  }
  return {
    name: 'transfer_call',
    description: 'Put the caller through to a staff member. Before calling it, tell the caller you will check whether someone can take the call ' +
      '(e.g. 「担当の者が出られるか確認いたします。少々お待ちください。」). The staff phone rings while the caller stays with you; the staff first hears your briefing, then accepts or declines. ' +
      'If the staff accepts, the caller is put through and your part is over. If not, you get the outcome: apologise, say the staff cannot come to the phone, and take a message ' +
      '(name, callback number, what it is about). Outside business hours no one can be rung: say the hours and take a message.',
    parameters: { type: 'object', properties, required: ['briefing'], additionalProperties: false },
    timeoutMs: o.ringSeconds * 1000 + TRANSFER_MARGIN_MS + 2 * o.apiTimeoutMs,
    async handler (args, ctx) {
      const dest = resolveDestination(args.number, o)
      if (!dest.ok) throw new ToolError(dest.code, dest.reason)
      const response = await ctx.responseDone()
      if (response?.status === 'cancelled' && response.reason === 'turn_detected') {
        ctx.noReply()
        return { ok: false, error: 'interrupted', message: 'The caller started speaking, so no one was rung. Ask whether they still want to be transferred.' }
      }
      const result = await ctx.transfer(dest.number, { briefing: args.briefing, reason: args.reason ?? '' })
      if (result.ok) {
        ctx.noReply()
        ctx.handOver()
        return { ok: true, transferred: true }
      }
      switch (result.outcome) {
        case 'closed': throw new ToolError('closed', result.reason)
        case 'failed': throw new ToolError('transfer_failed', `The staff phone could not be rung (${result.reason}). Apologise to the caller and take a message (name, callback number, what it is about).`)
        case 'in-progress': throw new ToolError('transfer_in_progress', 'A staff phone is already ringing for this call. Wait for its outcome; do not call transfer_call again.')
        case 'cancelled': return { ok: false, error: 'cancelled', message: 'The caller has left.' }
        default: return { ok: true, transferred: false, outcome: result.outcome, message: STAFF_UNAVAILABLE_MESSAGE }
      }
    }
  }
}
