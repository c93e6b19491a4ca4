import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv'

/**
 * The official Realtime event schemas (openai/openai-openapi, MIT; a copy of
 * ../shared/openai-realtime kept in test/fixtures so a clone is self-contained).
 * Each event is checked against the schema of its own `type`, not the anyOf
 * union, so a beta-shaped event cannot slip through another branch.
 */
const doc = JSON.parse(readFileSync(new URL('../fixtures/openai-realtime/realtime-schemas.json', import.meta.url), 'utf8')) as { components: { schemas: Record<string, { properties?: { type?: { enum?: string[] } } }> } }
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, logger: false })
ajv.addSchema({ $id: 'oa', components: doc.components })

function byType (prefix: string): Map<string, ValidateFunction> {
  const out = new Map<string, ValidateFunction>()
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (!name.startsWith(prefix) || name === prefix) continue
    for (const t of schema.properties?.type?.enum ?? []) out.set(t, ajv.getSchema(`oa#/components/schemas/${name}`)!)
  }
  return out
}

const client = byType('RealtimeClientEvent')
const server = byType('RealtimeServerEvent')

function check (validators: Map<string, ValidateFunction>, event: unknown): string | null {
  const type = (event as { type?: unknown })?.type
  const validate = typeof type === 'string' ? validators.get(type) : undefined
  if (validate === undefined) return `unknown event type ${JSON.stringify(type)}`
  if (validate(event)) return null
  return `${String(type)}: ${ajv.errorsText(validate.errors)}`
}

/** null when `event` is a valid GA client event, else why not. */
export const checkClientEvent = (event: unknown): string | null => check(client, event)
/** null when `event` is a valid GA server event, else why not. */
export const checkServerEvent = (event: unknown): string | null => check(server, event)
