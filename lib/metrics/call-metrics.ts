import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CallSession, CallStats } from '../call/session.js'
import type { SessionEventMap } from '../call/events.js'
import { outcomeOf } from '../records/record.js'

/** Seconds buckets for the time to the first audio the caller hears (a good call is well under a second). */
const FIRST_AUDIO_BUCKETS_S = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10]
/** Seconds buckets for call durations, 10 s to an hour. */
const DURATION_BUCKETS_S = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600]
/** Seconds buckets for tool runs (TOOLS_TIMEOUT_MS is 8 s by default). */
const TOOL_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16]

type FirstAudio = SessionEventMap['first-audio'][0]
type BargeIn = SessionEventMap['barge-in'][0]
type ToolCallEvent = SessionEventMap['tool-call'][0] & { ms?: unknown }

/**
 * The call metrics of one app, in a registry of its own (tests build several
 * apps in one process). Everything is counted per call or per event the
 * session emits, never per 20 ms frame, so scraping costs nothing on the audio path.
 */
export class CallMetrics {
  readonly registry = new Registry()
  readonly #calls: Counter<'direction' | 'outcome'>
  readonly #upstreamFailures: Counter<'cause'>
  readonly #bargeIns: Counter
  readonly #droppedFrames: Counter
  readonly #lateDeltas: Counter
  readonly #firstAudio: Histogram
  readonly #duration: Histogram<'direction'>
  readonly #toolLatency: Histogram<'ok'>

  constructor (activeCalls: () => number) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.registry.registerMetric(new Gauge({ name: 'bridge_active_calls', help: 'Calls in progress on this machine (prepared or connected)', registers: [], collect () { this.set(activeCalls()) } }))
    this.#calls = new Counter({ name: 'bridge_calls_total', help: 'Calls ended, by direction and outcome', labelNames: ['direction', 'outcome'], registers })
    this.#upstreamFailures = new Counter({ name: 'bridge_upstream_failures_total', help: 'Calls the model\'s connection failed or closed under, by cause', labelNames: ['cause'], registers })
    this.#bargeIns = new Counter({ name: 'bridge_barge_ins_total', help: 'Caller speech that cut the assistant off', registers })
    this.#droppedFrames = new Counter({ name: 'bridge_dropped_frames_total', help: 'Caller audio frames dropped (late, malformed or over the limit)', registers })
    this.#lateDeltas = new Counter({ name: 'bridge_late_deltas_dropped_total', help: 'Assistant audio deltas dropped because they came too late to play', registers })
    this.#firstAudio = new Histogram({ name: 'bridge_time_to_first_audio_seconds', help: 'From the media socket attaching to the first assistant audio the caller hears', buckets: FIRST_AUDIO_BUCKETS_S, registers })
    this.#duration = new Histogram({ name: 'bridge_call_duration_seconds', help: 'Call duration, by direction', labelNames: ['direction'], buckets: DURATION_BUCKETS_S, registers })
    this.#toolLatency = new Histogram({ name: 'bridge_tool_latency_seconds', help: 'Tool runs, from the model\'s call to the answer, by success', labelNames: ['ok'], buckets: TOOL_BUCKETS_S, registers })
  }

  /** Follows one call through its events (the bridge's onSession hook). */
  watch (session: CallSession): void {
    let firstAudioSeen = false
    let toolLatencySeen = false
    session.on('first-audio', (e: FirstAudio) => {
      if (firstAudioSeen) return
      firstAudioSeen = true
      this.#firstAudio.observe(e.ms / 1000)
    })
    session.on('barge-in', (_cut: BargeIn) => { this.#bargeIns.inc() })
    session.on('tool-call', (e: ToolCallEvent) => {
      // Only when the event says how long the tool took; otherwise the call's notes do, at the end.
      if (typeof e.ms !== 'number') return
      toolLatencySeen = true
      this.#toolLatency.observe({ ok: 'true' }, e.ms / 1000)
    })
    session.once('end', (stats: CallStats) => {
      const notes = session.notes
      const outcome = notes.outcome ?? outcomeOf(stats.reason)
      this.#calls.inc({ direction: stats.direction, outcome })
      this.#duration.observe({ direction: stats.direction }, stats.durationMs / 1000)
      if (stats.reason === 'upstream-failed' || stats.reason === 'upstream-closed') {
        this.#upstreamFailures.inc({ cause: failureCause(stats) })
      }
      if (stats.droppedFrames > 0) this.#droppedFrames.inc(stats.droppedFrames)
      if (stats.lateDeltasDropped > 0) this.#lateDeltas.inc(stats.lateDeltasDropped)
      if (!firstAudioSeen && stats.connectToFirstAudioMs !== null) this.#firstAudio.observe(stats.connectToFirstAudioMs / 1000)
      if (!toolLatencySeen) {
        for (const t of notes.tools) this.#toolLatency.observe({ ok: String(t.ok) }, t.ms / 1000)
      }
    })
  }

  async scrape (): Promise<{ contentType: string, body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}

/** The engine's named cause (lib/realtime/engine.ts EngineFailure: a bounded set), else how the call ended. */
function failureCause (stats: CallStats): string {
  return stats.upstreamFailure ?? (stats.reason === 'upstream-closed' ? 'closed' : 'connect-failed')
}
