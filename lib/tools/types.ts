import type { CallContext } from '../realtime/session-update.js'
import type { Log } from '../log/logger.js'

/**
 * A tool the model can call: one module, no Fastify. The registry turns
 * `name`, `description` and `parameters` into the GA function tool sent in
 * session.update; the bridge runs `handler` when the model calls it.
 */
export interface ToolDefinition<Args = Record<string, unknown>> {
  /** 1-64 letters, digits, _ or -; what the model calls. */
  name: string
  /** When and how to use it, and what to tell the caller meanwhile: the model reads this. */
  description: string
  /** JSON Schema of the arguments object; arguments that fail it never reach the handler. */
  parameters: JsonSchemaObject
  /** Overrides TOOLS_TIMEOUT_MS for this tool. */
  timeoutMs?: number
  handler: (args: Args, ctx: ToolContext) => Promise<ToolOutput>
}

export interface JsonSchemaObject {
  type: 'object'
  properties?: Record<string, unknown>
  required?: string[]
  additionalProperties?: boolean | Record<string, unknown>
  [keyword: string]: unknown
}

/** What a handler returns: a string goes to the model as is, anything else as JSON. */
export type ToolOutput = string | number | boolean | null | Record<string, unknown> | unknown[]

/** The GA Realtime function tool of session.update. */
export interface FunctionToolSpec {
  type: 'function'
  name: string
  description: string
  parameters: JsonSchemaObject
}

export type ToolLogger = Log

/** How the model's response that made the call ended. */
export interface ResponseSummary {
  id: string
  /** completed, cancelled, failed, incomplete (or '' when unknown). */
  status: string
  /** Why it did not complete, e.g. turn_detected when the caller spoke over it. */
  reason: string
  /** The response said something aloud (it had an assistant message). */
  spoke: boolean
}

/**
 * How a warm transfer ended: the staff took the call (ok), or not —
 * `closed` (outside business hours, no one rung), `declined` (the staff said no),
 * `no-answer` (no pick-up, busy, voicemail, no key), `failed` (Vonage refused), `cancelled` (the caller left), `in-progress` (a staff phone already rings for this call).
 */
export type TransferResult = { ok: true } | { ok: false, outcome: 'closed' | 'declined' | 'no-answer' | 'failed' | 'cancelled' | 'in-progress', reason: string }

/** The call a tool runs in, and the few levers built-in tools need. */
export interface ToolContext {
  /** The call: id (Vonage call leg uuid, or the softphone call id), direction and full numbers. */
  call: Readonly<CallContext & { id: string }>
  /** The model's id of this function call (call_id). */
  toolCallId: string
  /** Aborted when the tool times out or the call ends: pass it to fetch and friends. */
  signal: AbortSignal
  log: ToolLogger
  /** Resolves when the model's response that made this call is over (null: the call ended first). */
  responseDone: () => Promise<ResponseSummary | null>
  /** Resolves when everything the caller has been sent so far has played (bounded). */
  played: () => Promise<void>
  /** Send this tool's output without asking the model for a new response. */
  noReply: () => void
  /** Hang up once the model's goodbye has played: now if it was already said, else after the next response. */
  endCall: (reason: string) => void
  /**
   * Warm transfer: rings `number` (E.164) with `briefing` while the caller stays on the line, and
   * resolves once the staff has decided; on acceptance (ok) the caller has been put through: call handOver().
   */
  transfer: (number: string, o: { briefing: string, reason: string }) => Promise<TransferResult>
  /** The caller is with someone else now: the model's session is closed once this tool has returned. */
  handOver: () => void
}

/** A failure meant for the model: `code` is stable, `message` says what to do. */
export class ToolError extends Error {
  constructor (readonly code: string, message: string) {
    super(message)
    this.name = 'ToolError'
  }
}
