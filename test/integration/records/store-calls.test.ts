import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { conversationRig } from '../../helpers/call-rig.js'
import { build } from '../../helpers/build.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { getCall, listCalls } from '../../../lib/records/store/queries.js'
import type { Db } from '../../../lib/records/store/db.js'
import { embeddedDataDir } from './store-backends.js'

const GREETING = 'お電話ありがとうございます。チャッピーです。'
const CALLER = '明日の午後三時に予約をお願いします'

/** Waits for an async condition (a query), checking again after each answer. */
async function until (pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('a call through the fakes is written as it happens: start row, lines, end figures; a restart keeps the history', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const rig = await conversationRig(t, { DATA_DIR: dataDir }, { transcript: GREETING })
  const db = await rig.app.callStore.opened
  assert.ok(db !== null, 'the embedded store opened')
  await until(async () => (await getCall(db, rig.uuid))?.transcript.length === 1, 10_000, 'the start row and the greeting line, while the call goes on')
  const during = await getCall(db, rig.uuid)
  assert.equal(during?.endedAt, null)
  assert.equal(during?.from, '********5678', 'masked')
  assert.deepEqual(during?.transcript.map(l => [l.role, l.text]), [['assistant', GREETING]])

  rig.fake.transcribeInput(rig.conn, CALLER)
  await until(async () => (await getCall(db, rig.uuid))?.transcript.length === 2, 10_000, 'the caller\'s line')
  await rig.media.close()
  await until(async () => (await getCall(db, rig.uuid))?.endedAt !== null, 10_000, 'the end update')
  const c = await getCall(db, rig.uuid)
  assert.ok(c !== null)
  assert.equal(c.direction, 'inbound')
  assert.equal(c.outcome, 'completed')
  assert.equal(c.endReason, 'caller-hangup')
  assert.equal(c.model, rig.app.config.OPENAI_MODEL)
  assert.ok((c.costUsd ?? 0) > 0, 'priced from the usage')
  assert.ok(c.timeToFirstAudioMs !== null)
  assert.ok((c.durationMs ?? 0) > 0)
  assert.deepEqual(c.transcript.map(l => l.role), ['assistant', 'caller'])
  assert.ok(c.transcript[1]!.atMs >= c.transcript[0]!.atMs)
  const raw = await db.query('SELECT from_full, to_full FROM calls')
  assert.deepEqual(raw, [{ from_full: null, to_full: null }], 'no full number without STORE_FULL_NUMBERS')
  assert.equal(rig.app.callStore.writer.counters.failed, 0)

  await rig.app.close()
  const again = await build(t, { DATA_DIR: dataDir })
  const reopened = await again.app.callStore.opened
  assert.ok(reopened !== null)
  const history = await listCalls(reopened, { page: 1, limit: 10 })
  assert.deepEqual(history.calls.map(x => x.id), [rig.uuid], 'kept across the restart')
  assert.equal((await getCall(reopened, rig.uuid))?.transcript.length, 2)
})

test('a store that breaks mid-call never breaks the call: the call goes on and ends, the failure is logged once and counted', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const rig = await conversationRig(t, { DATA_DIR: dataDir }, { transcript: GREETING })
  const db = await rig.app.callStore.opened as Db
  await until(async () => (await getCall(db, rig.uuid)) !== null, 10_000, 'the start row')
  await db.close()
  const framesBefore = rig.media.frames.length
  // The model answers again after the store broke: its audio still reaches the caller.
  rig.fake.transcribeInput(rig.conn, CALLER)
  rig.fake.setOptions({ transcript: 'かしこまりました。' })
  await rig.fake.respond(rig.conn)
  await waitFor(() => rig.media.frames.length >= framesBefore + 10, 5000, 'the answer played after the store broke')
  await rig.media.close()
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 5000, 'the call to end')
  await waitFor(() => rig.app.callStore.writer.counters.failed > 0, 5000, 'the failed write to be counted')
  const ended = rig.logs.find(l => l.msg === 'call ended')!.call as { reason: string }
  assert.equal(ended.reason, 'caller-hangup')
  const failures = rig.logs.filter(l => l.msg === 'call store write failed: call data was dropped')
  assert.equal(failures.length, 1, 'logged once')
  assert.equal(failures[0]!.level, 50)
})

test('a PostgreSQL that is down: the call goes on, the store says so once, writes wait in the bounded queue, the API answers 503', async (t) => {
  // A port that refuses connections: listen, note it, close.
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = (probe.address() as { port: number }).port
  probe.close()
  const rig = await conversationRig(t, { DATABASE_URL: `postgres://u:secret-password@127.0.0.1:${port}/db`, CONSOLE_KEY: 'k'.repeat(16) }, { transcript: GREETING })
  assert.equal(await rig.app.callStore.opened, null)
  const opening = rig.logs.filter(l => l.msg === 'call store could not be opened: calls go on, their history is not kept until it opens')
  assert.equal(opening.length, 1)
  assert.ok(!JSON.stringify(rig.logs).includes('secret-password'), 'the database password stays out of the log')
  await rig.media.close()
  await waitFor(() => rig.logs.some(l => l.msg === 'call ended'), 5000, 'the call to end')
  assert.ok(rig.app.callStore.writer.queued >= 2, 'start and end wait for the database')
  const stranger = await rig.app.inject({ url: '/api/calls', headers: { host: 'bridge.example.test' } })
  assert.equal(stranger.statusCode, 401, 'the key first: a request without it learns nothing, not even that the store is down')
  const res = await rig.app.inject({ url: '/api/calls', headers: { authorization: `Bearer ${'k'.repeat(16)}`, host: 'bridge.example.test' } })
  assert.equal(res.statusCode, 503)
  assert.match(res.json().message, /not open/)
})
