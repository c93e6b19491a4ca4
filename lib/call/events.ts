/**
 * What a call session tells the plugins around it (tools, records, the
 * softphone, metrics, the console). Plugins listen here and keep their
 * per-call state on the session (`session.notes`, `session.gate`), not in module globals.
 */
import type { CallStats, Usage } from './stats.js'
import type { TransferNote } from '../transfer/warm-transfer.js'

export type Role = 'caller' | 'assistant'

export interface SessionEventMap {
  /** The media socket attached. */
  media: []
  /** The engine accepted the session configuration. */
  ready: []
  /** A turn took its place in the conversation (the caller began speaking or was committed, an assistant message began); its text follows. */
  turn: [{ role: Role, itemId: string, atMs: number }]
  /** Words of a turn as they stream in (the softphone shows them live). */
  'transcript-delta': [{ role: Role, itemId: string, text: string }]
  /** One finalised line of the conversation; `atMs`: when its turn took its place, from the call's start. */
  transcript: [{ role: Role, itemId: string, text: string, atMs: number }]
  /** The caller's first audio frame reached the caller's ear this long after media attached. */
  'first-audio': [{ ms: number }]
  /** Caller speech taken as an interruption: the answer was cut at `heardMs` of `itemId` (null: nothing was playing). */
  'barge-in': [{ itemId: string, heardMs: number } | null]
  /** Caller sound taken as a backchannel (aizuchi, noise): the answer went on. */
  backchannel: [{ ms: number, text: string | null }]
  /** The model called a tool during response `responseId`. */
  'tool-call': [{ callId: string, name: string, arguments: string, responseId: string }]
  dtmf: [digit: string]
  /** The call's usage changed (a response ended, the session's billed seconds grew): for a running cost. */
  usage: [Usage]
  /** A staff phone rung for this call changed state (ringing, answered, accepted, declined…). */
  transfer: [TransferNote]
  /** The call is over; stats are final. */
  end: [CallStats]
}
