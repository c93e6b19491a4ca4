import { performance } from 'node:perf_hooks'
import type { SpeechEngine } from '../realtime/engine.js'
import type { Cut, Playout } from './playout.js'
import type { MediaChannel } from './media-channel.js'
import type { CallCounters } from './stats.js'
import { bargeInChannel, bargeInMessage } from './probe.js'

/** What barge-in needs of the call it belongs to. */
export interface BargeInHost {
  /** The call, as the probe names it. */
  readonly session: object
  readonly engine: SpeechEngine
  readonly stats: CallCounters
  /** The assistant audio queued and played (it changes when Vonage names another rate). */
  readonly playout: Playout
  readonly media: MediaChannel | null
  /** The call is apologising: nothing the caller says cuts the apology. */
  readonly failed: boolean
  /** A response is in progress (or asked for): an interruption cancels it. */
  readonly responding: boolean
  cut: (cut: Cut | null) => void
}

/** Responses a barge-in cut, kept to drop their late audio; older ones are forgotten. */
const MAX_CUT_RESPONSES = 16

/**
 * Barge-in, all of it: the caller interrupts the assistant → what Vonage has
 * queued is cleared, the assistant's item is truncated at what the caller
 * actually heard (the playout ledger's figure, not what was sent), and audio
 * of the cut response that is still on its way is dropped.
 *
 * Who decides that it is an interruption:
 * - the bridge (Realtime calls): lib/call/turn-wiring.ts feeds the caller's
 *   audio and the VAD events to TurnTaker (turn-taking.ts), whose 'interrupt'
 *   calls interrupt() here, which also cancels the response (the engine was
 *   told not to, so that aizuchi and noise never cut the answer);
 * - the engine (no TurnTaker): every speech start is one, onSpeechStarted().
 *
 * Speech while nothing plays is not a barge-in: nothing is cleared or cut.
 */
export class BargeIn {
  readonly #host: BargeInHost
  readonly #cutResponses = new Set<string>()
  readonly #itemResponse = new Map<string, string>()
  /** The latest assistant item of a response still in progress. */
  #current: { responseId: string, itemId: string } | null = null

  constructor (host: BargeInHost) {
    this.#host = host
  }

  /** The engine placed an assistant item of a response. */
  onAssistantItem (responseId: string, itemId: string): void {
    this.#itemResponse.set(itemId, responseId)
    this.#current = { responseId, itemId }
  }

  /** Whether a delta of `responseId` may still play (false: its response was cut, and it is counted). */
  accepts (responseId: string, itemId: string): boolean {
    if (this.#cutResponses.has(responseId)) {
      this.#host.stats.lateDeltasDropped++
      return false
    }
    if (this.#itemResponse.get(itemId) !== responseId) this.#itemResponse.set(itemId, responseId)
    return true
  }

  /** The engine heard the caller start speaking and cancels the response itself. Returns whether it cut the assistant. */
  onSpeechStarted (eventId: string): boolean {
    return this.#cut(eventId)
  }

  /** The bridge took the caller's speech for an interruption: cut what plays and cancel the response. */
  interrupt (): boolean {
    const h = this.#host
    const cut = this.#cut('')
    if (h.failed || !h.responding) return cut
    h.engine.cancelResponse()
    if (cut) return true
    // Nothing queued at this instant (the answer streams no faster than it plays): all that was sent was heard;
    // the rest of the answer must not follow.
    const c = this.#current
    const heardMs = c === null ? null : h.playout.sentOf(c.itemId)
    if (c === null || heardMs === null) { h.cut(null); return false }
    this.#cutResponses.add(c.responseId)
    h.stats.bargeIns++
    if (h.engine.canTruncate) h.engine.truncate(c.itemId, Math.floor(heardMs))
    h.cut({ itemId: c.itemId, heardMs })
    return true
  }

  #cut (eventId: string): boolean {
    const receivedAt = bargeInChannel.hasSubscribers ? performance.now() : 0
    const h = this.#host
    const now = performance.now()
    if (h.failed || !h.playout.isActive(now)) return false
    const cut = h.playout.clear(now)
    h.stats.bargeIns++
    h.media?.clear()
    if (receivedAt > 0) {
      bargeInMessage.session = h.session
      bargeInMessage.eventId = eventId
      bargeInMessage.receivedAt = receivedAt
      bargeInMessage.clearedAt = performance.now()
      bargeInChannel.publish(bargeInMessage)
    }
    if (cut !== null) {
      const responseId = this.#itemResponse.get(cut.itemId)
      if (responseId !== undefined) this.#cutResponses.add(responseId)
      if (h.engine.canTruncate) h.engine.truncate(cut.itemId, cut.heardMs)
    }
    h.cut(cut)
    return true
  }

  /** A response ended: its items can receive no more deltas; keep the maps small. */
  onResponseDone (responseId: string): void {
    if (this.#current?.responseId === responseId) this.#current = null
    for (const [item, resp] of this.#itemResponse) if (resp === responseId && !this.#host.playout.isActive(performance.now())) this.#itemResponse.delete(item)
    if (this.#cutResponses.size > MAX_CUT_RESPONSES) this.#cutResponses.clear()
  }
}
