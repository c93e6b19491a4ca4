import type { RawConfig } from '../config/schema.js'

/** Settings of the voicemail a caller leaves when the AI cannot answer (docs/voicemail.md). */
export const voicemailSettings = {
  VOICEMAIL: { type: 'string', enum: ['on', 'off'], default: 'on', description: 'on = when the AI cannot answer (model unreachable, failed, daily budget reached), the caller is asked to leave a message, which is recorded, transcribed and kept with the call (needs VONAGE_APPLICATION_ID, the private key and SERVER_URL); off = an apology only' },
  VOICEMAIL_MAX_SECONDS: { type: 'integer', minimum: 10, maximum: 600, default: 120, description: 'longest message a caller may leave, in seconds (10-600)' },
  VOICEMAIL_SILENCE_SECONDS: { type: 'integer', minimum: 3, maximum: 10, default: 4, description: 'seconds of silence that end the message (3-10, Vonage\'s range)' },
  VOICEMAIL_TRANSCRIPTION_MODEL: { type: 'string', default: '', description: 'model that transcribes a voicemail (POST /audio/transcriptions), e.g. gpt-transcribe; empty = OPENAI_TRANSCRIPTION_MODEL (when that is empty too, the audio is kept without a transcript)' }
} as const

export function checkVoicemailSettings (_raw: RawConfig): string[] {
  // Every rule fits the JSON schema; the function stays for the one-line wiring in schema.ts.
  return []
}
