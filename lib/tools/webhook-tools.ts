import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject } from 'ajv'
import { postSigned } from '../security/hmac.js'
import { TOOL_NAME_RE } from './registry.js'
import { ToolError, type JsonSchemaObject, type ToolDefinition } from './types.js'

/** One tool of tools.json: declared here, run by the operator's webhook. */
export interface CustomToolSpec {
  name: string
  description: string
  parameters: JsonSchemaObject
  timeoutMs?: number
}

/** The shape of tools.json, checked at startup. */
export const toolsFileSchema = {
  type: 'object',
  required: ['tools'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    $comment: { type: 'string' },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'description', 'parameters'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: TOOL_NAME_RE.source },
          description: { type: 'string', minLength: 1 },
          parameters: {
            type: 'object',
            required: ['type'],
            properties: { type: { const: 'object' } }
          },
          timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 }
        }
      }
    }
  }
} as const

export class ToolsFileError extends Error {
  constructor (readonly file: string, readonly problems: string[]) {
    super(`${file}: ${problems.join('; ')}`)
    this.name = 'ToolsFileError'
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false })
const validateFile = ajv.compile(toolsFileSchema)

/** "/tools/1/parameters/type" → 'tools[1] ("lookup").parameters.type' */
function where (path: string, doc: { tools?: Array<{ name?: unknown }> }): string {
  const parts = path.split('/').filter(p => p !== '')
  if (parts.length === 0) return 'the file'
  let out = parts[0]!
  let i = 1
  if (parts[0] === 'tools' && parts[1] !== undefined && /^\d+$/.test(parts[1])) {
    const n = Number(parts[1])
    const name = doc.tools?.[n]?.name
    out = `tools[${n}]${typeof name === 'string' && name !== '' ? ` (${JSON.stringify(name)})` : ''}`
    i = 2
  }
  for (; i < parts.length; i++) out += /^\d+$/.test(parts[i]!) ? `[${parts[i]}]` : `.${parts[i]}`
  return out
}

function describe (e: ErrorObject, doc: { tools?: Array<{ name?: unknown }> }): string {
  const at = where(e.instancePath, doc)
  switch (e.keyword) {
    case 'required': return `${at} lacks "${String(e.params.missingProperty)}"`
    case 'additionalProperties': return `${at} has an unknown field "${String(e.params.additionalProperty)}" (allowed: ${at === 'the file' ? '$schema, tools' : 'name, description, parameters, timeoutMs'})`
    case 'pattern': return `${at} must be 1-64 letters, digits, _ or -`
    case 'const': return `${at} must be "object" (the arguments are always a JSON object)`
    case 'minLength': return `${at} must not be empty`
    default: return `${at} ${e.message ?? 'is invalid'}`
  }
}

/**
 * Reads and checks tools.json. Returns null when the file does not exist;
 * throws ToolsFileError listing every problem (bad JSON, wrong shape, a
 * duplicate or reserved name, a parameters schema that does not compile).
 */
export function loadToolsFile (file: string, reserved: readonly string[] = []): CustomToolSpec[] | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new ToolsFileError(file, [`cannot be read (${(err as Error).message})`])
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new ToolsFileError(file, [`is not valid JSON (${(err as Error).message})`])
  }
  if (!validateFile(doc)) {
    const d = (doc !== null && typeof doc === 'object' ? doc : {}) as { tools?: Array<{ name?: unknown }> }
    throw new ToolsFileError(file, [...new Set((validateFile.errors ?? []).map(e => describe(e, d)))])
  }
  const specs = (doc as { tools: CustomToolSpec[] }).tools
  const problems: string[] = []
  const seen = new Set<string>()
  specs.forEach((spec, i) => {
    const at = `tools[${i}] (${JSON.stringify(spec.name)})`
    if (reserved.includes(spec.name)) problems.push(`${at}: "${spec.name}" is a built-in tool; choose another name`)
    else if (seen.has(spec.name)) problems.push(`${at}: the name is used twice`)
    seen.add(spec.name)
    try {
      ajv.compile(spec.parameters)
    } catch (err) {
      problems.push(`${at}.parameters is not a valid JSON Schema (${(err as Error).message})`)
    }
  })
  if (problems.length > 0) throw new ToolsFileError(file, problems)
  return specs
}

export interface WebhookToolOptions {
  url: string
  key: Buffer
}

/**
 * A tools.json tool: POSTs `{call, name, arguments, call_id, timestamp}` to
 * TOOLS_WEBHOOK_URL, signed; the JSON reply is the output.
 */
export function webhookTool (spec: CustomToolSpec, o: WebhookToolOptions): ToolDefinition {
  return {
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters,
    timeoutMs: spec.timeoutMs,
    async handler (args, ctx) {
      const { id, direction, from, to, extra } = ctx.call
      const body = JSON.stringify({
        call: { id, direction, from: from ?? '', to: to ?? '', ...(extra !== undefined ? { context: extra } : {}) },
        name: spec.name,
        arguments: args,
        call_id: ctx.toolCallId,
        timestamp: Math.floor(Date.now() / 1000)
      })
      let res
      try {
        res = await postSigned(o.url, body, o.key, ctx.signal)
      } catch (err) {
        if (ctx.signal.aborted) throw err
        throw new ToolError('tool_service_unreachable', `The tool service could not be reached (${(err as Error).message}). Tell the caller it cannot be done right now.`)
      }
      let value: unknown
      const text = res.text.trim()
      if (text !== '') {
        try {
          value = JSON.parse(text)
        } catch {
          throw new ToolError('tool_service_bad_reply', `The tool service answered HTTP ${res.status} without JSON.`)
        }
      }
      if (res.status < 200 || res.status > 299) {
        const said = value as { error?: unknown, message?: unknown } | undefined
        const detail = typeof said?.message === 'string' ? said.message : typeof said?.error === 'string' ? said.error : ''
        throw new ToolError('tool_service_error', `The tool service answered HTTP ${res.status}${detail !== '' ? `: ${detail.slice(0, 300)}` : ''}.`)
      }
      return value === undefined ? { ok: true } : value as Record<string, unknown>
    }
  }
}
