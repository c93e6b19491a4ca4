import { test } from 'node:test'
import assert from 'node:assert/strict'
import { backends } from '../records/store-backends.js'
import { migrate } from '../../../lib/records/store/migrations.js'
import { DbOutbox, type OutboxRow } from '../../../lib/notify/outbox.js'
import { saveSummary, parseSummary } from '../../../lib/summary/store.js'
import { CallWriter } from '../../../lib/records/store/call-store.js'
import { listCalls, overview } from '../../../lib/records/store/queries.js'

function row (over: Partial<OutboxRow>): OutboxRow {
  const now = new Date().toISOString()
  return { callId: 'c1', kind: 'call', channel: 'line', status: 'pending', attempts: 0, retryKey: 'k1', subject: 's', body: 'b', lastError: null, nextAt: now, createdAt: now, updatedAt: now, ...over }
}

for (const b of backends) {
  test(`${b.name}: the outbox keeps one row per (call, kind, channel), its first retry key, and what a restart resumes`, { skip: b.skip }, async (t) => {
    const { db, reopen } = await b.open(t)
    await migrate(db)
    const outbox = new DbOutbox(db)
    const first = await outbox.add([row({}), row({ channel: 'slack', retryKey: 'k2' })])
    assert.deepEqual(first.map(r => [r.channel, r.retryKey]), [['line', 'k1'], ['slack', 'k2']])
    const again = await outbox.add([row({ retryKey: 'other', body: 'changed' })])
    assert.deepEqual([again[0]!.retryKey, again[0]!.body], ['k1', 'b'], 'the stored row wins')
    await outbox.save({ ...first[0]!, status: 'sending', attempts: 1 })
    await outbox.save({ ...first[1]!, status: 'failed', attempts: 3, lastError: 'HTTP 500', updatedAt: new Date().toISOString() })
    const after = new DbOutbox(await reopen())
    assert.deepEqual((await after.unfinished()).map(r => [r.channel, r.status, r.attempts, r.retryKey]), [['line', 'sending', 1, 'k1']])
    assert.deepEqual((await after.failedSince(new Date(Date.now() - 60_000).toISOString(), 10)).map(r => [r.channel, r.lastError]), [['slack', 'HTTP 500']])
    assert.equal((await after.forCall('c1')).length, 2)
    await after.purge(new Date(Date.now() + 1000).toISOString())
    assert.equal((await after.forCall('c1')).length, 0)
  })

  test(`${b.name}: a summary saved with its call: filtered by callback, counted in the overview, its cost added`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const writer = new CallWriter({ storeFullNumbers: false, storeTranscripts: true, onProblem: () => {} })
    writer.attach(db)
    const started = new Date()
    for (const id of ['a', 'b']) writer.callStarted({ id, startedAt: started, direction: 'inbound', from: '818012345678', to: '815031023332', persona: null, model: null })
    writer.callEnded({ id: 'a', endedAt: started, outcome: 'completed', endReason: 'caller-hangup', durationMs: 1000, usage: {}, costUsd: 0.01, timeToFirstAudioMs: null, lateFrames: 0, bargeIns: 0, backchannels: 0, callerAudioMs: 0, assistantAudioMs: 0, upstreamErrors: 0 })
    await writer.flush()
    const summary = { callerName: '田中', callerNumber: '********5678', callbackNumber: null, request: '予約', urgency: 'normal' as const, callback: { wanted: true, when: null }, reservation: null, outcome: 'resolved' as const, openItems: [], model: 'gpt-5.6-luna', usage: { inputTokens: 1000, outputTokens: 100, cachedTokens: 0 }, costUsd: 0.00032 }
    await saveSummary(db, 'a', summary)
    const wanted = await listCalls(db, { page: 1, limit: 10, callback: true })
    assert.deepEqual(wanted.calls.map(c => c.id), ['a'])
    assert.deepEqual(wanted.calls[0]!.summary, summary)
    assert.equal(wanted.calls[0]!.callbackWanted, true)
    assert.ok(Math.abs(wanted.calls[0]!.costUsd! - 0.01032) < 1e-9, 'the summary\'s cost joins the call\'s')
    const all = await listCalls(db, { page: 1, limit: 10 })
    assert.deepEqual(all.calls.map(c => [c.id, c.callbackWanted, c.summary === null]).sort(), [['a', true, false], ['b', false, true]])
    assert.equal((await overview(db, 1, 540)).callbacksWanted, 1)
    assert.equal(parseSummary('not json'), null)
  })
}
