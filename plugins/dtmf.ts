import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { CallSession } from '../lib/call/session.js'
import { isClosing } from '../lib/call/notes.js'
import { isKeypadDigit } from '../lib/records/record.js'
import { KeypadBuffer } from '../lib/call/keypad-buffer.js'

/** The user message the model gets for a run of key presses (one, or a few typed together). */
export function dtmfMessage (digits: string | string[], dropped = 0): string {
  const list = typeof digits === 'string' ? [digits] : digits
  const more = dropped > 0 ? `（ほかに ${dropped} 回の押下は多すぎるため省きました / ${dropped} more presses were too many and left out）` : ''
  if (list.length === 1) return `発信者がキーパッドの ${list[0]} を押しました (the caller pressed ${list[0]})${more}`
  return `発信者がキーパッドで ${list.join('、')} の順に押しました (the caller pressed ${list.join(', ')})${more}`
}

/**
 * Keypad presses (Vonage's websocket:dtmf) reach the model as a short user
 * message followed by a response request, so a persona can say "press 1 for…".
 * Presses typed together make one message, at most 10 presses a second
 * (lib/call/keypad-buffer.ts): a burst never becomes hundreds of items.
 * The digits themselves are not logged: callers type PINs and card numbers.
 */
async function dtmfPlugin (fastify: FastifyInstance): Promise<void> {
  if (!fastify.config.DTMF_TO_MODEL) return
  fastify.bridge.onSession.add((session: CallSession) => {
    const keypad = new KeypadBuffer((digits, dropped) => {
      if (isClosing(session.notes)) return
      if (dropped > 0) fastify.log.warn({ callId: session.id, kept: digits.length, dropped }, 'keypad presses over the limit were not passed to the model')
      if (session.engine.addUserText(dtmfMessage(digits, dropped))) void session.gate.requestResponse()
    })
    session.on('dtmf', (raw: string) => {
      const digit = raw.toUpperCase()
      if (!isKeypadDigit(digit) || isClosing(session.notes)) return
      keypad.push(digit)
    })
    session.once('end', () => keypad.close())
  })
}

export default fp(dtmfPlugin, { name: 'dtmf', dependencies: ['config', 'bridge'] })
