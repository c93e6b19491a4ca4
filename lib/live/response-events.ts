import type { EngineUsage } from '../realtime/engine.js'
import type { Delegations } from './delegation.js'

export interface ResponseEventHandlers {
  toolCall: (c: { callId: string, name: string, arguments: string, responseId: string }) => void
  /** A delegated response ended, with its token usage (billed as Responses tokens of the delegate model). */
  done: (d: { responseId: string, status: string, reason: string, usage: EngineUsage | null }) => void
}

const obj = (v: unknown): Record<string, unknown> => v !== null && typeof v === 'object' ? v as Record<string, unknown> : {}
const str = (v: unknown): string => typeof v === 'string' ? v : ''
const num = (v: unknown): number => typeof v === 'number' && Number.isFinite(v) ? v : 0

/** Responses streaming events that end a response (ResponseCompletedEvent, ResponseFailedEvent, ResponseIncompleteEvent). */
const ENDINGS = new Set(['response.completed', 'response.failed', 'response.incomplete'])

/**
 * One `response.event` of GPT-Live's Responses delegation: the nested
 * Responses streaming event says a response began (response.created), called
 * a function (response.output_item.done with a function_call item), or ended
 * (with its usage). The outer delegation_id ties them together.
 */
export function onResponseEvent (outer: Record<string, unknown>, delegations: Delegations, on: ResponseEventHandlers): void {
  const e = obj(outer.event)
  const key = str(outer.delegation_id) !== '' ? str(outer.delegation_id) : 'default'
  const type = str(e.type)
  if (type === 'response.created' || type === 'response.in_progress') {
    delegations.created(key, str(obj(e.response).id))
    return
  }
  if (type === 'response.output_item.done') {
    const item = obj(e.item)
    if (item.type !== 'function_call' || str(item.call_id) === '') return
    delegations.called(key, str(item.call_id))
    on.toolCall({ callId: str(item.call_id), name: str(item.name), arguments: str(item.arguments), responseId: delegations.responseId(key) || key })
    return
  }
  if (ENDINGS.has(type)) {
    const r = obj(e.response)
    delegations.created(key, str(r.id))
    const responseId = delegations.responseId(key) || key
    delegations.completed(key)
    on.done({ responseId, status: str(r.status) || type.slice('response.'.length), reason: '', usage: usageOf(r.usage) })
  }
}

/** A Responses usage (ResponseUsage: input_tokens, output_tokens, input_tokens_details.cached_tokens) as text tokens. */
function usageOf (u: unknown): EngineUsage | null {
  if (u === null || typeof u !== 'object') return null
  const usage = obj(u)
  const input = num(usage.input_tokens)
  const output = num(usage.output_tokens)
  const cached = num(obj(usage.input_tokens_details).cached_tokens)
  return {
    inputTokens: input,
    outputTokens: output,
    inputAudioTokens: 0,
    inputTextTokens: input,
    inputCachedTokens: cached,
    outputAudioTokens: 0,
    outputTextTokens: output,
    inputCachedAudioTokens: 0,
    inputCachedTextTokens: cached
  }
}
