import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deriveTokenKey, signToken, verifyToken } from '../../../lib/security/tokens.js'

const key = deriveTokenKey('', 'sk-test-key', 'media')

test('a token verifies with its key and carries its payload', () => {
  const token = signToken({ exp: 2000, call: 'uuid-1' }, key)
  assert.deepEqual(verifyToken(token, key, 1000), { ok: true, payload: { exp: 2000, call: 'uuid-1' } })
})

test('expired, tampered, foreign-key and junk tokens are refused', () => {
  const token = signToken({ exp: 2000, call: 'uuid-1' }, key)
  assert.deepEqual(verifyToken(token, key, 2001), { ok: false, reason: 'expired' })
  const [body, mac] = token.split('.')
  const forged = Buffer.from(JSON.stringify({ exp: 2000, call: 'uuid-2' })).toString('base64url')
  assert.equal(verifyToken(`${forged}.${mac}`, key, 1000).ok, false)
  assert.equal(verifyToken(`${body}.${mac!.slice(0, -2)}`, key, 1000).ok, false)
  assert.deepEqual(verifyToken(token, deriveTokenKey('other', 'sk-test-key', 'media'), 1000), { ok: false, reason: 'bad-signature' })
  for (const junk of ['', '.', 'abc', 'a.b.c', `${body}.`]) assert.equal(verifyToken(junk, key, 1000).ok, false, junk)
})

test('keys differ by purpose and by secret, and MEDIA_TOKEN_SECRET wins', () => {
  assert.notDeepEqual(deriveTokenKey('', 'sk-a', 'media'), deriveTokenKey('', 'sk-a', 'outbound-context'))
  assert.notDeepEqual(deriveTokenKey('', 'sk-a', 'media'), deriveTokenKey('', 'sk-b', 'media'))
  assert.deepEqual(deriveTokenKey('shared', 'sk-a', 'media'), deriveTokenKey('shared', 'sk-b', 'media'))
})
