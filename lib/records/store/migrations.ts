import type { Db } from './db.js'

/**
 * The store's schema, one step per entry, applied in order at start and
 * recorded in schema_migrations. Steps are only ever appended: a database
 * made by an older version is brought forward, never rebuilt.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number, name: string, sql: string }> = [
  {
    version: 1,
    name: 'calls, transcript lines, tool calls',
    sql: `
CREATE TABLE calls (
  id text PRIMARY KEY,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  direction text NOT NULL,
  from_masked text NOT NULL DEFAULT '',
  to_masked text NOT NULL DEFAULT '',
  from_full text,
  to_full text,
  persona text,
  model text,
  outcome text,
  end_reason text,
  duration_ms integer,
  usage jsonb,
  cost_usd double precision,
  time_to_first_audio_ms integer,
  late_frames integer,
  barge_ins integer NOT NULL DEFAULT 0,
  backchannels integer NOT NULL DEFAULT 0,
  caller_audio_ms integer,
  assistant_audio_ms integer,
  upstream_errors integer
);
CREATE INDEX calls_started_at ON calls (started_at DESC);
CREATE TABLE call_lines (
  call_id text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  role text NOT NULL,
  text text NOT NULL,
  at_ms integer NOT NULL,
  PRIMARY KEY (call_id, seq)
);
CREATE TABLE call_tools (
  call_id text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  name text NOT NULL,
  ok boolean NOT NULL,
  latency_ms integer NOT NULL,
  result text,
  PRIMARY KEY (call_id, seq)
);`
  },
  {
    version: 3,
    name: 'voicemails (transcript, reason) of calls the AI could not answer',
    sql: `
CREATE TABLE call_voicemails (
  call_id text PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
  recording_uuid text NOT NULL DEFAULT '',
  reason text NOT NULL,
  duration_sec integer NOT NULL DEFAULT 0,
  transcript text,
  transcription_error text,
  created_at text NOT NULL
)`
  },
  {
    version: 6,
    name: 'call audio (recordings, voicemails) in chunks',
    // bytea: PostgreSQL's binary type; SQLite keeps a blob as it is, whatever the declared type.
    sql: `
CREATE TABLE call_audio (
  call_id text NOT NULL,
  kind text NOT NULL,
  mime text NOT NULL,
  size bigint NOT NULL,
  created_at text NOT NULL,
  PRIMARY KEY (call_id, kind)
);
CREATE TABLE call_audio_chunks (
  call_id text NOT NULL,
  kind text NOT NULL,
  seq integer NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (call_id, kind, seq)
);`
  }
]

/** Applies the steps this database lacks; two machines starting at once do not apply one twice. */
export async function migrate (db: Db): Promise<number[]> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())')
  const done = new Set((await db.query<{ version: number }>('SELECT version FROM schema_migrations')).map(r => r.version))
  const applied: number[] = []
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue
    try {
      await db.batch([
        // Holds other machines' migrations back until this one commits.
        ['LOCK TABLE schema_migrations IN EXCLUSIVE MODE', []],
        ...m.sql.split(/;\s*\n/).map(s => s.trim()).filter(s => s !== '').map((s): [string, unknown[]] => [s, []]),
        ['INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]]
      ])
      applied.push(m.version)
    } catch (err) {
      // Another machine applied it between our read and our lock.
      const again = await db.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])
      if (again.length === 0) throw err
    }
  }
  return applied
}
