import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { encodeBase64Into, decodeBase64Into, base64Length, decodedLength } from '../../../lib/realtime/base64-bytes.js'

const LENGTHS = [...Array.from({ length: 40 }, (_, i) => i), 320, 640, 959, 960, 961, 9600, 12799]

test('encodes exactly as Buffer#toString("base64"), at any length', () => {
  for (const n of LENGTHS) {
    const src = randomBytes(n)
    const dst = Buffer.alloc(base64Length(n) + 10, 0x2a)
    const w = encodeBase64Into(src, 0, n, dst, 6)
    assert.equal(w, base64Length(n))
    assert.equal(dst.toString('latin1', 6, 6 + w), src.toString('base64'), `length ${n}`)
    assert.equal(dst[6 + w], 0x2a, 'nothing written past the end')
  }
  // A range inside a larger buffer.
  const big = randomBytes(100)
  const out = Buffer.alloc(200)
  assert.equal(out.toString('latin1', 0, encodeBase64Into(big, 7, 52, out, 0)), big.subarray(7, 52).toString('base64'))
  assert.throws(() => encodeBase64Into(big, 0, 3, out, 1), /even/)
})

test('decodes what Node encodes, padded or not, and base64url', () => {
  for (const n of LENGTHS) {
    const src = randomBytes(n)
    for (const text of [src.toString('base64'), src.toString('base64').replace(/=+$/, ''), src.toString('base64url')]) {
      const b64 = Buffer.from(text, 'latin1')
      const dst = Buffer.alloc(decodedLength(0, b64.length) + 4)
      const w = decodeBase64Into(b64, 0, b64.length, dst, 2)
      assert.ok(dst.subarray(2, 2 + w).equals(src), `length ${n}: ${text.slice(0, 12)}`)
    }
  }
})

test('decoding stops at the first byte that is not base64, as Node does for a padded end', () => {
  const b64 = Buffer.from('AAECAw==junk', 'latin1')
  const dst = Buffer.alloc(16)
  assert.equal(decodeBase64Into(b64, 0, b64.length, dst, 0), 4)
  assert.deepEqual([...dst.subarray(0, 4)], [0, 1, 2, 3])
  assert.equal(decodeBase64Into(Buffer.from('"x"'), 0, 3, dst, 0), 0)
})
