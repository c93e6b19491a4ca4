import type { Db } from './db.js'

/**
 * The store's schema, one step per entry, applied in order at start and
 * recorded in schema_migrations. Steps are only ever appended: a database
 * made by an older version is brought forward, never rebuilt.
 *
 * Write a step once, in SQL both databases take: `text`, `integer`, `bigint`,
 * `double precision`; booleans as 0/1, JSON and times (ISO-8601 UTC) as text;
 * plain `CREATE TABLE` / `CREATE INDEX` / `ALTER TABLE … ADD COLUMN`. Step 1
 * alone predates the embedded SQLite store: PostgreSQL databases already made
 * it with PostgreSQL's own types, so it keeps that form there and has an
 * equivalent one (`sqlite`) for SQLite; the store reads both back alike (dialect.ts).
 */
export interface Migration {
  version: number
  name: string
  sql: string
  /** Only when `sql` is not portable: the same step for the embedded SQLite store. */
  sqlite?: string
}

export const MIGRATIONS: readonly Migration[] = [
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
);`,
    sqlite: `
CREATE TABLE calls (
  id text PRIMARY KEY,
  started_at text NOT NULL,
  ended_at text,
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
  usage text,
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
  ok integer NOT NULL,
  latency_ms integer NOT NULL,
  result text,
  PRIMARY KEY (call_id, seq)
);`
  },
  {
    version: 2,
    name: 'after-call summaries, notification outbox',
    // The summary is JSON as text; callback_wanted is 0/1 apart from it so the history can filter on it.
    // One outbox row per (call, kind, channel): a restart resumes what was pending, and its retry key is kept.
    sql: `
ALTER TABLE calls ADD COLUMN summary text;
ALTER TABLE calls ADD COLUMN callback_wanted integer;
CREATE TABLE notifications (
  call_id text NOT NULL,
  kind text NOT NULL,
  channel text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  retry_key text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  last_error text,
  next_at text NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  PRIMARY KEY (call_id, kind, channel)
);
CREATE INDEX notifications_status ON notifications (status, next_at)`
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
    version: 4,
    name: 'warm transfers of a call (JSON text: staff rung, state, times, the briefing heard)',
    sql: `
ALTER TABLE calls ADD COLUMN transfers text`

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

/** Statements of one step, as the migration's batch runs them. */
export function statementsOf (sql: string): string[] {
  return sql.split(/;\s*\n/).map(s => s.trim().replace(/;$/, '')).filter(s => s !== '')
}

/** Applies the steps this database lacks; two machines starting at once do not apply one twice. */
export async function migrate (db: Db, steps: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const postgres = db.kind === 'postgres'
  // PostgreSQL databases made before the SQLite store have applied_at as timestamptz: ISO text goes into both.
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)')
  const done = new Set((await db.query<{ version: number }>('SELECT version FROM schema_migrations')).map(r => r.version))
  const applied: number[] = []
  for (const m of steps) {
    if (done.has(m.version)) continue
    try {
      const sql = !postgres && m.sqlite !== undefined ? m.sqlite : m.sql
      await db.batch([
        // Holds other machines' migrations back until this one commits. SQLite's batch takes the write lock itself (BEGIN IMMEDIATE).
        ...(postgres ? [['LOCK TABLE schema_migrations IN EXCLUSIVE MODE', []] satisfies [string, unknown[]]] : []),
        ...statementsOf(sql).map((s): [string, unknown[]] => [s, []]),
        ['INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]]
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
