import type { Db } from './db.js'

/**
 * Every table holding a call's data by `call_id`, children first. A feature
 * that keeps more of a call (a summary, a voicemail, notifications,
 * transfers…) in a table of its own adds the table here, so that deleting a
 * call on the caller's request removes all of it.
 */
export const CALL_CHILD_TABLES: string[] = ['call_lines', 'call_tools', 'call_voicemails', 'notifications', 'call_audio_chunks', 'call_audio']

/**
 * Removes a call and everything kept about it (its words, tools, audio,
 * numbers: the calls row) in one transaction; answers false when the store
 * has nothing of it. On the embedded store the database must also not keep
 * the deleted bytes in its files (SQLite: PRAGMA secure_delete = ON).
 */
export async function deleteCall (db: Db, id: string): Promise<boolean> {
  const found = await db.query('SELECT 1 AS one FROM calls WHERE id = $1', [id])
  const audio = await db.query('SELECT 1 AS one FROM call_audio WHERE call_id = $1', [id])
  if (found.length === 0 && audio.length === 0) return false
  await db.batch([
    ...CALL_CHILD_TABLES.map((table): [string, unknown[]] => [`DELETE FROM ${table} WHERE call_id = $1`, [id]]),
    ['DELETE FROM calls WHERE id = $1', [id]]
  ])
  // secure_delete zeroes the pages in the database file, but WAL keeps the old pages in -wal until a checkpoint:
  // copied back and the log truncated now, the words and the voice are gone from the disk, not only from the list.
  if (db.kind === 'embedded') await db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  return true
}

/** Audio whose call is gone (purged by CALL_RETENTION_DAYS before its audio's own retention ran out): removed too. */
export async function purgeOrphanAudio (db: Db): Promise<number> {
  const rows = await db.query<{ call_id: string }>('SELECT a.call_id FROM call_audio a WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = a.call_id)')
  const ids = [...new Set(rows.map(r => r.call_id))]
  for (const id of ids) await db.batch([['DELETE FROM call_audio_chunks WHERE call_id = $1', [id]], ['DELETE FROM call_audio WHERE call_id = $1', [id]]])
  return ids.length
}
