import { test } from 'node:test'
import assert from 'node:assert/strict'
import { migrate, MIGRATIONS } from '../../../lib/records/store/migrations.js'
import { CallWriter, purgeOlderThan, type CallEnd } from '../../../lib/records/store/call-store.js'
import { getCall, listCalls, overview, parseFilter, toCsv, type CallFilter } from '../../../lib/records/store/queries.js'
import { backends } from './store-backends.js'

const filter = (f: Partial<CallFilter> = {}): CallFilter => ({ page: 1, limit: 25, ...f })

function ended (id: string, o: Partial<CallEnd> = {}): CallEnd {
  return {
    id,
    endedAt: new Date(),
    outcome: 'completed',
    endReason: 'caller-hangup',
    durationMs: 61_500,
    usage: { responses: 2 },
    costUsd: 0.0123,
    timeToFirstAudioMs: 420,
    lateFrames: 1,
    bargeIns: 2,
    backchannels: 3,
    callerAudioMs: 20_000,
    assistantAudioMs: 30_000,
    upstreamErrors: 0,
    ...o
  }
}

function writer (o: { full?: boolean, transcripts?: boolean } = {}): { w: CallWriter, problems: string[] } {
  const problems: string[] = []
  const w = new CallWriter({ storeFullNumbers: o.full ?? false, storeTranscripts: o.transcripts ?? true, onProblem: (what) => problems.push(what) })
  return { w, problems }
}

for (const b of backends) {
  test(`${b.name}: migrations run once and are recorded`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    assert.deepEqual(await migrate(db), MIGRATIONS.map(m => m.version))
    assert.deepEqual(await migrate(db), [], 'nothing left to apply')
    const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
    assert.deepEqual(rows.map(r => r.version), MIGRATIONS.map(m => m.version))
  })

  test(`${b.name}: a call written as it happens reads back whole; numbers masked; a restart keeps it`, { skip: b.skip }, async (t) => {
    const { db, reopen } = await b.open(t)
    await migrate(db)
    const { w, problems } = writer()
    w.attach(db)
    w.callStarted({ id: 'c1', startedAt: new Date(), direction: 'inbound', from: '+818012345678', to: '+815031023332', persona: 'default', model: 'gpt-realtime' })
    await w.flush()
    const inProgress = await getCall(db, 'c1')
    assert.equal(inProgress?.endedAt, null, 'the start row is there before the call ends')
    w.line({ callId: 'c1', seq: 1, role: 'assistant', text: 'お電話ありがとうございます。', atMs: 800 })
    w.line({ callId: 'c1', seq: 2, role: 'caller', text: '予約をお願いします', atMs: 2500 })
    w.tool({ callId: 'c1', seq: 1, name: 'get_weather', ok: false, latencyMs: 12, result: 'unknown_tool' })
    w.callEnded(ended('c1'))
    await w.flush()
    assert.deepEqual(problems, [])
    assert.equal(w.counters.written, 5)

    const c = await getCall(await reopen(), 'c1')
    assert.ok(c !== null)
    assert.equal(c.from, '+********5678')
    assert.equal(c.to, '+********3332')
    assert.equal(c.fromFull, undefined, 'full numbers only with STORE_FULL_NUMBERS')
    const raw = await db.query<{ from_full: string | null }>('SELECT from_full FROM calls')
    assert.deepEqual(raw, [{ from_full: null }])
    assert.equal(c.outcome, 'completed')
    assert.equal(c.costUsd, 0.0123)
    assert.equal(c.timeToFirstAudioMs, 420)
    assert.equal(c.bargeIns, 2)
    assert.equal(c.backchannels, 3)
    assert.deepEqual(c.usage, { responses: 2 })
    assert.deepEqual(c.transcript.map(l => [l.role, l.text, l.atMs]), [['assistant', 'お電話ありがとうございます。', 800], ['caller', '予約をお願いします', 2500]])
    assert.deepEqual(c.tools, [{ seq: 1, name: 'get_weather', ok: false, latencyMs: 12, result: 'unknown_tool' }])
  })

  test(`${b.name}: STORE_FULL_NUMBERS keeps full numbers; STORE_TRANSCRIPTS=false keeps no lines`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const { w } = writer({ full: true, transcripts: false })
    w.attach(db)
    w.callStarted({ id: 'c2', startedAt: new Date(), direction: 'outbound', from: '+815012345678', to: '+819011112222', persona: null, model: null })
    w.line({ callId: 'c2', seq: 1, role: 'caller', text: '秘密の話', atMs: 100 })
    await w.flush()
    const c = await getCall(db, 'c2')
    assert.equal(c?.fromFull, '+815012345678')
    assert.equal(c?.toFull, '+819011112222')
    assert.deepEqual(c?.transcript, [])
  })

  test(`${b.name}: history filters by date, direction, outcome and transcript text, and pages`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const { w } = writer()
    w.attach(db)
    const day = (d: string): Date => new Date(`${d}T03:00:00Z`)
    const calls: Array<[string, string, string, string, string]> = [
      ['a', '2026-11-01', 'inbound', 'completed', '明日の予約をお願いします'],
      ['b', '2026-11-02', 'outbound', 'transferred', '担当者につないでください'],
      ['c', '2026-11-03', 'softphone', 'completed', '100% 満足です'],
      ['d', '2026-11-04', 'inbound', 'upstream-failure', 'もしもし']
    ]
    for (const [id, d, direction, outcome, text] of calls) {
      w.callStarted({ id, startedAt: day(d), direction, from: '+818011110000', to: '', persona: null, model: null })
      w.line({ callId: id, seq: 1, role: 'caller', text, atMs: 10 })
      w.callEnded(ended(id, { outcome }))
    }
    await w.flush()
    const ids = async (f: Partial<CallFilter>): Promise<string[]> => (await listCalls(db, filter(f))).calls.map(c => c.id)
    assert.deepEqual(await ids({}), ['d', 'c', 'b', 'a'], 'newest first')
    assert.deepEqual(await ids({ direction: 'inbound' }), ['d', 'a'])
    assert.deepEqual(await ids({ outcome: 'completed' }), ['c', 'a'])
    assert.deepEqual(await ids({ q: '予約' }), ['a'])
    assert.deepEqual(await ids({ q: '0%' }), ['c'], 'a % in the search is a character, not a wildcard')
    assert.deepEqual(await ids({ q: '_' }), [], 'so is _')
    assert.deepEqual(await ids({ from: new Date('2026-11-02T00:00:00Z'), to: new Date('2026-11-04T00:00:00Z') }), ['c', 'b'])
    const page2 = await listCalls(db, filter({ limit: 3, page: 2 }))
    assert.equal(page2.total, 4)
    assert.deepEqual(page2.calls.map(c => c.id), ['a'])

    const csv = toCsv((await listCalls(db, filter({ direction: 'inbound' }))).calls).split('\r\n')
    assert.match(csv[0]!, /^id,started_at,ended_at,direction,from,to,outcome/)
    assert.equal(csv.length, 4, 'header, two rows, final newline')
    assert.match(csv[1]!, /^d,2026-11-04T03:00:00.000Z,.*,inbound,\+\*{8}0000,,upstream-failure,/)
  })

  test(`${b.name}: purge deletes calls older than the retention with their lines, keeps the rest`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const { w } = writer()
    w.attach(db)
    const now = new Date('2026-11-30T12:00:00Z')
    for (const [id, daysAgo] of [['old', 91], ['edge', 89], ['new', 0]] as const) {
      w.callStarted({ id, startedAt: new Date(now.getTime() - daysAgo * 86_400_000), direction: 'inbound', from: '', to: '', persona: null, model: null })
      w.line({ callId: id, seq: 1, role: 'caller', text: id, atMs: 0 })
      w.tool({ callId: id, seq: 1, name: 'end_call', ok: true, latencyMs: 1, result: 'ok' })
    }
    await w.flush()
    assert.equal(await purgeOlderThan(db, 90, now), 1)
    assert.deepEqual((await listCalls(db, filter())).calls.map(c => c.id).sort(), ['edge', 'new'])
    assert.deepEqual(await db.query("SELECT call_id FROM call_lines WHERE call_id = 'old'"), [])
    assert.deepEqual(await db.query("SELECT call_id FROM call_tools WHERE call_id = 'old'"), [])
    assert.equal(await purgeOlderThan(db, 90, now), 0)
  })

  test(`${b.name}: overview counts calls and cost per day in the viewer's time zone, outcomes and the median time to first audio`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const { w } = writer()
    w.attach(db)
    const now = new Date('2026-11-30T12:00:00Z')
    // 2026-11-29T20:00Z is already the 30th in Japan (UTC+9).
    const rows: Array<[string, string, number, number]> = [['x', '2026-11-29T20:00:00Z', 0.5, 300], ['y', '2026-11-30T01:00:00Z', 0.25, 500], ['z', '2026-11-20T01:00:00Z', 1, 900]]
    for (const [id, at, cost, ttfa] of rows) {
      w.callStarted({ id, startedAt: new Date(at), direction: 'inbound', from: '', to: '', persona: null, model: null })
      w.callEnded(ended(id, { costUsd: cost, timeToFirstAudioMs: ttfa, outcome: id === 'z' ? 'transferred' : 'completed' }))
    }
    await w.flush()
    const o = await overview(db, 30, 540, now)
    assert.equal(o.days.length, 30)
    assert.deepEqual(o.days.at(-1), { day: '2026-11-30', calls: 2, costUsd: 0.75 })
    assert.deepEqual(o.days.find(d => d.day === '2026-11-20'), { day: '2026-11-20', calls: 1, costUsd: 1 })
    assert.equal(o.calls, 3)
    assert.equal(o.costUsd, 1.75)
    assert.deepEqual(o.outcomes, [{ outcome: 'completed', calls: 2 }, { outcome: 'transferred', calls: 1 }])
    assert.equal(o.medianTimeToFirstAudioMs, 500)
    const utc = await overview(db, 30, 0, now)
    assert.equal(utc.days.find(d => d.day === '2026-11-29')?.calls, 1, 'in UTC the first call is on the 29th')
  })

  test(`${b.name}: a failing database costs the writer's callers nothing: failures are counted and reported`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const { w, problems } = writer()
    w.attach(db)
    await db.close()
    assert.doesNotThrow(() => w.callStarted({ id: 'x', startedAt: new Date(), direction: 'inbound', from: '', to: '', persona: null, model: null }))
    w.callEnded(ended('x'))
    await w.flush()
    assert.equal(w.counters.failed, 2)
    assert.equal(w.counters.written, 0)
    w.callStarted({ id: 'y', startedAt: new Date(), direction: 'inbound', from: '', to: '', persona: null, model: null })
    await w.flush()
    assert.equal(w.counters.failed, 3, 'later flushes fail and count too, without throwing')
    assert.deepEqual(problems, ['write-failed', 'write-failed'], 'one report per failed flush (the plugin logs the first)')
  })
}

for (const b of backends) {
  test(`${b.name}: one bad statement does not take its batch with it`, { skip: b.skip }, async (t) => {
    const { db } = await b.open(t)
    await migrate(db)
    const { w, problems } = writer()
    w.attach(db)
    w.callStarted({ id: 'ok1', startedAt: new Date(), direction: 'inbound', from: '', to: '', persona: null, model: null })
    // A line whose call row never made it (its start was dropped): the foreign key refuses it.
    w.line({ callId: 'lost', seq: 1, role: 'caller', text: 'x', atMs: 0 })
    w.line({ callId: 'ok1', seq: 1, role: 'caller', text: 'まだ残る', atMs: 5 })
    await w.flush()
    assert.deepEqual(problems, ['write-failed'])
    assert.equal(w.counters.failed, 1)
    assert.equal(w.counters.written, 2)
    assert.deepEqual((await getCall(db, 'ok1'))?.transcript.map(l => l.text), ['まだ残る'])
  })
}

test('a full queue drops statements and counts them; nothing throws', async () => {
  const problems: string[] = []
  const w = new CallWriter({ storeFullNumbers: false, storeTranscripts: true, maxQueue: 3, onProblem: (what) => problems.push(what) })
  // No database attached: statements wait, up to the bound.
  for (let i = 0; i < 5; i++) w.line({ callId: 'q', seq: i, role: 'caller', text: 'x', atMs: 0 })
  assert.equal(w.queued, 3)
  assert.equal(w.counters.dropped, 2)
  assert.deepEqual(problems, ['queue-full', 'queue-full'])
})

test('filters: every bad parameter is named', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ from: '2026-13-45' }, 'from'], [{ to: 'yesterday' }, 'to'], [{ direction: 'sideways' }, 'direction'],
    [{ outcome: 'great' }, 'outcome'], [{ q: 'x'.repeat(201) }, 'q'], [{ page: '0' }, 'page'], [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'], [{ sort: 'asc' }, 'sort'], [{ direction: ['inbound', 'outbound'] }, 'direction'],
    [{ from: '2026-11-05', to: '2026-11-01' }, 'to']
  ]
  for (const [query, param] of cases) {
    const r = parseFilter(query)
    assert.equal(r.ok, false, JSON.stringify(query))
    if (!r.ok) {
      assert.equal(r.param, param)
      assert.match(r.message, new RegExp(`"${param}"`))
    }
  }
  const ok = parseFilter({ from: '2026-11-01', to: '2026-11-01', direction: 'inbound', q: '予約', page: '2', limit: '10' })
  assert.ok(ok.ok)
  if (ok.ok) {
    assert.equal(ok.value.from?.toISOString(), '2026-11-01T00:00:00.000Z')
    assert.equal(ok.value.to?.toISOString(), '2026-11-02T00:00:00.000Z', 'a day given as "to" includes that day')
  }
})
