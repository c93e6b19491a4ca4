import type { Db } from '../records/store/db.js'
import { maskNumber } from '../log/logger.js'
import { recordingUrlAllowed } from './recording-host.js'
import { fetchRecording } from './recording.js'
import { transcribe } from './transcribe.js'
import { saveVoicemail } from './store.js'
import type { PendingVoicemail } from './pending.js'
import type { VoicemailStored } from './message.js'

/** The record action's event (Vonage's field names). */
export interface RecordingEvent {
  recording_url?: unknown
  recording_uuid?: unknown
  start_time?: unknown
  end_time?: unknown
  size?: unknown
  conversation_uuid?: unknown
}

export interface ReceiveOptions {
  callId: string
  event: RecordingEvent
  /** The call as it was sent to voicemail (null after a restart: the message is kept without the number). */
  pending: PendingVoicemail | undefined
  db: Db | null
  apiHost: string
  bearer: () => Promise<string>
  transcription: { baseUrl: string, auth: Record<string, string>, model: string, language: string }
  log: { warn: (o: object, m: string) => void, error: (o: object, m: string) => void }
}

const str = (v: unknown): string => typeof v === 'string' ? v : ''

function seconds (start: unknown, end: unknown): number {
  const ms = Date.parse(str(end)) - Date.parse(str(start))
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms / 1000) : 0
}

/**
 * Recording event → audio fetched (only from Vonage's API host) → transcribed
 * → kept with the call. Null when nothing was kept (refused host, failed
 * download, no store): the reason is logged.
 */
export async function receiveRecording (o: ReceiveOptions): Promise<VoicemailStored | null> {
  const url = str(o.event.recording_url)
  if (!recordingUrlAllowed(url, o.apiHost)) {
    let host = '(malformed)'
    try { host = new URL(url).host } catch {}
    o.log.warn({ callId: o.callId, host }, 'recording URL refused: not on the Vonage API host (VONAGE_API_HOST); nothing was fetched')
    return null
  }
  if (o.db === null) {
    o.log.error({ callId: o.callId }, 'voicemail not kept: the call store is not open')
    return null
  }
  let audio: { bytes: Buffer, mime: string }
  try {
    audio = await fetchRecording(url, await o.bearer())
  } catch (err) {
    o.log.error({ callId: o.callId, err: { message: (err as Error).message } }, 'voicemail recording could not be downloaded')
    return null
  }
  let transcript: string | null = null
  let transcriptionError: string | null = null
  if (o.transcription.model !== '' && audio.bytes.length > 0) {
    try {
      transcript = await transcribe({ ...o.transcription, audio: audio.bytes, mime: audio.mime })
    } catch (err) {
      transcriptionError = (err as Error).message.slice(0, 300)
      o.log.warn({ callId: o.callId, err: { message: transcriptionError } }, 'voicemail could not be transcribed: the audio is kept')
    }
  }
  const p = o.pending
  const durationSec = seconds(o.event.start_time, o.event.end_time)
  const reason = p?.reason ?? 'unavailable'
  await saveVoicemail(o.db, {
    callId: o.callId,
    recordingUuid: str(o.event.recording_uuid),
    reason,
    durationSec,
    transcript,
    transcriptionError,
    audio,
    call: { startedAt: p?.startedAt ?? new Date().toISOString(), direction: p?.direction ?? 'inbound', fromMasked: maskNumber(p?.from ?? ''), toMasked: maskNumber(p?.to ?? '') }
  })
  return { callId: o.callId, from: p?.from ?? '', to: p?.to ?? '', transcript: transcript ?? '', durationSec, reason, at: str(o.event.end_time) !== '' && Number.isFinite(Date.parse(str(o.event.end_time))) ? new Date(str(o.event.end_time)).toISOString() : new Date().toISOString() }
}
