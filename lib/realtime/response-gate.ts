import type { SpeechEngine } from './engine.js'
import type { ResponseSummary } from '../tools/types.js'

type Waiter = (r: ResponseSummary | null) => void

const KEEP_DONE = 32

/**
 * One response request at a time per call. The Realtime API refuses a
 * response.create while a response is in progress, and tool outputs and DTMF
 * messages arrive mid-response, so requests made then wait for the response
 * to end and are merged into one. While a tool is running (hold), requests
 * wait too, so several calls of one response are answered together.
 *
 * It also tells how each response ended and whether it spoke, for end_call and
 * transfer_call. One per session (`session.gate`); it talks to the engine only
 * through SpeechEngine.
 */
export class ResponseGate {
  readonly #engine: SpeechEngine
  #active = false
  #holds = 0
  #closed = false
  /** Requests not yet sent. */
  #pending: Waiter[] | null = null
  /** Sent; they belong to the next response that starts. */
  #sent: Waiter[] | null = null
  readonly #byResponse = new Map<string, Waiter[]>()
  readonly #done = new Map<string, ResponseSummary>()

  constructor (engine: SpeechEngine) {
    this.#engine = engine
    engine.on('response-started', ({ responseId }) => this.#onStarted(responseId))
    engine.on('response-done', (r) => this.#onDone({ id: r.responseId, status: r.status, reason: r.reason, spoke: r.spoke }))
    engine.on('response-refused', ({ busy }) => this.#onRefused(busy))
  }

  /** Whether a response is in progress (or requested and not yet started). */
  get active (): boolean { return this.#active }

  /**
   * Asks the engine for a response (now, or after the current one), with
   * one-off `instructions` if given. Resolves when the response it caused is
   * done; null if the call ended first.
   */
  async requestResponse (instructions?: string): Promise<ResponseSummary | null> {
    return await new Promise<ResponseSummary | null>(resolve => {
      if (this.#closed) { resolve(null); return }
      (this.#pending ??= []).push(resolve)
      if (instructions !== undefined) this.#instructions = instructions
      this.#flush()
    })
  }

  /**
   * A response said while tools hold the gate (the filler of a slow tool),
   * only when nothing else is in progress, and without tools so that it
   * cannot call another. Requests made meanwhile (the tool's result) wait for
   * it like for any response. False: not sent.
   */
  requestAside (instructions: string): boolean {
    if (this.#closed || this.#active || this.#sent !== null) return false
    if (!this.#engine.startResponse({ instructions, noTools: true })) return false
    this.#active = true
    this.#sent = []
    return true
  }

  /** One-off instructions for the next response sent (the last asked for wins). */
  #instructions: string | undefined

  /** Resolves when response `id` is done (at once if it already is); null if the call ended first. */
  async whenDone (id: string): Promise<ResponseSummary | null> {
    const done = this.#done.get(id)
    if (done !== undefined) return done
    return await new Promise<ResponseSummary | null>(resolve => {
      if (this.#closed) { resolve(null); return }
      const list = this.#byResponse.get(id) ?? []
      list.push(resolve)
      this.#byResponse.set(id, list)
    })
  }

  /** Told when tools start holding the gate (true) and when the last lets go (false): the slow-tool filler. */
  onHold: ((held: boolean) => void) | null = null

  /** A tool is running: requests wait for it. */
  hold (): void {
    if (++this.#holds === 1) this.onHold?.(true)
  }

  release (): void {
    if (this.#holds > 0 && --this.#holds === 0) this.onHold?.(false)
    this.#flush()
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    const all: Waiter[] = [...(this.#pending ?? []), ...(this.#sent ?? [])]
    for (const list of this.#byResponse.values()) all.push(...list)
    this.#pending = null
    this.#sent = null
    this.#byResponse.clear()
    for (const w of all) w(null)
  }

  #flush (): void {
    if (this.#closed || this.#pending === null || this.#active || this.#holds > 0) return
    const waiters = this.#pending
    this.#pending = null
    const instructions = this.#instructions
    this.#instructions = undefined
    if (!this.#engine.startResponse(instructions === undefined ? undefined : { instructions })) {
      for (const w of waiters) w(null)
      return
    }
    this.#active = true
    this.#sent = waiters
  }

  #onStarted (id: string): void {
    this.#active = true
    if (this.#sent !== null && id !== '') {
      this.#byResponse.set(id, [...(this.#byResponse.get(id) ?? []), ...this.#sent])
      this.#sent = null
    }
  }

  #onDone (summary: ResponseSummary): void {
    this.#active = false
    if (summary.id !== '') {
      this.#done.set(summary.id, summary)
      if (this.#done.size > KEEP_DONE) this.#done.delete(this.#done.keys().next().value!)
      const waiters = this.#byResponse.get(summary.id)
      this.#byResponse.delete(summary.id)
      for (const w of waiters ?? []) w(summary)
    }
    this.#flush()
  }

  #onRefused (busy: boolean): void {
    const waiters = this.#sent ?? []
    this.#sent = null
    if (busy) {
      // Another response got in first (server VAD): ask again once it is done.
      this.#active = true
      // A refused aside (no waiters) is dropped, not asked again.
      const merged = [...waiters, ...(this.#pending ?? [])]
      this.#pending = merged.length > 0 ? merged : null
    } else {
      this.#active = false
      for (const w of waiters) w(null)
      this.#flush()
    }
  }
}
