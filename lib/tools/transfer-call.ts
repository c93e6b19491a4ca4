import { maskNumber } from '../log/logger.js'
import { ToolError, type ToolDefinition } from './types.js'

export interface TransferOptions {
  /** VONAGE_TRANSFER_NUMBER (E.164), '' for none. */
  defaultNumber: string
  /** VONAGE_TRANSFER_ALLOWLIST: the only numbers the model may name. */
  allowlist: string[]
  /** Vonage's REST timeout: the tool's own timeout allows for it plus the playback of the model's last words. */
  apiTimeoutMs: number
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

/**
 * Built-in transfer_call: Vonage moves the caller's leg to a `connect` NCCO
 * that rings a phone number. The model's last words ("I'll put you through")
 * are let to play first; on success the model's session is closed.
 */
export function transferCallTool (o: TransferOptions): ToolDefinition<{ number?: string, reason?: string }> {
  const properties: Record<string, unknown> = {
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
    description: 'Transfer the caller to a human operator. Before calling it, tell the caller you are transferring them ' +
      '(e.g. 「担当者におつなぎします。少々お待ちください。」). If the transfer fails you get an error: apologise and keep helping.',
    parameters: { type: 'object', properties, additionalProperties: false },
    timeoutMs: 30_000 + o.apiTimeoutMs,
    async handler (args, ctx) {
      const dest = resolveDestination(args.number, o)
      if (!dest.ok) throw new ToolError(dest.code, dest.reason)
      const response = await ctx.responseDone()
      if (response?.status === 'cancelled' && response.reason === 'turn_detected') {
        ctx.noReply()
        return { ok: false, error: 'interrupted', message: 'The caller started speaking, so the call was not transferred. Ask whether they still want to be transferred.' }
      }
      await ctx.played()
      const result = await ctx.transfer(dest.number)
      if (!result.ok) throw new ToolError('transfer_failed', `The transfer did not go through (${result.reason}). Apologise to the caller and offer to help in another way.`)
      ctx.noReply()
      return { ok: true, transferred: true }
    }
  }
}
