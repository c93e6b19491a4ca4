/**
 * The softphone's live transcript, as extra text messages on its media socket.
 * Vonage never gets these: only softphone sessions are wired to them.
 *
 * `text` is the new fragment while `final` is false and the whole utterance
 * when it is true, so a page appends fragments and replaces on final. The
 * caller's line is opened (empty) at speech start, so it sits before the
 * assistant's reply even though its transcription finishes after it.
 */
export interface TranscriptMessage {
  event: 'transcript'
  role: 'assistant' | 'caller'
  /** The conversation item the text belongs to. */
  item: string
  text: string
  final: boolean
}

type ServerEvent = { type: string, [key: string]: unknown }

const str = (v: unknown): string => typeof v === 'string' ? v : ''

export function transcriptMessage (e: ServerEvent): TranscriptMessage | null {
  const item = str(e.item_id)
  if (item === '') return null
  switch (e.type) {
    case 'input_audio_buffer.speech_started':
      return { event: 'transcript', role: 'caller', item, text: '', final: false }
    case 'conversation.item.input_audio_transcription.delta':
      return { event: 'transcript', role: 'caller', item, text: str(e.delta), final: false }
    case 'conversation.item.input_audio_transcription.completed':
      return { event: 'transcript', role: 'caller', item, text: str(e.transcript), final: true }
    case 'response.output_audio_transcript.delta':
      return { event: 'transcript', role: 'assistant', item, text: str(e.delta), final: false }
    case 'response.output_audio_transcript.done':
      return { event: 'transcript', role: 'assistant', item, text: str(e.transcript), final: true }
    default:
      return null
  }
}
