import type { EventEmitter } from 'node:events'
import type { ResponseSummary } from '../tools/types.js'

/** What the gate needs of a CallSession. */
export interface GateSession extends EventEmitter {
  readonly ended: boolean
  sendUpstream: (event: object) => boolean
}

type Waiter = (r: ResponseSummary | null) => void

const ACTIVE_RESPONSE = 'conversation_already_has_active_response'
const KEEP_DONE = 32

/**
 * One `response.create` at a time per call. The Realtime API refuses a
 * response.create while a response is in progress, and tool outputs and DTMF
 * messages arrive mid-response, so requests made then wait for response.done
 * and are merged into one. While a tool is running (hold), requests wait too,
 * so several calls of one response are answered together.
 *
 * It also tells how each response ended and whether it spoke, for end_call and
 * transfer_call.
 */
export class ResponseGate {
  #active = false
  #holds = 0
  #closed = false
  #seq = 0
  /** Requests not yet sent. */
  #pending: Waiter[] | null = null
  /** Sent; they belong to the next response.created. */
  #sent: { eventId: string, waiters: Waiter[] } | null = null
  readonly #byResponse = new Map<string, Waiter[]>()
  readonly #spoke = new Set<string>()
  readonly #done = new Map<string, ResponseSummary>()

  constructor (readonly session: GateSession) {
    session.on('upstream', (e: { type: string, [k: string]: unknown }) => this.#onEvent(e))
    session.once('end', () => this.close())
  }

  /** Whether a response is in progress (or requested and not yet started). */
  get active (): boolean { return this.#active }

  /**
   * Asks the model for a response (now, or after the current one). Resolves
   * when the response it caused is done; null if the call ended first.
   */
  async requestResponse (): Promise<ResponseSummary | null> {
    return await new Promise<ResponseSummary | null>(resolve => {
      if (this.#closed) { resolve(null); return }
      (this.#pending ??= []).push(resolve)
      this.#flush()
    })
  }

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

  /** A tool is running: requests wait for it. */
  hold (): void { this.#holds++ }
  release (): void {
    if (this.#holds > 0) this.#holds--
    this.#flush()
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    const all: Waiter[] = [...(this.#pending ?? []), ...(this.#sent?.waiters ?? [])]
    for (const list of this.#byResponse.values()) all.push(...list)
    this.#pending = null
    this.#sent = null
    this.#byResponse.clear()
    for (const w of all) w(null)
  }

  #flush (): void {
    if (this.#closed || this.#pending === null || this.#active || this.#holds > 0 || this.session.ended) return
    const waiters = this.#pending
    this.#pending = null
    const eventId = `gate_${++this.#seq}`
    if (!this.session.sendUpstream({ type: 'response.create', event_id: eventId })) {
      for (const w of waiters) w(null)
      return
    }
    this.#active = true
    this.#sent = { eventId, waiters }
  }

  #onEvent (e: { type: string, [k: string]: unknown }): void {
    switch (e.type) {
      case 'response.created': {
        this.#active = true
        const id = (e.response as { id?: unknown } | undefined)?.id
        if (this.#sent !== null && typeof id === 'string') {
          this.#byResponse.set(id, [...(this.#byResponse.get(id) ?? []), ...this.#sent.waiters])
          this.#sent = null
        }
        break
      }
      case 'response.output_item.added': {
        const item = e.item as { type?: unknown, role?: unknown } | undefined
        if (item?.type === 'message' && typeof e.response_id === 'string') this.#spoke.add(e.response_id)
        break
      }
      case 'response.done': {
        const r = e.response as { id?: unknown, status?: unknown, status_details?: { reason?: unknown } | null } | undefined
        this.#active = false
        if (typeof r?.id === 'string') {
          const summary: ResponseSummary = {
            id: r.id,
            status: typeof r.status === 'string' ? r.status : '',
            reason: typeof r.status_details?.reason === 'string' ? r.status_details.reason : '',
            spoke: this.#spoke.has(r.id)
          }
          this.#spoke.delete(r.id)
          this.#done.set(r.id, summary)
          if (this.#done.size > KEEP_DONE) this.#done.delete(this.#done.keys().next().value!)
          const waiters = this.#byResponse.get(r.id)
          this.#byResponse.delete(r.id)
          for (const w of waiters ?? []) w(summary)
        }
        this.#flush()
        break
      }
      case 'error': {
        const err = e.error as { code?: unknown, event_id?: unknown } | undefined
        if (this.#sent === null || err?.event_id !== this.#sent.eventId) break
        const { waiters } = this.#sent
        this.#sent = null
        if (err.code === ACTIVE_RESPONSE) {
          // Another response got in first (server VAD): ask again once it is done.
          this.#active = true
          this.#pending = [...waiters, ...(this.#pending ?? [])]
        } else {
          this.#active = false
          for (const w of waiters) w(null)
          this.#flush()
        }
        break
      }
    }
  }
}

const gates = new WeakMap<GateSession, ResponseGate>()

/** The session's gate, created on first use; every extension must share it. */
export function responseGate (session: GateSession): ResponseGate {
  let gate = gates.get(session)
  if (gate === undefined) {
    gate = new ResponseGate(session)
    gates.set(session, gate)
  }
  return gate
}
