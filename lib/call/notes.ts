import type { TransferNote } from '../transfer/warm-transfer.js'

/**
 * What extensions learn about a call that CallSession does not track, kept on
 * the session (`session.notes`) for the call record: how it ended from the
 * conversation's point of view, and the tools it used.
 */
export type Outcome =
  | 'completed'
  | 'ended-by-ai'
  | 'transferred'
  | 'upstream-failure'
  | 'no-media'
  | 'media-failure'
  | 'shutdown'
  | 'voicemail'

export interface ToolUse {
  name: string
  ok: boolean
  ms: number
  error?: string
}

export interface CallNotes {
  /** Set by end_call / transfer_call; otherwise derived from the session's end reason. */
  outcome?: Outcome
  /** e.g. the reason the model gave, or the masked transfer destination. */
  outcomeDetail?: Record<string, string>
  tools: ToolUse[]
  /** Staff phones rung for this call (warm transfers), in order. */
  transfers?: TransferNote[]
}

/** The call is being ended or handed over on purpose: DTMF and new tool runs are moot. */
export function isClosing (notes: CallNotes): boolean {
  return notes.outcome === 'ended-by-ai' || notes.outcome === 'transferred'
}
