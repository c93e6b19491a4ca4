import { test } from 'node:test'
import assert from 'node:assert/strict'
import { waitFor } from '../../fakes/realtime-server.js'
import { startFakeLine } from '../../fakes/line-api.js'
import { toneMp3 } from '../../helpers/mp3.js'
import { voicemailRig, CALLER, MESSAGE } from '../voicemail/rig.js'

const LINE_TO = 'U0123456789abcdef0123456789abcdef'

function recordPath (ncco: Array<Record<string, any>>): string {
  const u = new URL(String(ncco.find(a => a.action === 'record')!.eventUrl[0]))
  return u.pathname + u.search
}

test('a voicemail reaches the owner on LINE once: the full number as they dial it back, and what the caller said', async (t) => {
  const line = await startFakeLine(t)
  const rig = await voicemailRig(t, { NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: line.token, NOTIFY_LINE_TO: LINE_TO, LINE_API_BASE_URL: line.url }, 503)
  const ncco = await rig.answer({ uuid: 'call-vm-line', from: CALLER })
  const mp3 = toneMp3(1)
  const event = { recording_url: rig.vonage.addRecording(mp3), recording_uuid: 'rec-line', start_time: '2026-12-03T09:00:00Z', end_time: '2026-12-03T09:00:09Z', size: mp3.length, conversation_uuid: 'CON-1' }
  assert.equal((await rig.webhook(recordPath(ncco), event)).statusCode, 204)
  await waitFor(() => line.accepted.length === 1, 15_000, 'the LINE message')
  const text = line.accepted[0]!.messages[0]!.text
  assert.match(text, /留守番電話にメッセージがあります/)
  assert.ok(text.includes('電話番号: 09012345678'), text)
  assert.ok(text.includes(MESSAGE), text)
  // Vonage retries a webhook it thinks was lost: the owner is still told once.
  assert.equal((await rig.webhook(recordPath(ncco), event)).statusCode, 204)
  await waitFor(() => rig.logs.some(l => l.msg === 'recording event for a voicemail already stored: ignored'), 5000, 'the repeat seen')
  let status = await rig.app.notifier.statusFor('call-vm-line')
  for (const until = Date.now() + 5000; status.some(s => s.status !== 'sent') && Date.now() < until;) {
    await new Promise(resolve => setImmediate(resolve))
    status = await rig.app.notifier.statusFor('call-vm-line')
  }
  assert.deepEqual(status.map(s => [s.kind, s.channel, s.status]), [['voicemail', 'line', 'sent']])
  assert.equal(line.accepted.length, 1)
})

test('the day\'s budget running out reaches the owner once that day', async (t) => {
  const line = await startFakeLine(t)
  const rig = await voicemailRig(t, { DAILY_BUDGET_USD: 0.5, NOTIFY_LINE_CHANNEL_ACCESS_TOKEN: line.token, NOTIFY_LINE_TO: LINE_TO, LINE_API_BASE_URL: line.url })
  await rig.app.callStore.db()!.query("INSERT INTO calls (id, started_at, direction, from_masked, to_masked, outcome, cost_usd) VALUES ('earlier', $1, 'inbound', '***5678', '***3332', 'completed', 0.75)", [new Date().toISOString()])
  await rig.answer({ uuid: 'call-budget-a', from: CALLER })
  await rig.answer({ uuid: 'call-budget-b', from: CALLER })
  await waitFor(() => line.accepted.length >= 1, 15_000, 'the budget message')
  const text = line.accepted[0]!.messages[0]!.text
  assert.match(text, /利用額が上限に達しました/)
  assert.match(text, /\$0\.75 \/ 上限: \$0\.50/)
  assert.equal(line.accepted.length, 1, 'once, not per call')
})
