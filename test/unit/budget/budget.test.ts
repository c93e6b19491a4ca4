import { test } from 'node:test'
import assert from 'node:assert/strict'
import { localDay, zoneOffsetMinutes } from '../../../lib/budget/day.js'
import { budgetReachedText } from '../../../lib/budget/message.js'
import { DailyBudget } from '../../../lib/budget/daily-budget.js'

test('the day in Tokyo and its bounds in UTC', () => {
  assert.deepEqual(localDay('Asia/Tokyo', new Date('2026-12-03T14:59:59Z')), { day: '2026-12-03', startUtc: '2026-12-02T15:00:00.000Z', endUtc: '2026-12-03T15:00:00.000Z' })
  assert.equal(localDay('Asia/Tokyo', new Date('2026-12-03T15:00:00Z')).day, '2026-12-04')
  assert.equal(zoneOffsetMinutes('Asia/Tokyo', new Date()), 540)
})

test('a daylight-saving day is 23 hours long', () => {
  const d = localDay('America/New_York', new Date('2026-03-08T12:00:00Z'))
  assert.equal(d.day, '2026-03-08')
  assert.equal(d.startUtc, '2026-03-08T05:00:00.000Z')
  assert.equal(d.endUtc, '2026-03-09T04:00:00.000Z')
})

test('budget: calls this process saw end (no store) and calls in progress; told once a day', async () => {
  let live = 0
  const budget = new DailyBudget({ budgetUsd: 1, timeZone: 'Asia/Tokyo', db: () => null, live: () => live, log: { warn: () => {}, info: () => {} } })
  const told: unknown[] = []
  budget.on('reached', e => told.push(e))
  const now = new Date('2026-12-03T03:00:00Z')
  budget.callEnded(0.6, now)
  assert.equal(await budget.reached(now), false)
  live = 0.5
  assert.equal(await budget.reached(now), true)
  assert.equal(await budget.reached(now), true)
  assert.deepEqual(told, [{ day: '2026-12-03', spentUsd: 1.1, budgetUsd: 1 }])
  live = 0
  const tomorrow = new Date('2026-12-03T15:30:00Z')
  assert.equal(await budget.reached(tomorrow), false, 'a new day starts from nothing')
})

test('no budget: never reached', async () => {
  const budget = new DailyBudget({ budgetUsd: 0, timeZone: 'Asia/Tokyo', db: () => null, live: () => 1000, log: { warn: () => {}, info: () => {} } })
  assert.equal(await budget.reached(), false)
})

test('the owner\'s budget message', () => {
  assert.equal(budgetReachedText({ day: '2026-12-03', spentUsd: 5.123, budgetUsd: 5 }), [
    '【AI電話】本日（12月3日）の利用額が上限に達しました。',
    '利用額（概算）: $5.12 / 上限: $5.00',
    'これ以降のお電話はAIが応答せず、お詫びのあと留守番電話でメッセージをお預かりします。',
    '上限は DAILY_BUDGET_USD で変更できます。日付が変わると自動で元に戻ります。'
  ].join('\n'))
})
