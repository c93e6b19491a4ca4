import { test } from 'node:test'
import assert from 'node:assert/strict'
import { voicemailText, jaTime } from '../../../lib/voicemail/message.js'

const base = { callId: 'c1', from: '819012345678', to: '815031023332', transcript: '山田です。折り返しお願いします。', durationSec: 14, reason: 'unavailable' as const, at: '2026-12-03T09:05:00.000Z' }

test('the owner\'s voicemail message: who (the notifier\'s number slot), what they said, when (in the business\'s zone)', () => {
  const text = voicemailText(base, 'Asia/Tokyo')
  assert.equal(text, [
    '【AI電話】留守番電話にメッセージがあります。',
    '日時: 12月3日 18:05（14秒）',
    '電話番号: {number}',
    '内容: 「山田です。折り返しお願いします。」',
    '（AIに接続できなかったため、留守番電話でお預かりしました）'
  ].join('\n'))
})

test('no transcript, an anonymous caller, a console link, the budget reason', () => {
  const text = voicemailText({ ...base, from: '', transcript: '', reason: 'budget' }, 'Asia/Tokyo', 'https://shop.example/console#/calls/c1')
  assert.match(text, /電話番号: 番号非通知/)
  assert.match(text, /文字起こしできませんでした。録音をお聞きください/)
  assert.match(text, /本日の利用上限に達していたため/)
  assert.match(text, /詳細: https:\/\/shop\.example\/console#\/calls\/c1$/)
})

test('times in the business\'s zone', () => {
  assert.equal(jaTime('2026-12-31T15:30:00Z', 'Asia/Tokyo'), '1月1日 00:30')
})
