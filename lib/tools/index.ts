import { endCallTool } from './end-call.js'
import { transferCallTool, type TransferOptions } from './transfer-call.js'
import type { ToolDefinition } from './types.js'

export interface BuiltInOptions {
  /** null when no transfer destination is configured: transfer_call is then not offered. */
  transfer: TransferOptions | null
}

/** Names tools.json may not use. */
export const BUILT_IN_TOOL_NAMES = ['end_call', 'transfer_call'] as const

/**
 * The tools compiled into the server. To add one, write a module like
 * end-call.ts (name, description, JSON schema, async handler) and push it here.
 */
export function builtInTools (o: BuiltInOptions): Array<ToolDefinition<any>> {
  const tools: Array<ToolDefinition<any>> = [endCallTool()]
  if (o.transfer !== null) tools.push(transferCallTool(o.transfer))
  return tools
}

export type { ToolDefinition, ToolContext, ToolOutput } from './types.js'
export { ToolError } from './types.js'
