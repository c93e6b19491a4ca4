import type { CallStats, EndReason, Usage } from '../call/stats.js'
import type { CallContext } from '../realtime/session-update.js'
import { maskNumber } from '../log/logger.js'
import type { Outcome, ToolUse } from '../call/notes.js'
import type { TransferNote } from '../transfer/warm-transfer.js'
import type { AfterCallSummary } from '../summary/schema.js'

/** USD per 1M tokens (PRICE_* settings). */
export interface Prices {
  audioInput: number
  audioOutput: number
  textInput: number
  textOutput: number
  cachedInput: number
  /** USD per minute of session (GPT-Live, billed per second); absent for the Realtime engine. */
  sessionPerMinute?: number
}

export interface Cost {
  currency: 'USD'
  total: number
  audioInput: number
  audioOutput: number
  textInput: number
  textOutput: number
  cachedInput: number
  /** The GPT-Live session's seconds at its per-minute price (present only when it is priced so). */
  session?: number
  pricesPer1M: Prices
}

export interface Turn {
  role: 'caller' | 'assistant'
  text: string
  /** ms since the call started. */
  atMs: number
  /** The caller spoke over this assistant turn, so not all of it was heard. */
  interrupted?: boolean
}

export interface CallRecord {
  type: 'call.record'
  version: 1
  callId: string
  direction: CallContext['direction']
  from: string
  to: string
  startedAt: string
  endedAt: string
  durationMs: number
  outcome: Outcome
  endReason: EndReason
  outcomeDetail?: Record<string, string>
  turns: { caller: number, assistant: number }
  /** Absent when LOG_TRANSCRIPTS=false (in the log; the webhook always gets it). */
  transcript?: Turn[]
  bargeIns: number
  /** Aizuchi the answer went on through, and wordless sounds not answered (the bridge's turn taking). */
  backchannelsIgnored: number
  noisesIgnored: number
  /** Caller speech taken as an interruption (the answer was cancelled). */
  interruptionsTaken: number
  dtmfCount: number
  tools: ToolUse[]
  usage: Usage & { inputCachedAudioTokens: number, inputCachedTextTokens: number }
  cost: Cost
  audio: { callerMs: number, assistantMs: number, connectToFirstAudioMs: number | null }
  upstreamErrors: number
  /** Staff phones rung (warm transfers): how each went, with times and the briefing heard. */
  transfers?: TransferNote[]
  /** Caller audio transcribed and its estimated cost (not in cost.total: billed per minute, not per token). */
  transcription?: { model: string, minutes: number, usdPerMinute: number, cost: number }
  /** The after-call summary (SUMMARY_MODEL), with its own usage and cost (not in cost.total). */
  summary?: AfterCallSummary
}

/** Keys of a phone keypad (A-D exist on some), as Vonage's websocket:dtmf reports them. */
export function isKeypadDigit (digit: string): boolean {
  return /^[0-9*#A-D]$/i.test(digit)
}

const MAX_TURNS = 1000
const MAX_TURN_CHARS = 4000

interface Slot extends Turn {
  itemId: string
  filled: boolean
}

/**
 * Follows one call's session events and keeps the conversation in order.
 * Input transcription runs apart from responses, so a caller's words can be
 * transcribed after the assistant has answered them: each turn takes its
 * place when its item appears (session 'turn') and its text when its
 * 'transcript' arrives.
 */
export class CallRecorder {
  readonly startedAt = Date.now()
  readonly #slots: Slot[] = []
  readonly #byItem = new Map<string, Slot>()
  dtmfCount = 0
  /** Cached input split by modality, from the call's usage when response.done reports it. */
  cachedAudio = 0
  cachedText = 0

  /** A turn took its place (session 'turn'). */
  placed (itemId: string, role: Turn['role']): void { this.#slot(itemId, role) }

  /** A turn's final text (session 'transcript'); returns the turn to be logged. */
  heard (itemId: string, role: Turn['role'], text: string): Turn | null { return this.#fill(itemId, role, text) }

  /** A barge-in cut this assistant item. */
  interrupted (itemId: string): void {
    const s = this.#byItem.get(itemId)
    if (s !== undefined) s.interrupted = true
  }

  get turns (): Turn[] {
    return this.#slots.filter(s => s.filled).map(({ role, text, atMs, interrupted }) => interrupted === true ? { role, text, atMs, interrupted } : { role, text, atMs })
  }

  #slot (itemId: string, role: Turn['role']): Slot | null {
    const existing = this.#byItem.get(itemId)
    if (existing !== undefined) return existing
    if (this.#slots.length >= MAX_TURNS) return null
    const slot: Slot = { itemId, role, text: '', atMs: Date.now() - this.startedAt, filled: false }
    this.#slots.push(slot)
    this.#byItem.set(itemId, slot)
    return slot
  }

  #fill (itemId: string, role: Turn['role'], transcript: unknown): Turn | null {
    if (typeof transcript !== 'string') return null
    const text = transcript.trim().slice(0, MAX_TURN_CHARS)
    if (text === '') return null
    const slot = this.#slot(itemId, role)
    if (slot === null) return null
    slot.text = text
    slot.filled = true
    return { role: slot.role, text, atMs: slot.atMs }
  }
}

/** The outcome of a call nothing marked (end_call and transfer_call mark theirs). */
export function outcomeOf (reason: EndReason): Outcome {
  switch (reason) {
    case 'upstream-failed':
    case 'upstream-closed': return 'upstream-failure'
    case 'no-media': return 'no-media'
    case 'slow-consumer': return 'media-failure'
    case 'shutdown': return 'shutdown'
    default: return 'completed'
  }
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6

/**
 * Cost of the tokens at the given prices. Cached tokens are a subset of the
 * input tokens and billed at the cached price; when response.done did not say
 * which modality they were, they are split in proportion to the input.
 */
export function estimateCost (u: Usage, prices: Prices, cachedSplit: { audio: number, text: number } = { audio: 0, text: 0 }): Cost {
  let cachedAudio = cachedSplit.audio
  let cachedText = cachedSplit.text
  if (cachedAudio + cachedText === 0 && u.inputCachedTokens > 0) {
    const input = u.inputAudioTokens + u.inputTextTokens
    cachedAudio = input > 0 ? Math.round(u.inputCachedTokens * u.inputAudioTokens / input) : 0
    cachedText = u.inputCachedTokens - cachedAudio
  }
  const per = (tokens: number, price: number): number => Math.max(0, tokens) * price / 1e6
  const parts = {
    audioInput: per(u.inputAudioTokens - cachedAudio, prices.audioInput),
    audioOutput: per(u.outputAudioTokens, prices.audioOutput),
    textInput: per(u.inputTextTokens - cachedText, prices.textInput),
    textOutput: per(u.outputTextTokens, prices.textOutput),
    cachedInput: per(cachedAudio + cachedText, prices.cachedInput)
  }
  const session = prices.sessionPerMinute === undefined ? null : Math.max(0, u.sessionSeconds ?? 0) / 60 * prices.sessionPerMinute
  const total = parts.audioInput + parts.audioOutput + parts.textInput + parts.textOutput + parts.cachedInput + (session ?? 0)
  const cost: Cost = {
    currency: 'USD',
    total: round6(total),
    audioInput: round6(parts.audioInput),
    audioOutput: round6(parts.audioOutput),
    textInput: round6(parts.textInput),
    textOutput: round6(parts.textOutput),
    cachedInput: round6(parts.cachedInput),
    pricesPer1M: prices
  }
  if (session !== null) cost.session = round6(session)
  return cost
}

export interface RecordInput {
  stats: CallStats
  call: CallContext
  recorder: CallRecorder
  outcome?: Outcome
  outcomeDetail?: Record<string, string>
  tools: ToolUse[]
  transfers?: TransferNote[]
  prices: Prices
  /** The transcription model and its price per minute of caller audio (lib/records/prices.ts); none when transcription is off. */
  transcription?: { model: string, perMinute: number } | null
  endedAt?: number
}

export function buildCallRecord (i: RecordInput): CallRecord {
  const { stats, recorder } = i
  const turns = recorder.turns
  const endedAt = i.endedAt ?? Date.now()
  const cachedSplit = { audio: recorder.cachedAudio, text: recorder.cachedText }
  const cost = estimateCost(stats.usage, i.prices, cachedSplit)
  const record: CallRecord = {
    type: 'call.record',
    version: 1,
    callId: stats.callId,
    direction: stats.direction,
    from: maskNumber(i.call.from ?? ''),
    to: maskNumber(i.call.to ?? ''),
    startedAt: new Date(recorder.startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    durationMs: stats.durationMs,
    outcome: i.outcome ?? outcomeOf(stats.reason),
    endReason: stats.reason,
    turns: { caller: turns.filter(t => t.role === 'caller').length, assistant: turns.filter(t => t.role === 'assistant').length },
    transcript: turns,
    bargeIns: stats.bargeIns,
    backchannelsIgnored: stats.backchannels,
    noisesIgnored: stats.noises,
    interruptionsTaken: stats.interruptions,
    dtmfCount: recorder.dtmfCount,
    tools: i.tools,
    usage: { ...stats.usage, inputCachedAudioTokens: recorder.cachedAudio, inputCachedTextTokens: recorder.cachedText },
    cost,
    audio: { callerMs: stats.callerAudioMs, assistantMs: stats.assistantAudioMs, connectToFirstAudioMs: stats.connectToFirstAudioMs },
    upstreamErrors: stats.upstreamErrors
  }
  if (i.outcomeDetail !== undefined && Object.keys(i.outcomeDetail).length > 0) record.outcomeDetail = i.outcomeDetail
  if (i.transfers !== undefined && i.transfers.length > 0) record.transfers = i.transfers
  if (i.transcription != null) {
    const minutes = stats.callerAudioMs / 60_000
    record.transcription = { model: i.transcription.model, minutes: round6(minutes), usdPerMinute: i.transcription.perMinute, cost: round6(minutes * i.transcription.perMinute) }
  }
  return record
}
