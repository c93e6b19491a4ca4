import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { configSchema } from '../../../lib/config/schema.js'
import { renderSettingsDoc, type SettingSchema } from '../../../lib/config/settings-doc.js'

const properties = configSchema.properties as Record<string, SettingSchema>
const envExample = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8')
const doc = readFileSync(new URL('../../../docs/settings.md', import.meta.url), 'utf8')
const real = renderSettingsDoc({ properties, required: configSchema.required, envExample })

/** The rows of one language's tables: name → [default, description]. */
function rows (markdown: string, lang: 'ja' | 'en'): Map<string, [string, string]> {
  const [ja = '', en = ''] = markdown.split(/^## English$/m)
  const out = new Map<string, [string, string]>()
  for (const m of (lang === 'ja' ? ja : en).matchAll(/^\| `([A-Z0-9_]+)` \| (.*?) \| (.*?) \|$/gm)) out.set(m[1]!, [m[2]!, m[3]!]) // no group is optional
  return out
}

test('docs/settings.md is what npm run docs:settings writes from the schema and .env.example', () => {
  assert.deepEqual(real.problems, [], 'fix .env.example or lib/config/schema.ts, then run npm run docs:settings')
  assert.ok(doc === real.markdown, 'docs/settings.md is out of date: run npm run docs:settings')
})

test('every setting has a row in each language, every cell filled in that language', () => {
  for (const lang of ['ja', 'en'] as const) {
    const table = rows(doc, lang)
    assert.deepEqual([...table.keys()].sort(), Object.keys(properties).sort(), `${lang}: one row per setting`)
    for (const [name, [def, text]] of table) {
      assert.notEqual(def, '', `${lang}: ${name} shows its default`)
      assert.notEqual(text.trim(), '', `${lang}: ${name} has a description`)
      const japanese = /[\u3040-\u309f\u3400-\u9fff]/.test(text)
      if (lang === 'ja') assert.ok(japanese, `ja: ${name} is described in Japanese: ${text}`)
      else assert.ok(!japanese, `en: ${name} is described in English: ${text}`)
    }
  }
})

test('a setting whose .env.example comment has no Japanese line is reported, and its cell is not left silently empty', () => {
  const example = '# ===== サーバー / Server =====\n# TCP port to listen on\nPORT=3000\n'
  const { problems } = renderSettingsDoc({ properties: { PORT: properties.PORT! }, required: [], envExample: example })
  assert.deepEqual(problems, ['PORT has no Japanese comment in .env.example'])
})

test('a setting missing from .env.example, or only there, is reported', () => {
  const example = '# ===== サーバー / Server =====\n# 待ち受けポート / TCP port\nPORT=3000\n# 謎 / Mystery\nNOT_A_SETTING=1\n'
  const { problems, markdown } = renderSettingsDoc({ properties: { PORT: properties.PORT!, HOST: properties.HOST! }, required: [], envExample: example })
  assert.deepEqual(problems.sort(), [
    'HOST has no Japanese comment in .env.example',
    'HOST is in lib/config/schema.ts but not in .env.example',
    'NOT_A_SETTING is in .env.example but not in lib/config/schema.ts'
  ])
  assert.match(markdown, /^\| `HOST` \| `0\.0\.0\.0` \| +\|$/m, 'still listed, under その他 / Other')
})

test('comments are read in both layouts: "日本語 / English" on one line, or a Japanese line then an English line; a run of settings shares the comment above it', () => {
  const example = [
    '# ===== 記録 / Records =====',
    '# 料金（USD）/ Cost, USD per 1M tokens',
    'PRICE_AUDIO_INPUT_PER_1M=32',
    'PRICE_AUDIO_OUTPUT_PER_1M=64',
    '# 挨拶の言語',
    '# Greeting language, ja-JP or en-US / en-GB',
    'GREETING_LANGUAGE=ja-JP'
  ].join('\n')
  const props = { PRICE_AUDIO_INPUT_PER_1M: {}, PRICE_AUDIO_OUTPUT_PER_1M: {}, GREETING_LANGUAGE: {} }
  const { markdown, problems } = renderSettingsDoc({ properties: props, required: [], envExample: example })
  assert.deepEqual(problems, [])
  const ja = rows(markdown, 'ja')
  const en = rows(markdown, 'en')
  assert.equal(ja.get('PRICE_AUDIO_OUTPUT_PER_1M')?.[1], '料金（USD）')
  assert.equal(en.get('PRICE_AUDIO_OUTPUT_PER_1M')?.[1], 'Cost, USD per 1M tokens')
  assert.equal(ja.get('GREETING_LANGUAGE')?.[1], '挨拶の言語')
  assert.equal(en.get('GREETING_LANGUAGE')?.[1], 'Greeting language, ja-JP or en-US / en-GB')
  assert.match(markdown, /^### 記録$/m)
  assert.match(markdown, /^### Records$/m)
})
