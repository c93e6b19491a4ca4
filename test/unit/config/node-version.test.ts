import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const root = new URL('../../../', import.meta.url)
const pinned = readFileSync(new URL('.node-version', root), 'utf8').trim()

test('.node-version is one exact Node 26 version, and the image is built FROM exactly it', () => {
  assert.match(pinned, /^26\.\d+\.\d+$/)
  const froms = readFileSync(new URL('Dockerfile', root), 'utf8').split('\n').filter(l => /^FROM\s/i.test(l))
  assert.ok(froms.length >= 2)
  for (const f of froms) assert.match(f, new RegExp(`^FROM node:${pinned.replaceAll('.', '\\.')}-bookworm-slim\\b`), f)
})

test('engines says what the code needs (Node 24 or later), and the pinned Node satisfies it', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } }
  assert.equal(pkg.engines.node, '>=24.0.0')
  assert.ok(Number(pinned.split('.')[0]) >= 24)
})

test('CI runs on the pinned Node (.ci/run installs it when the machine\'s differs)', { skip: process.env.CI === undefined ? 'not in CI' : false }, () => {
  assert.equal(process.version, `v${pinned}`)
})
