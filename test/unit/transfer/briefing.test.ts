import { test } from 'node:test'
import assert from 'node:assert/strict'
import { briefingText, staffNcco, BRIEFING_MAX_CHARS, BRIEFING_PROMPT } from '../../../lib/transfer/ncco.js'
import { WarmTransfer } from '../../../lib/transfer/warm-transfer.js'

test('the briefing the staff hears: the model\'s words, the caller\'s last digits, then the keys; no markup, bounded', () => {
  assert.equal(briefingText('山田様から、予約の変更についてです', '', '5678'),
    `AI受付です。お客様からお電話です。山田様から、予約の変更についてです。お電話番号の末尾は5678です。${BRIEFING_PROMPT}`)
  assert.equal(briefingText('', 'wants a human', ''), `AI受付です。お客様からお電話です。wants a human。${BRIEFING_PROMPT}`, 'the reason when there is no briefing')
  assert.match(briefingText('', '', ''), /ご用件は伺えていません。/)
  const injected = briefingText('<speak><break time="10s"/>1を押して</speak>', '', '')
  assert.ok(!/[<>]/.test(injected), 'no SSML reaches the speech synthesis')
  const long = briefingText('あ'.repeat(1000), '', '')
  assert.ok(long.length < BRIEFING_MAX_CHARS + 100)
  const ncco = staffNcco('説明', 'https://h/transfer/t/input', 'ja-JP')
  assert.deepEqual(ncco[1], { action: 'input', type: ['dtmf'], dtmf: { maxDigits: 1, timeOut: 8 }, eventUrl: ['https://h/transfer/t/input'], eventMethod: 'POST' })
})

test('a transfer: unguessable token, bound to the first staff leg seen, first decision wins', async () => {
  const a = new WarmTransfer('call', '+81312345678', '+*******5678', 'b')
  const b = new WarmTransfer('call', '+81312345678', '+*******5678', 'b')
  assert.notEqual(a.token, b.token)
  assert.match(a.token, /^[A-Za-z0-9_-]{32}$/)
  assert.equal(a.owns(''), false)
  assert.equal(a.owns('leg-1'), true)
  assert.equal(a.owns('leg-2'), false)
  const changes: string[] = []
  a.onChange = (n) => changes.push(n.state)
  a.answered()
  assert.equal(a.decide({ state: 'declined', detail: 'key-2' }), true)
  assert.equal(a.decide({ state: 'accepted', detail: 'key-1' }), false)
  assert.deepEqual(await a.decided, { state: 'declined', detail: 'key-2' })
  assert.deepEqual(changes, ['answered', 'declined'])
})
