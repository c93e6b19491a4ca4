import type { Db } from './db.js'

/**
 * A call's audio (its recording, a caller's voicemail) kept in the call store's
 * own database, so any machine that reads the history can serve it and one
 * DELETE removes a call's words and its voice together. Audio is written and
 * read in chunks: a 30-minute recording is never held in memory whole, and a
 * browser seeking in a player reads only the chunks it asks for.
 */

export type AudioKind = 'recording' | 'voicemail'

export interface StoredAudio {
  mime: string
  /** Bytes in all. */
  size: number
  /** ISO-8601, when the audio was stored. */
  createdAt: string
}

/** Rows of this size: small enough to stream, large enough that a call's recording is a few dozen rows. */
export const AUDIO_CHUNK_BYTES = 256 * 1024

/** Stores (or replaces) the audio `kind` of `callId`; served only once it is complete. */
export async function putAudio (db: Db, callId: string, kind: AudioKind, mime: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<StoredAudio> {
  await deleteAudio(db, callId, kind)
  let seq = 0
  let size = 0
  let pending = Buffer.alloc(0)
  const writeChunk = async (bytes: Buffer): Promise<void> => {
    await db.query('INSERT INTO call_audio_chunks (call_id, kind, seq, bytes) VALUES ($1, $2, $3, $4)', [callId, kind, seq++, bytes])
    size += bytes.length
  }
  const source = data instanceof Uint8Array ? [data] : data
  for await (const piece of source) {
    pending = pending.length === 0 ? Buffer.from(piece) : Buffer.concat([pending, piece])
    while (pending.length >= AUDIO_CHUNK_BYTES) {
      await writeChunk(pending.subarray(0, AUDIO_CHUNK_BYTES))
      pending = pending.subarray(AUDIO_CHUNK_BYTES)
    }
  }
  if (pending.length > 0) await writeChunk(pending)
  const createdAt = new Date().toISOString()
  // The row that makes it visible comes last: a write cut short leaves chunks nobody serves (and the next put or purge removes).
  await db.query('INSERT INTO call_audio (call_id, kind, mime, size, created_at) VALUES ($1, $2, $3, $4, $5)', [callId, kind, mime, size, createdAt])
  return { mime, size, createdAt }
}

export async function statAudio (db: Db, callId: string, kind: AudioKind): Promise<StoredAudio | null> {
  const rows = await db.query<{ mime: string, size: number | string, created_at: string }>('SELECT mime, size, created_at FROM call_audio WHERE call_id = $1 AND kind = $2', [callId, kind])
  const r = rows[0]
  return r === undefined ? null : { mime: r.mime, size: Number(r.size), createdAt: String(r.created_at) }
}

/** The kinds of audio each of `callIds` has (for lists: one query, not one per call). */
export async function audioKinds (db: Db, callIds: string[]): Promise<Map<string, AudioKind[]>> {
  const out = new Map<string, AudioKind[]>()
  if (callIds.length === 0) return out
  const marks = callIds.map((_, i) => `$${i + 1}`).join(', ')
  const rows = await db.query<{ call_id: string, kind: AudioKind }>(`SELECT call_id, kind FROM call_audio WHERE call_id IN (${marks})`, callIds)
  for (const r of rows) out.set(r.call_id, [...(out.get(r.call_id) ?? []), r.kind])
  return out
}

/** Bytes `start`..`end` (inclusive) of the stored audio, chunk by chunk. */
export async function * readAudio (db: Db, callId: string, kind: AudioKind, start = 0, end = Number.MAX_SAFE_INTEGER): AsyncGenerator<Buffer> {
  if (end < start) return
  const first = Math.floor(start / AUDIO_CHUNK_BYTES)
  const last = Math.floor(end / AUDIO_CHUNK_BYTES)
  for (let seq = first; seq <= last; seq++) {
    const rows = await db.query<{ bytes: Uint8Array }>('SELECT bytes FROM call_audio_chunks WHERE call_id = $1 AND kind = $2 AND seq = $3', [callId, kind, seq])
    const bytes = rows[0]?.bytes
    if (bytes === undefined) return
    const base = seq * AUDIO_CHUNK_BYTES
    const from = Math.max(0, start - base)
    const to = Math.min(bytes.length, end - base + 1)
    if (from < to) yield Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from)
  }
}

/** Removes one kind of a call's audio, or all of it; answers how many pieces were removed. */
export async function deleteAudio (db: Db, callId: string, kind?: AudioKind): Promise<number> {
  const where = kind === undefined ? 'call_id = $1' : 'call_id = $1 AND kind = $2'
  const params = kind === undefined ? [callId] : [callId, kind]
  const gone = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM call_audio WHERE ${where}`, params)
  await db.batch([
    [`DELETE FROM call_audio WHERE ${where}`, params],
    [`DELETE FROM call_audio_chunks WHERE ${where}`, params]
  ])
  return Number(gone[0]?.n ?? 0)
}

/** Removes `kind` audio stored before `days` days ago, answers how many. */
export async function purgeAudioOlderThan (db: Db, kind: AudioKind, days: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString()
  const old = await db.query<{ call_id: string }>('SELECT call_id FROM call_audio WHERE kind = $1 AND created_at < $2', [kind, cutoff])
  for (const r of old) await deleteAudio(db, r.call_id, kind)
  return old.length
}
