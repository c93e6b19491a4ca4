import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { CallSession } from '../lib/call/session.js'
import { transcriptMessage } from '../lib/call/softphone-transcript.js'
import { backchannelMessage, bargeInMessage, type TurnMessage } from '../lib/call/softphone-turn.js'

/** The model usually finishes the greeting's transcript before the browser's socket is up. */
const MAX_PENDING = 64

/**
 * Relays the live transcript, and how each caller sound was taken (a
 * backchannel or an interruption, for the status line), to softphone calls. Keyed on the signed token's
 * direction, so a Vonage call never gets messages it does not expect.
 */
async function softphonePlugin (fastify: FastifyInstance): Promise<void> {
  fastify.bridge.onSession.add((session: CallSession) => {
    if (session.call.direction !== 'softphone') return
    const pending: string[] = []
    const relay = (msg: ReturnType<typeof transcriptMessage> | TurnMessage): void => {
      if (msg === null) return
      const text = JSON.stringify(msg)
      if (!session.sendText(text) && pending.length < MAX_PENDING) pending.push(text)
    }
    session.on('turn', ({ role, itemId }) => { if (role === 'caller') relay(transcriptMessage(role, itemId, '', false)) })
    session.on('transcript-delta', ({ role, itemId, text }) => relay(transcriptMessage(role, itemId, text, false)))
    session.on('transcript', ({ role, itemId, text }) => relay(transcriptMessage(role, itemId, text, true)))
    session.on('backchannel', (e) => relay(backchannelMessage(e)))
    session.on('barge-in', (cut) => relay(bargeInMessage(cut)))
    session.once('media', () => {
      for (const text of pending.splice(0)) session.sendText(text)
    })
  })
}

export default fp(softphonePlugin, { name: 'softphone', dependencies: ['bridge'] })
