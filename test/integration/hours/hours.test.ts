import { test } from 'node:test'
import assert from 'node:assert/strict'
import { callRig, conversationRig, assistantPcm24k } from '../../helpers/call-rig.js'
import { build } from '../../helpers/build.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { ConfigError } from '../../../lib/config/schema.js'

const HOURS = { BUSINESS_HOURS: 'mon-fri 09:00-18:00, sat 10:00-14:00', VONAGE_TRANSFER_NUMBER: '+81312345678' }
const jst = (local: string): Date => new Date(`${local}+09:00`)

async function instructionsAt (t: Parameters<typeof callRig>[0], at: Date, env: Record<string, string> = {}): Promise<string> {
  const rig = await callRig(t, { ...HOURS, ...env })
  // The test's clock, injected: the answer webhook reads the hours from it.
  rig.app.hours.setClock(() => at)
  const next = rig.fake.nextConnection()
  await rig.answer({ uuid: `leg-${at.getTime()}` })
  const conn = await next
  await waitFor(() => conn.events.some(e => e.type === 'session.update'), 3000, 'session.update')
  return String((conn.events.find(e => e.type === 'session.update')!.session as { instructions: string }).instructions)
}

test('after hours (a fixed clock): the instructions carry the hours in words and say no one can be transferred', async (t) => {
  const closed = await instructionsAt(t, jst('2026-12-05T20:00:00'))
  assert.match(closed, /営業時間 \/ business hours: 平日は9時から18時まで、土曜は10時から14時まで。日曜、祝日はお休みです/)
  assert.match(closed, /ただいま営業時間外です。担当者への転送はできません。/)
  const open = await instructionsAt(t, jst('2026-12-03T10:00:00'))
  assert.match(open, /平日は9時から18時まで/)
  assert.doesNotMatch(open, /営業時間外/)
})

test('a public holiday is closed (文化の日, a Tuesday), unless CLOSED_ON_HOLIDAYS=false', async (t) => {
  const holiday = await instructionsAt(t, jst('2026-11-03T10:00:00'))
  assert.match(holiday, /本日は祝日（文化の日）のため休業です。担当者への転送はできません。/)
  const working = await instructionsAt(t, jst('2026-11-03T10:00:00'), { CLOSED_ON_HOLIDAYS: 'false' })
  assert.doesNotMatch(working, /休業/)
})

test('after hours no staff phone rings: transfer_call is refused with the hours, and the model takes a message', async (t) => {
  const rig = await conversationRig(t, HOURS)
  rig.app.hours.setClock(() => jst('2026-12-06T11:00:00')) // a Sunday
  await rig.fake.functionCall(rig.conn, { name: 'transfer_call', arguments: JSON.stringify({ briefing: '田中様からのお問い合わせです。' }), say: assistantPcm24k.subarray(0, 4800) })
  await waitFor(() => rig.outputs().length === 1, 5000, 'the refusal')
  const out = rig.outputs()[0]!.parsed
  assert.equal(out.error, 'closed')
  assert.match(out.message, /担当者への転送はできません。.*平日は9時から18時まで.*伝言/)
  assert.equal(rig.vonage.requests.length, 0, 'no POST /v1/calls, no PUT')
  assert.equal(rig.app.bridge.sessions.get(rig.uuid)?.ended, false)
  await waitFor(() => rig.responseCreates().length >= 2, 3000, 'the model asked to answer')
})

test('a bad BUSINESS_HOURS stops startup with a message naming the setting and the part', async (t) => {
  await assert.rejects(build(t, { BUSINESS_HOURS: 'mon-fri 09:00-18:00, satu 10:00-14:00' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.equal(err.problems.length, 1)
    assert.match(err.problems[0]!, /^BUSINESS_HOURS: could not read the days "satu" in "satu 10:00-14:00"/)
    return true
  })
  await assert.rejects(build(t, { CLOSED_DATES: '12-29..01-33' }), /CLOSED_DATES: could not read "12-29\.\.01-33"/)
  await assert.rejects(build(t, { TIMEZONE: 'Tokyo' }), /TIMEZONE is not a time zone/)
})
