import type { SessionEventMap } from './events.js'

/**
 * How the bridge took a caller's sound, as an extra text message on a
 * softphone's media socket (beside the live transcript), so an owner can tune
 * TURN_PROFILE / BARGE_IN_MIN_MS by ear. Vonage never gets these.
 */
export type TurnMessage =
  /** The answer went on: `ms` of voiced sound, with its words when they came. */
  | { event: 'turn', kind: 'backchannel', ms: number, text: string | null }
  /** The answer was cut after the caller had heard `heardMs` of it (null: nothing was playing). */
  | { event: 'turn', kind: 'barge-in', heardMs: number | null }

export function backchannelMessage (e: SessionEventMap['backchannel'][0]): TurnMessage {
  return { event: 'turn', kind: 'backchannel', ms: Math.round(e.ms), text: e.text }
}

export function bargeInMessage (e: SessionEventMap['barge-in'][0]): TurnMessage {
  return { event: 'turn', kind: 'barge-in', heardMs: e === null ? null : Math.round(e.heardMs) }
}
