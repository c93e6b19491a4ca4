import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('../../../', import.meta.url).pathname

function files (dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap(name => {
    const rel = join(dir, name)
    return statSync(join(root, rel)).isDirectory() ? files(rel) : rel.endsWith('.ts') ? [rel] : []
  })
}

const sources = ['lib', 'plugins', 'routes'].flatMap(files).map(f => ({ f, text: readFileSync(join(root, f), 'utf8') }))

test('the server reaches into no private field of ws, net or Node, and sets no WebSocket mask of its own', () => {
  for (const { f, text } of sources) {
    for (const bad of [/\._socket\b/, /\._receiver\b/, /\._sender\b/, /\._handle\b/, /\bgenerateMask\b/, /\breadStop\b/]) {
      assert.doesNotMatch(text, bad, `${f} uses ${String(bad)}`)
    }
  }
})

test('no file of lib/call, lib/realtime, lib/audio or the call plugins is over 300 lines', () => {
  for (const { f, text } of sources) {
    if (!/^(lib\/(call|realtime|audio|tools)\/|plugins\/(bridge|tools|dtmf|softphone|call-records|calls)\.ts|routes\/media\.ts)/.test(f)) continue
    assert.ok(text.split('\n').length <= 301, `${f}: ${text.split('\n').length} lines`)
  }
})
