/**
 * What extensions learn about a call that CallSession does not track, kept
 * beside the session (not on it) for the call record: how it ended from the
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
}

const notes = new WeakMap<object, CallNotes>()

export function callNotes (session: object): CallNotes {
  let n = notes.get(session)
  if (n === undefined) {
    n = { tools: [] }
    notes.set(session, n)
  }
  return n
}

/** The call is being ended or handed over on purpose: DTMF and new tool runs are moot. */
export function isClosing (session: object): boolean {
  const o = notes.get(session)?.outcome
  return o === 'ended-by-ai' || o === 'transferred'
}
