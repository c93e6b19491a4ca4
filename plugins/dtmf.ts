import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { CallSession } from '../lib/call/session.js'
import { isClosing } from '../lib/call/notes.js'
import { isKeypadDigit } from '../lib/records/record.js'

/** The user message the model gets for one key press. */
export function dtmfMessage (digit: string): string {
  return `発信者がキーパッドの ${digit} を押しました (the caller pressed ${digit})`
}

/**
 * Keypad presses (Vonage's websocket:dtmf) reach the model as a short user
 * message followed by a response request, so a persona can say "press 1 for…".
 * The digits themselves are not logged: callers type PINs and card numbers.
 */
async function dtmfPlugin (fastify: FastifyInstance): Promise<void> {
  if (!fastify.config.DTMF_TO_MODEL) return
  fastify.bridge.onSession.add((session: CallSession) => {
    session.on('dtmf', (raw: string) => {
      const digit = raw.toUpperCase()
      if (!isKeypadDigit(digit) || isClosing(session.notes)) return
      if (session.engine.addUserText(dtmfMessage(digit))) void session.gate.requestResponse()
    })
  })
}

export default fp(dtmfPlugin, { name: 'dtmf', dependencies: ['config', 'bridge'] })
