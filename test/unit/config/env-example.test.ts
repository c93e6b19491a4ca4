import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { configSchema } from '../../../lib/config/schema.js'

const props = configSchema.properties as Record<string, { default?: unknown }>
const example = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8')

test('.env.example lists every setting, and nothing else, with its default', () => {
  const listed = parseEnv(example) as Record<string, string>
  assert.deepEqual(Object.keys(listed).sort(), Object.keys(props).sort())
  for (const [name, value] of Object.entries(listed)) {
    const def = props[name]!.default
    assert.equal(value, def === undefined ? '' : String(def), `${name} in .env.example shows its default`)
  }
})

test('.env.example explains each setting in Japanese and English', () => {
  const lines = example.split('\n')
  for (const name of Object.keys(props)) {
    let i = lines.findIndex(l => l.startsWith(`${name}=`)) - 1
    // Settings of one kind (the API key/secret pair, the prices) share the comment above the first.
    while (i >= 0 && /^[A-Z0-9_]+=/.test(lines[i]!)) i--
    const comments = []
    for (; i >= 0 && lines[i]!.startsWith('#'); i--) comments.push(lines[i]!)
    const block = comments.join('\n')
    assert.match(block, /[ぁ-んァ-ン一-龯]/, `${name}: a Japanese comment`)
    assert.match(block, /[A-Za-z]{3,} [a-z]{2,}/, `${name}: an English comment`)
  }
})
