import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build } from '../../helpers/build.js'
import { DEFAULT_PERSONA } from '../../../lib/config/persona.js'

test('system-message.txt wins when it has text', async (t) => {
  const { app, logs } = await build(t, { SYSTEM_MESSAGE_PATH: './test/fixtures/persona.txt' })
  assert.equal(app.persona.source, 'file')
  assert.equal(app.persona.text, 'あなたはテスト用のペルソナ「テスト君」です。')
  assert.ok(logs.some(l => l.persona === 'file' && l.msg === 'persona loaded from file'))
})

test('a missing file falls back to the built-in チャッピー', async (t) => {
  const { app, logs } = await build(t, { SYSTEM_MESSAGE_PATH: './test/fixtures/missing.txt' })
  assert.equal(app.persona.source, 'default')
  assert.equal(app.persona.text, DEFAULT_PERSONA)
  assert.match(app.persona.text, /チャッピー/)
  assert.ok(logs.some(l => l.persona === 'default'))
})

test('a blank file falls back to the built-in チャッピー', async (t) => {
  const { app } = await build(t, { SYSTEM_MESSAGE_PATH: './test/fixtures/persona-blank.txt' })
  assert.equal(app.persona.source, 'default')
})

test('the shipped system-message.txt is used by default', async (t) => {
  const { app } = await build(t, { SYSTEM_MESSAGE_PATH: './system-message.txt' })
  assert.equal(app.persona.source, 'file')
  assert.match(app.persona.text, /チャッピー/)
})
