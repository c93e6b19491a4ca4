import { Ajv, type ValidateFunction } from 'ajv'
import type { FunctionToolSpec, ToolDefinition } from './types.js'

/** What the Realtime API accepts as a function name. */
export const TOOL_NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/

interface Entry {
  tool: ToolDefinition<any>
  validate: ValidateFunction
}

/**
 * The tools of this server. Every tool added is also appended to `specs`, the
 * array the bridge merges into each session.update, so the model is offered
 * exactly what can be run.
 */
export class ToolRegistry {
  readonly #tools = new Map<string, Entry>()
  // Tool schemas are written for OpenAI, not for Ajv's strict mode; formats are hints to the model.
  readonly #ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false })

  constructor (readonly specs: unknown[] = []) {}

  /** Throws when the name is taken or invalid, or the schema does not compile. */
  add (tool: ToolDefinition<any>): void {
    const problem = checkDefinition(tool)
    if (problem !== null) throw new Error(`tool ${JSON.stringify(tool.name)}: ${problem}`)
    if (this.#tools.has(tool.name)) throw new Error(`tool ${JSON.stringify(tool.name)} is defined twice`)
    let validate: ValidateFunction
    try {
      validate = this.#ajv.compile(tool.parameters)
    } catch (err) {
      throw new Error(`tool ${JSON.stringify(tool.name)}: parameters is not a valid JSON Schema: ${(err as Error).message}`)
    }
    this.#tools.set(tool.name, { tool, validate })
    const spec: FunctionToolSpec = { type: 'function', name: tool.name, description: tool.description, parameters: tool.parameters }
    this.specs.push(spec)
  }

  get (name: string): ToolDefinition<any> | undefined {
    return this.#tools.get(name)?.tool
  }

  has (name: string): boolean {
    return this.#tools.has(name)
  }

  names (): string[] {
    return [...this.#tools.keys()]
  }

  /** null when `args` fits the tool's schema, else a one-line reason for the model. */
  validate (name: string, args: unknown): string | null {
    const entry = this.#tools.get(name)
    if (entry === undefined) return `no tool named ${name}`
    if (entry.validate(args)) return null
    return this.#ajv.errorsText(entry.validate.errors, { dataVar: 'arguments', separator: '; ' })
  }
}

/** null when the definition is usable, else why not. */
export function checkDefinition (tool: Partial<ToolDefinition<any>>): string | null {
  if (typeof tool.name !== 'string' || !TOOL_NAME_RE.test(tool.name)) return 'name must be 1-64 letters, digits, _ or -'
  if (typeof tool.description !== 'string' || tool.description.trim() === '') return 'description must not be empty'
  const p = tool.parameters as unknown
  if (p === null || typeof p !== 'object' || Array.isArray(p) || (p as { type?: unknown }).type !== 'object') return 'parameters must be a JSON Schema with "type": "object"'
  if (typeof tool.handler !== 'function') return 'handler must be a function'
  if (tool.timeoutMs !== undefined && (!Number.isInteger(tool.timeoutMs) || tool.timeoutMs < 1)) return 'timeoutMs must be a positive integer'
  return null
}
