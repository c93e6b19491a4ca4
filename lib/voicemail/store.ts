import type { Db } from '../records/store/db.js'
import { putAudio, statAudio } from '../records/store/audio-store.js'
import type { VoicemailReason } from './message.js'

/** A voicemail as the console and GET /api/calls/:id show it. */
export interface VoicemailRow {
  reason: VoicemailReason
  durationSec: number
  /** null when it was not (or could not be) transcribed. */
  transcript: string | null
  transcriptionError: string | null
  createdAt: string
  /** The audio is in the store (GET /api/calls/:id/voicemail). */
  audio: { mime: string, size: number } | null
}

export interface VoicemailWrite {
  callId: string
  recordingUuid: string
  reason: VoicemailReason
  durationSec: number
  transcript: string | null
  transcriptionError: string | null
  audio: { bytes: Uint8Array, mime: string }
  /** The call's row, written here if the call store has not written it yet (its own write is queued). */
  call: { startedAt: string, direction: string, fromMasked: string, toMasked: string }
}

const MAX_TRANSCRIPT_CHARS = 4000

/** The audio first (chunked), then the row that points at it; a second event for the call replaces both. */
export async function saveVoicemail (db: Db, v: VoicemailWrite): Promise<void> {
  await putAudio(db, v.callId, 'voicemail', v.audio.mime, v.audio.bytes)
  await db.batch([
    ['INSERT INTO calls (id, started_at, direction, from_masked, to_masked, outcome) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING',
      [v.callId, v.call.startedAt, v.call.direction, v.call.fromMasked, v.call.toMasked, 'voicemail']],
    ['DELETE FROM call_voicemails WHERE call_id = $1', [v.callId]],
    ['INSERT INTO call_voicemails (call_id, recording_uuid, reason, duration_sec, transcript, transcription_error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [v.callId, v.recordingUuid, v.reason, Math.round(v.durationSec), v.transcript?.slice(0, MAX_TRANSCRIPT_CHARS) ?? null, v.transcriptionError, new Date().toISOString()]],
    ["UPDATE calls SET outcome = 'voicemail' WHERE id = $1", [v.callId]]
  ])
}

export async function getVoicemail (db: Db, callId: string): Promise<VoicemailRow | null> {
  const rows = await db.query<{ reason: VoicemailReason, duration_sec: number | string, transcript: string | null, transcription_error: string | null, created_at: string }>(
    'SELECT reason, duration_sec, transcript, transcription_error, created_at FROM call_voicemails WHERE call_id = $1', [callId])
  const r = rows[0]
  if (r === undefined) return null
  const audio = await statAudio(db, callId, 'voicemail')
  return {
    reason: r.reason,
    durationSec: Number(r.duration_sec),
    transcript: r.transcript,
    transcriptionError: r.transcription_error,
    createdAt: String(r.created_at),
    audio: audio === null ? null : { mime: audio.mime, size: audio.size }
  }
}

/** Voicemails left since `sinceUtc` (the overview's count). */
export async function countVoicemails (db: Db, sinceUtc: string): Promise<number> {
  const rows = await db.query<{ n: number | string }>('SELECT count(*) AS n FROM call_voicemails WHERE created_at >= $1', [sinceUtc])
  return Number(rows[0]?.n ?? 0)
}
