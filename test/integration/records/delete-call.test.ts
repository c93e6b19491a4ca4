import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { conversationRig, type ConversationRig } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { backends, embeddedDataDir, pgSchema, PG_URL } from './store-backends.js'
import { tone } from '../../helpers/tones.js'
import { CALL_CHILD_TABLES, deleteCall, purgeOrphanAudio } from '../../../lib/records/store/delete-call.js'
import { audioKinds, putAudio } from '../../../lib/records/store/audio-store.js'
import { migrate } from '../../../lib/records/store/migrations.js'

/**
 * Issue #24, deletion on a caller's request: DELETE /api/calls/:id removes the
 * call's words, numbers and recording on every store; 204, then 404 for the
 * call and its recording; logged without content.
 */
const KEY = 'k'.repeat(16)
const auth = { authorization: `Bearer ${KEY}` }
/** Words nothing else in the store says, to look for in the raw files. */
const MARK = '削除確認用の合言葉はミズバショウ七番'

async function recordedCall (t: Parameters<typeof conversationRig>[0], env: Record<string, string>): Promise<ConversationRig> {
  const rig = await conversationRig(t, { RECORDING: 'on', CONSOLE_KEY: KEY, STORE_FULL_NUMBERS: 'true', ...env }, {
    answer: tone(1000, 1500, 24000),
    transcript: MARK
  })
  assert.notEqual(await rig.app.callStore.opened, null, 'the store is open')
  const res = await rig.webhook('/event', { uuid: rig.uuid, status: 'completed' })
  assert.equal(res.statusCode, 204)
  await waitFor(() => (rig.app.recording.recordings?.counters.stored ?? 0) >= 1, 60_000, 'the recording to be stored')
  await rig.app.callStore.writer.flush()
  return rig
}

async function deleteAndCheck (rig: ConversationRig): Promise<Buffer> {
  const before = await rig.app.inject({ url: `/api/calls/${rig.uuid}`, headers: auth })
  assert.equal(before.statusCode, 200)
  assert.ok(JSON.stringify(before.json().transcript).includes(MARK))
  assert.equal(before.json().fromFull, '818012345678')
  const audio = await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: auth })
  assert.equal(audio.statusCode, 200)

  // From another site (a page the owner happens to visit): refused like the console's own hangup.
  const forged = await rig.app.inject({ method: 'DELETE', url: `/api/calls/${rig.uuid}`, headers: { ...auth, origin: 'https://evil.example' } })
  assert.equal(forged.statusCode, 403)
  const stranger = await rig.app.inject({ method: 'DELETE', url: `/api/calls/${rig.uuid}`, remoteAddress: '203.0.113.9' })
  assert.equal(stranger.statusCode, 401)

  const del = await rig.app.inject({ method: 'DELETE', url: `/api/calls/${rig.uuid}`, headers: auth })
  assert.equal(del.statusCode, 204)
  assert.equal((await rig.app.inject({ url: `/api/calls/${rig.uuid}`, headers: auth })).statusCode, 404)
  assert.equal((await rig.app.inject({ url: `/api/calls/${rig.uuid}/recording`, headers: auth })).statusCode, 404)
  assert.equal((await rig.app.inject({ method: 'DELETE', url: `/api/calls/${rig.uuid}`, headers: auth })).statusCode, 404, 'a second delete finds nothing')
  const list = await rig.app.inject({ url: '/api/calls', headers: auth })
  assert.ok(!list.json().calls.some((c: { id: string }) => c.id === rig.uuid))
  // Logged, without its words, its number or its whole id.
  const line = rig.logs.find(l => l.msg === 'call deleted on request (transcript, audio, numbers)')
  assert.ok(line !== undefined)
  assert.ok(!JSON.stringify(line).includes(rig.uuid))
  const logs = JSON.stringify(rig.logs)
  assert.ok(!logs.includes(MARK) && !logs.includes('818012345678'))
  return audio.rawPayload
}

test('DELETE /api/calls/:id on the embedded store: 204, then 404 for the call and its recording', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const rig = await recordedCall(t, { DATA_DIR: dataDir })
  await deleteAndCheck(rig)
  const db = rig.app.callStore.db()!
  for (const table of [...CALL_CHILD_TABLES, 'calls']) {
    const key = table === 'calls' ? 'id' : 'call_id'
    assert.deepEqual(await db.query(`SELECT 1 FROM ${table} WHERE ${key} = $1`, [rig.uuid]), [], `nothing left in ${table}`)
  }
})

/** Every byte of every file under `dir`. */
function filesUnder (dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map(f => join(dir, f)).filter(f => statSync(f).isFile())
}

// PGlite keeps deleted rows in its heap and WAL files until they are vacuumed and recycled; SQLite with
// PRAGMA secure_delete = ON (and its WAL checkpointed) overwrites them. Until the store is SQLite, this is a todo.
const onPglite = (dir: string): boolean => readdirSync(dir).includes('calls.pglite')

test('DELETE on the embedded store leaves nothing on disk: neither the words nor the audio are in the database files', async (t) => {
  const dataDir = await embeddedDataDir(t)
  if (onPglite(dataDir)) t.todo('PGlite keeps deleted bytes in its files: passes once the store is SQLite with secure_delete')
  const rig = await recordedCall(t, { DATA_DIR: dataDir })
  const mp3 = await deleteAndCheck(rig)
  await rig.app.close()
  const mark = Buffer.from(MARK)
  // 64 bytes of the MP3 that look random (coded tone, not the repetitive frames of silence): no other data has them.
  let from = 0
  while (from + 64 < mp3.length && new Set(mp3.subarray(from, from + 64)).size < 48) from += 16
  const pattern = mp3.subarray(from, from + 64)
  assert.equal(new Set(pattern).size >= 48, true, 'a distinctive piece of the recording')
  const files = filesUnder(dataDir)
  assert.ok(files.length > 0)
  for (const f of files) {
    const bytes = readFileSync(f)
    assert.equal(bytes.indexOf(mark), -1, `the transcript is still in ${f}`)
    assert.equal(bytes.indexOf(pattern), -1, `the recording is still in ${f}`)
  }
})

test('DELETE /api/calls/:id on PostgreSQL: 204, then 404 for the call and its recording, no rows left', { skip: PG_URL === '' ? 'DATABASE_TEST_URL is not set' : false }, async (t) => {
  const schema = pgSchema(t)
  const setup = new pg.Client({ connectionString: PG_URL })
  await setup.connect()
  await setup.query(`CREATE SCHEMA ${schema}`)
  const url = new URL(PG_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  const rig = await recordedCall(t, { DATABASE_URL: url.toString(), DATA_DIR: '' })
  assert.equal(rig.app.callStore.db()!.kind, 'postgres')
  await deleteAndCheck(rig)
  try {
    for (const table of [...CALL_CHILD_TABLES, 'calls']) {
      const key = table === 'calls' ? 'id' : 'call_id'
      const rows = await setup.query(`SELECT 1 FROM ${schema}.${table} WHERE ${key} = $1`, [rig.uuid])
      assert.equal(rows.rowCount, 0, `nothing left in ${table}`)
    }
  } finally {
    await setup.end()
  }
})

for (const b of backends) {
  test(`${b.name}: deleteCall removes every child table's rows; audio whose call is gone is purged`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const at = new Date().toISOString()
    for (const id of ['keep', 'gone']) {
      await db.query('INSERT INTO calls (id, started_at, direction) VALUES ($1, $2, $3)', [id, at, 'inbound'])
      await db.query('INSERT INTO call_lines (call_id, seq, role, text, at_ms) VALUES ($1, 1, $2, $3, 0)', [id, 'caller', MARK])
      await db.query('INSERT INTO call_tools (call_id, seq, name, ok, latency_ms, result) VALUES ($1, 1, $2, true, 5, $3)', [id, 'end_call', 'ok'])
      await putAudio(db, id, 'recording', 'audio/mpeg', new Uint8Array(300_000).fill(7))
      await db.query('INSERT INTO call_voicemails (call_id, reason, transcript, created_at) VALUES ($1, $2, $3, $4)', [id, 'unavailable', MARK, at])
      await db.query('INSERT INTO notifications (call_id, kind, channel, status, retry_key, subject, body, next_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8)', [id, 'call', 'line', 'sent', `key-${id}`, '', MARK, at])
    }
    await putAudio(db, 'orphan', 'recording', 'audio/mpeg', new Uint8Array(10).fill(1))
    assert.equal(await deleteCall(db, 'gone'), true)
    assert.equal(await deleteCall(db, 'gone'), false)
    for (const table of CALL_CHILD_TABLES) {
      assert.deepEqual(await db.query(`SELECT 1 FROM ${table} WHERE call_id = $1`, ['gone']), [], table)
      assert.notDeepEqual(await db.query(`SELECT 1 FROM ${table} WHERE call_id = $1`, ['keep']), [], `${table} of another call is kept`)
    }
    assert.equal(await purgeOrphanAudio(db), 1)
    assert.deepEqual([...(await audioKinds(db, ['keep', 'orphan'])).keys()], ['keep'])
  })
}
