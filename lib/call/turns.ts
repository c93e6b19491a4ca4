import type { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { Role, SessionEventMap } from './events.js'

type TurnEmitter = Pick<EventEmitter<SessionEventMap>, 'emit'>

/** Items remembered for their turn's time; a long call forgets the oldest rather than grow. */
const MAX_ITEMS = 256

/**
 * The conversation's turns as the session tells them: each item takes its
 * place once ('turn': caller speech began or was committed, an assistant
 * message began) and its final text carries that place's time ('transcript'),
 * so records keep conversation order though a caller's transcription often
 * finishes after the assistant's answer.
 */
export class Turns {
  readonly #at = new Map<string, number>()
  readonly #startedAt: number
  readonly #events: TurnEmitter

  constructor (startedAt: number, events: TurnEmitter) {
    this.#startedAt = startedAt
    this.#events = events
  }

  placed (role: Role, itemId: string): void {
    if (itemId === '' || this.#at.has(itemId)) return
    if (this.#at.size >= MAX_ITEMS) this.#at.clear()
    const atMs = Math.round(performance.now() - this.#startedAt)
    this.#at.set(itemId, atMs)
    this.#events.emit('turn', { role, itemId, atMs })
  }

  heard (role: Role, itemId: string, text: string): void {
    this.placed(role, itemId)
    this.#events.emit('transcript', { role, itemId, text, atMs: this.#at.get(itemId) ?? 0 })
  }
}
