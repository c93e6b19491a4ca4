import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseRange } from '../../../lib/voicemail/range.js'

test('byte ranges of a voicemail', () => {
  assert.deepEqual(parseRange(undefined, 1000), { kind: 'all' })
  assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'part', start: 0, end: 99 })
  assert.deepEqual(parseRange('bytes=900-', 1000), { kind: 'part', start: 900, end: 999 })
  assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'part', start: 900, end: 999 })
  assert.deepEqual(parseRange('bytes=500-5000', 1000), { kind: 'part', start: 500, end: 999 })
  assert.deepEqual(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' })
  assert.deepEqual(parseRange('bytes=5-1', 1000), { kind: 'unsatisfiable' })
  assert.deepEqual(parseRange('bytes=0-1,5-6', 1000), { kind: 'all' }, 'several ranges: the whole file')
  assert.deepEqual(parseRange('items=0-1', 1000), { kind: 'all' })
})
