import type { CallContext } from '../realtime/session-update.js'
import type { EngineFailure, EngineUsage } from '../realtime/engine.js'
import { maskNumber } from '../log/logger.js'

export type EndReason =
  | 'caller-hangup'
  | 'upstream-failed' // the engine never worked, or failed (cause in upstreamFailure)
  | 'upstream-closed' // the engine closed a live session
  | 'no-media' // the media socket never came
  | 'caller-silent' // no caller frame for CALLER_SILENCE_MS
  | 'max-duration' // MAX_CALL_SECONDS reached
  | 'idle' // the caller said nothing through the check-in and the goodbye (IDLE_PROMPT_SECONDS)
  | 'shutdown'
  | 'ended'
  | 'slow-consumer'

export interface Usage extends EngineUsage {
  responses: number
  /** Seconds of session billed by time (GPT-Live); absent for the Realtime engine, which bills tokens only. */
  sessionSeconds?: number
}

/** What a call leaves behind: logged as `call ended`, the base of the call record. */
export interface CallStats {
  callId: string
  direction: CallContext['direction']
  from: string
  to: string
  reason: EndReason
  durationMs: number
  callerAudioMs: number
  assistantAudioMs: number
  connectToFirstAudioMs: number | null
  bargeIns: number
  /** Caller sounds the bridge let pass (lib/call/turn-taking.ts): aizuchi over the assistant, and wordless noise while it was silent. */
  backchannels: number
  noises: number
  /** Caller speech the bridge took for an interruption (each cancels the answer; bargeIns counts those that cut audio). */
  interruptions: number
  /** Caller frames dropped as malformed (size, JSON, unknown event). */
  droppedFrames: number
  /** Caller audio dropped for arriving faster than real time plus the allowed burst. */
  overRateMs: number
  lateDeltasDropped: number
  upstreamErrors: number
  /** Why the engine failed, when it did. */
  upstreamFailure: EngineFailure | null
  usage: Usage
}

/** The counters of one live call. */
export class CallCounters {
  callerAudioMs = 0
  assistantAudioMs = 0
  connectToFirstAudioMs: number | null = null
  bargeIns = 0
  backchannels = 0
  noises = 0
  interruptions = 0
  droppedFrames = 0
  overRateMs = 0
  lateDeltasDropped = 0
  upstreamErrors = 0
  upstreamFailure: EngineFailure | null = null
  readonly usage: Usage = { responses: 0, inputTokens: 0, outputTokens: 0, inputAudioTokens: 0, inputTextTokens: 0, inputCachedTokens: 0, outputAudioTokens: 0, outputTextTokens: 0, inputCachedAudioTokens: 0, inputCachedTextTokens: 0 }

  addUsage (u: EngineUsage | null): void {
    this.usage.responses++
    if (u === null) return
    for (const k of Object.keys(u) as Array<keyof EngineUsage>) this.usage[k] += u[k]
  }

  final (id: string, call: CallContext, reason: EndReason, durationMs: number): CallStats {
    return {
      callId: id,
      direction: call.direction,
      from: maskNumber(call.from ?? ''),
      to: maskNumber(call.to ?? ''),
      reason,
      durationMs: Math.round(durationMs),
      callerAudioMs: Math.round(this.callerAudioMs),
      assistantAudioMs: this.assistantAudioMs,
      connectToFirstAudioMs: this.connectToFirstAudioMs,
      bargeIns: this.bargeIns,
      backchannels: this.backchannels,
      noises: this.noises,
      interruptions: this.interruptions,
      droppedFrames: this.droppedFrames,
      overRateMs: Math.round(this.overRateMs),
      lateDeltasDropped: this.lateDeltasDropped,
      upstreamErrors: this.upstreamErrors,
      upstreamFailure: this.upstreamFailure,
      usage: { ...this.usage }
    }
  }
}
