import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closestSetting, editDistance, unknownNames, describeUnknown } from '../../../lib/config/unknown-names.js'

test('edit distance counts a swap of neighbours as one slip', () => {
  assert.equal(editDistance('OPENAI_VOCIE', 'OPENAI_VOICE'), 1)
  assert.equal(editDistance('PORT', 'PORT'), 0)
  assert.equal(editDistance('PROT', 'PORT'), 1)
  assert.equal(editDistance('abc', ''), 3)
})

test('a misspelt name is matched to the setting it was meant to be', () => {
  assert.equal(closestSetting('OPENAI_VOCIE'), 'OPENAI_VOICE')
  assert.equal(closestSetting('OPENAI_MODLE'), 'OPENAI_MODEL')
  assert.equal(closestSetting('openai_voice'), 'OPENAI_VOICE')
  assert.equal(closestSetting('SERVER_ULR'), 'SERVER_URL')
  assert.equal(closestSetting('PATH'), null)
  assert.equal(closestSetting('HOSTNAME'), null)
  assert.equal(closestSetting('COMPLETELY_DIFFERENT'), null)
})

test('.env: every unknown name is reported, with a suggestion when one is close; the environment only when close', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-env-'))
  const file = join(dir, '.env')
  writeFileSync(file, 'OPENAI_API_KEY=sk-x\nOPENAI_VOCIE=cedar\nMY_OWN_THING=1\nENV_FILE=x\n')
  const found = unknownNames({ dotenvPath: file, env: { PATH: '/bin', HOME: '/root', SERVER_ULR: 'x.example', FLY_MACHINE_ID: 'abc', OPENAI_VOICE: 'marin' } })
  const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name)
  assert.deepEqual(found.sort(byName), [
    { name: 'MY_OWN_THING', source: file, suggestion: null },
    { name: 'OPENAI_VOCIE', source: file, suggestion: 'OPENAI_VOICE' },
    { name: 'SERVER_ULR', source: 'environment', suggestion: 'SERVER_URL' }
  ])
  assert.match(describeUnknown(found[1]!), /^OPENAI_VOCIE .*OPENAI_VOICE.*did you mean OPENAI_VOICE\?/)
  assert.deepEqual(unknownNames({ dotenvPath: join(dir, 'missing.env'), env: false }), [])
})
