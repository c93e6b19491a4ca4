import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countryCode, destinationAllowed, parsePrefixes } from '../../../lib/security/dial-prefixes.js'
import { ReplayGuard } from '../../../lib/security/replay-guard.js'

test('country codes of E.164 numbers (1, 2 and 3 digits)', () => {
  assert.equal(countryCode('+815012345678'), '+81')
  assert.equal(countryCode('+12025550123'), '+1')
  assert.equal(countryCode('+74951234567'), '+7')
  assert.equal(countryCode('+447700900123'), '+44')
  assert.equal(countryCode('+8613812345678'), '+86')
  assert.equal(countryCode('+85212345678'), '+852')
  assert.equal(countryCode('+35312345678'), '+353')
  assert.equal(countryCode('815012345678'), '', 'not E.164')
  assert.equal(countryCode(''), '')
})

test('allowed prefixes: comma list, * for anywhere, malformed entries named', () => {
  assert.deepEqual(parsePrefixes(' +81, +8150 ,*'), { prefixes: ['+81', '+8150', '*'], problems: [] })
  assert.equal(parsePrefixes('81,+1').problems.length, 1)
  assert.match(parsePrefixes('+81x').problems[0]!, /CONNECT_ALLOWED_PREFIXES has a malformed entry \("\+81x"\)/)
  assert.equal(destinationAllowed('+815012345678', ['+81']), true)
  assert.equal(destinationAllowed('+447700900123', ['+81']), false)
  assert.equal(destinationAllowed('+447700900123', ['*']), true)
  assert.equal(destinationAllowed('+815012345678', []), false, 'nothing allowed when nothing is known')
})

test('replay guard: an id is accepted once until it expires', () => {
  const g = new ReplayGuard()
  assert.equal(g.use('a', 2000, 1000), true)
  assert.equal(g.use('a', 2000, 1500), false)
  assert.equal(g.has('a', 1999), true)
  assert.equal(g.use('a', 9000, 2001), true, 'an expired id is forgotten (its token is refused as expired anyway)')
  g.use('b', 100, 50)
  g.use('c', 10_000_000, ReplayGuard.SWEEP_MS * 3)
  assert.equal(g.size, 1, 'expired ids are swept')
  assert.equal(g.has('c', ReplayGuard.SWEEP_MS * 3), true)
})
