import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { waitFor } from '../../fakes/realtime-server.js'
import { conversationRig, settled } from '../../helpers/call-rig.js'

function userMessages (events: Array<{ type: string, [k: string]: unknown }>): Array<{ index: number, text: string }> {
  return events.flatMap((e, index) => {
    const item = e.item as { type?: string, role?: string, content?: Array<{ type: string, text?: string }> } | undefined
    if (e.type !== 'conversation.item.create' || item?.type !== 'message' || item.role !== 'user') return []
    return [{ index, text: item.content?.find(c => c.type === 'input_text')?.text ?? '' }]
  })
}

test('a keypad press reaches the model as a short user message, then a response request', async (t) => {
  // Paced answers (400 ms), so the later presses arrive while one plays.
  const rig = await conversationRig(t, {}, { burst: false })
  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const creates = rig.responseCreates().length
  const frames = rig.media.frames.length
  rig.media.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit: '1', duration: 260 }))
  await waitFor(() => userMessages(rig.conn.events).length === 1 && rig.responseCreates().length === creates + 1, 2000, 'the DTMF message and response.create')
  const [msg] = userMessages(rig.conn.events)
  assert.equal(msg!.text, '発信者がキーパッドの 1 を押しました (the caller pressed 1)')
  assert.ok(rig.responseCreates().at(-1)! > msg!.index)
  // Its answer plays; presses during it wait for it and are answered together.
  await waitFor(() => rig.media.frames.length > frames + 2, 3000, 'the answer playing')
  for (const digit of ['#', '*']) rig.media.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit, duration: 100 }))
  rig.media.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit: '<script>', duration: 100 }))
  await waitFor(() => userMessages(rig.conn.events).length === 2, 2000, 'one more message for the two presses typed together')
  assert.equal(userMessages(rig.conn.events)[1]!.text, '発信者がキーパッドで #、* の順に押しました (the caller pressed #, *)', 'junk is not passed on')
  await waitFor(() => rig.responseCreates().length === creates + 2, 3000, 'one more response')
  await settled(session, rig.conn)
  assert.equal(rig.responseCreates().length, creates + 2)
  assert.ok(!rig.logs.some(l => l.msg === 'realtime error event'))
  assert.deepEqual(rig.conn.invalid, [])
  assert.ok(!JSON.stringify(rig.logs).includes('キーパッド'), 'digits are not logged')
  await rig.media.close()
  await waitFor(() => rig.logs.some(l => l.msg === 'call record'), 2000)
  assert.equal((rig.logs.find(l => l.msg === 'call record')!.record as { dtmfCount: number }).dtmfCount, 3)
})

test('DTMF_TO_MODEL=false keeps keypad presses from the model', async (t) => {
  const rig = await conversationRig(t, { DTMF_TO_MODEL: false })
  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const creates = rig.responseCreates().length
  const pressed = once(session, 'dtmf')
  rig.media.sendRaw(JSON.stringify({ event: 'websocket:dtmf', digit: '5', duration: 260 }))
  await pressed
  await settled(session, rig.conn)
  assert.equal(userMessages(rig.conn.events).length, 0)
  assert.equal(rig.responseCreates().length, creates)
})

test('a burst of 300 presses becomes one short message of at most 10 presses, and one response (issue #21)', async (t) => {
  const rig = await conversationRig(t)
  const session = rig.app.bridge.sessions.get(rig.uuid)!
  const items = rig.conn.events.filter(e => e.type === 'conversation.item.create').length
  const creates = rig.responseCreates().length
  const burst = Array.from({ length: 300 }, (_, i) => JSON.stringify({ event: 'websocket:dtmf', digit: String(i % 10), duration: 10 }))
  for (const m of burst) rig.media.sendRaw(m)
  await waitFor(() => userMessages(rig.conn.events).length === 1 && rig.responseCreates().length === creates + 1, 3000, 'the burst\'s message and response')
  await settled(session, rig.conn)
  const added = rig.conn.events.filter(e => e.type === 'conversation.item.create').length - items
  assert.equal(added, 1, 'one conversation item for 300 presses')
  assert.equal(rig.responseCreates().length, creates + 1)
  const text = userMessages(rig.conn.events)[0]!.text
  assert.equal(text, '発信者がキーパッドで 0、1、2、3、4、5、6、7、8、9 の順に押しました (the caller pressed 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)（ほかに 290 回の押下は多すぎるため省きました / 290 more presses were too many and left out）')
  assert.ok(text.length < 200, 'a short message')
  assert.ok(rig.logs.some(l => l.msg === 'keypad presses over the limit were not passed to the model' && l.dropped === 290))
})
