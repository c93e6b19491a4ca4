// npm run docs:settings — writes docs/settings.md from lib/config/schema.ts and .env.example.
// npm run docs:settings -- --check — exits 1 when docs/settings.md is out of date (writes nothing).
import { readFileSync, writeFileSync } from 'node:fs'
import { configSchema } from '../lib/config/schema.js'
import { renderSettingsDoc, type SettingSchema } from '../lib/config/settings-doc.js'

const DOC = new URL('../docs/settings.md', import.meta.url)
const check = process.argv.includes('--check')
const { markdown, problems } = renderSettingsDoc({
  properties: configSchema.properties as Record<string, SettingSchema>,
  required: configSchema.required,
  envExample: readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
})
for (const p of problems) console.error(`settings: ${p}`)
if (check) {
  let current = ''
  try { current = readFileSync(DOC, 'utf8') } catch {}
  if (current !== markdown) {
    console.error('docs/settings.md is out of date: run npm run docs:settings')
    process.exitCode = 1
  }
} else {
  writeFileSync(DOC, markdown)
  console.log(`wrote docs/settings.md (${Object.keys(configSchema.properties).length} settings)`)
}
if (problems.length > 0) process.exitCode = 1
