import type { Turn } from '../records/record.js'
import { textCost } from '../records/prices.js'
import { SUMMARY_INSTRUCTIONS, SUMMARY_JSON_SCHEMA, fromModel, type AfterCallSummary } from './schema.js'

export interface SummaryEndpointSettings {
  OPENAI_API_KEY: string
  OPENAI_BASE_URL: string
  AZURE_OPENAI_ENDPOINT: string
}

/** POST /responses at OPENAI_BASE_URL, or Azure's v1 Responses endpoint (the same request, an api-key header). */
export function responsesEndpoint (s: SummaryEndpointSettings): { url: string, headers: Record<string, string> } {
  if (s.AZURE_OPENAI_ENDPOINT !== '') {
    return { url: `${s.AZURE_OPENAI_ENDPOINT.replace(/\/+$/, '')}/openai/v1/responses`, headers: { 'api-key': s.OPENAI_API_KEY } }
  }
  return { url: `${s.OPENAI_BASE_URL.replace(/\/+$/, '')}/responses`, headers: { authorization: `Bearer ${s.OPENAI_API_KEY}` } }
}

export interface SummaryInput {
  turns: Turn[]
  direction: string
  startedAt: string
  durationMs: number
  /** What the bridge knows about the end: transferred, ended by the AI, hung up… */
  endedHow: string
}

export class SummaryError extends Error {
  constructor (message: string, readonly status?: number) {
    super(message)
    this.name = 'SummaryError'
  }
}

/** The transcript as the model reads it: one line per turn, the call's facts first. */
export function transcriptText (i: SummaryInput): string {
  const day = new Date(i.startedAt).toLocaleString('ja-JP', { timeZone: 'Asia/Tokyo', dateStyle: 'full', timeStyle: 'short' })
  const lines = i.turns.map(t => `${t.role === 'caller' ? '発信者' : 'AI'}: ${t.text}`)
  return [`通話日時: ${day}（日本時間）`, `方向: ${i.direction === 'outbound' ? 'こちらから発信' : '着信'}`, `通話時間: ${Math.round(i.durationMs / 1000)} 秒`, `終わり方: ${i.endedHow}`, '', '文字起こし:', ...lines].join('\n')
}

/** The request body: Structured Outputs with the strict schema, nothing stored at OpenAI. */
export function summaryRequest (model: string, i: SummaryInput): Record<string, unknown> {
  return {
    model,
    instructions: SUMMARY_INSTRUCTIONS,
    input: [{ role: 'user', content: transcriptText(i) }],
    text: { format: { type: 'json_schema', name: 'call_summary', strict: true, schema: SUMMARY_JSON_SCHEMA } },
    store: false,
    max_output_tokens: 4000
  }
}

interface ResponsesBody {
  status?: string
  incomplete_details?: { reason?: string } | null
  error?: { message?: string } | null
  output?: Array<{ type?: string, content?: Array<{ type?: string, text?: string, refusal?: string }> }>
  usage?: { input_tokens?: number, output_tokens?: number, input_tokens_details?: { cached_tokens?: number } }
}

/** The text of the first output_text part of the response's message items (output[].content[]). */
function outputText (body: ResponsesBody): string {
  for (const item of body.output ?? []) {
    if (item.type !== 'message') continue
    for (const part of item.content ?? []) {
      if (part.type === 'refusal') throw new SummaryError(`the model refused: ${String(part.refusal ?? '').slice(0, 200)}`)
      if (part.type === 'output_text' && typeof part.text === 'string') return part.text
    }
  }
  throw new SummaryError('the response holds no output_text')
}

/**
 * Asks the model for the summary. Throws SummaryError (status set for HTTP
 * failures) when it cannot be had; the caller decides what goes out without it.
 */
export async function requestSummary (s: SummaryEndpointSettings, model: string, i: SummaryInput, signal: AbortSignal): Promise<Omit<AfterCallSummary, 'callerNumber'>> {
  const { url, headers } = responsesEndpoint(s)
  const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(summaryRequest(model, i)), signal })
  const text = await res.text()
  let body: ResponsesBody
  try { body = JSON.parse(text) as ResponsesBody } catch { throw new SummaryError(`HTTP ${res.status}: not JSON`, res.status) }
  if (!res.ok) throw new SummaryError(`HTTP ${res.status}: ${String(body.error?.message ?? '').slice(0, 200)}`, res.status)
  if (body.status !== undefined && body.status !== 'completed') throw new SummaryError(`response ${body.status}${body.incomplete_details?.reason !== undefined ? ` (${body.incomplete_details.reason})` : ''}`)
  let parsed: unknown
  try { parsed = JSON.parse(outputText(body)) } catch (err) { throw err instanceof SummaryError ? err : new SummaryError('the output is not JSON') }
  const fields = fromModel(parsed)
  if (fields === null) throw new SummaryError('the output does not follow the summary schema')
  const usage = { inputTokens: body.usage?.input_tokens ?? 0, outputTokens: body.usage?.output_tokens ?? 0, cachedTokens: body.usage?.input_tokens_details?.cached_tokens ?? 0 }
  return { ...fields, model, usage, costUsd: textCost(model, usage) }
}
