import { performance } from 'node:perf_hooks'
import { scrubSecrets } from '../log/logger.js'
import type { ToolRegistry } from './registry.js'
import { ToolError, type ToolContext, type ToolOutput } from './types.js'

export interface ToolCallResult {
  ok: boolean
  /** The function_call_output's `output` for the model. */
  output: string
  error?: { code: string, message: string }
  ms: number
}

/** More than this would crowd the model's context; the model gets an error instead. */
export const MAX_OUTPUT_CHARS = 16_000

class Timeout extends Error {}

/** The output for the model when a call fails: a stable code and what to do about it. */
export function errorOutput (code: string, message: string): string {
  return JSON.stringify({ ok: false, error: code, message })
}

/**
 * One function call of the model: parse and validate the arguments, run the
 * handler under a timeout, and turn whatever happens into an output for the
 * model. Never throws.
 */
export async function runToolCall (
  registry: ToolRegistry,
  name: string,
  argText: string,
  ctx: Omit<ToolContext, 'signal'>,
  o: { timeoutMs: number, signal?: AbortSignal }
): Promise<ToolCallResult> {
  const started = performance.now()
  const ms = (): number => Math.round(performance.now() - started)
  const fail = (code: string, message: string): ToolCallResult => ({ ok: false, output: errorOutput(code, message), error: { code, message }, ms: ms() })

  const tool = registry.get(name)
  if (tool === undefined) {
    const names = registry.names()
    return fail('unknown_tool', `There is no tool named "${name.slice(0, 64)}". Available tools: ${names.length > 0 ? names.join(', ') : 'none'}.`)
  }
  let args: unknown
  try {
    args = JSON.parse(argText.trim() === '' ? '{}' : argText)
  } catch (err) {
    return fail('invalid_arguments', `The arguments of ${name} are not valid JSON (${(err as Error).message}). Call it again with a JSON object.`)
  }
  const invalid = registry.validate(name, args)
  if (invalid !== null) return fail('invalid_arguments', `The arguments of ${name} do not match its schema: ${invalid}.`)

  const controller = new AbortController()
  const outer = o.signal
  const onOuterAbort = (): void => controller.abort(outer?.reason)
  const callOver = (): boolean => outer?.aborted === true
  if (callOver()) return fail('cancelled', 'The call has ended.')
  outer?.addEventListener('abort', onOuterAbort, { once: true })
  const timeoutMs = tool.timeoutMs ?? o.timeoutMs
  let timer: NodeJS.Timeout | undefined
  try {
    const value: ToolOutput | undefined = await Promise.race([
      Promise.resolve().then(async () => await tool.handler(args as Record<string, unknown>, { ...ctx, signal: controller.signal })),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Timeout()), timeoutMs)
      })
    ])
    let output: string
    try {
      output = typeof value === 'string' ? value : value === undefined ? '{"ok":true}' : JSON.stringify(value)
    } catch (err) {
      return fail('tool_failed', `${name} returned something that is not JSON (${(err as Error).message}).`)
    }
    if (output.length > MAX_OUTPUT_CHARS) return fail('output_too_large', `${name} returned ${output.length} characters, more than the ${MAX_OUTPUT_CHARS} allowed.`)
    return { ok: true, output, ms: ms() }
  } catch (err) {
    if (err instanceof Timeout) {
      controller.abort(new Error(`${name} timed out`))
      return fail('timeout', `${name} did not finish within ${timeoutMs} ms. Tell the caller it cannot be done right now.`)
    }
    if (callOver()) return fail('cancelled', 'The call has ended.')
    if (err instanceof ToolError) return fail(err.code, err.message)
    const message = err instanceof Error ? err.message : String(err)
    return fail('tool_failed', `${name} failed: ${scrubSecrets(message).slice(0, 300)}`)
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onOuterAbort)
  }
}
