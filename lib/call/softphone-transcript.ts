/**
 * The softphone's live transcript, as extra text messages on its media socket.
 * Vonage never gets these: only softphone sessions are wired to them.
 *
 * `text` is the new fragment while `final` is false and the whole utterance
 * when it is true, so a page appends fragments and replaces on final. The
 * caller's line is opened (empty) when their turn begins, so it sits before
 * the assistant's reply even though its transcription finishes after it.
 */
import type { Role } from './events.js'

export interface TranscriptMessage {
  event: 'transcript'
  role: 'assistant' | 'caller'
  /** The conversation item the text belongs to. */
  item: string
  text: string
  final: boolean
}

/** A message for one session event: a caller's turn beginning, a fragment, or a final line. */
export function transcriptMessage (role: Role, itemId: string, text: string, final: boolean): TranscriptMessage | null {
  if (itemId === '') return null
  return { event: 'transcript', role, item: itemId, text, final }
}
