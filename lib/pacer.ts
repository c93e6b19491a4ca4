import { performance } from 'node:perf_hooks'
import { FRAME_MS } from './playout.js'
import { tickChannel, tickMessage } from './probe.js'

export interface Paced {
  tick: (nowMs: number) => void
}

/**
 * One 20 ms clock for every call of the process. Deadlines are absolute
 * (start + n × 20 ms), so timer lateness never accumulates into drift, and one
 * timer serves a thousand calls instead of a thousand timers. It runs only
 * while some call needs it.
 */
export class Pacer {
  readonly #members = new Set<Paced>()
  #timer: NodeJS.Timeout | null = null
  #startMs = 0
  #n = 0
  /** How late each tick fired, for the benchmark (ms). */
  onLateness: ((ms: number) => void) | null = null

  get size (): number { return this.#members.size }

  add (member: Paced): void {
    this.#members.add(member)
    if (this.#timer === null) {
      this.#startMs = performance.now()
      this.#n = 0
      this.#schedule()
    }
  }

  delete (member: Paced): void {
    this.#members.delete(member)
    if (this.#members.size === 0 && this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
  }

  #schedule (): void {
    this.#n++
    const now = performance.now()
    let deadline = this.#startMs + this.#n * FRAME_MS
    if (deadline < now) {
      // Fell behind (a long GC or a stalled loop): skip the missed ticks rather than firing them in a burst.
      this.#n = Math.ceil((now - this.#startMs) / FRAME_MS)
      deadline = this.#startMs + this.#n * FRAME_MS
    }
    this.#timer = setTimeout(this.#run, deadline - now, deadline)
  }

  readonly #run = (deadline: number): void => {
    const now = performance.now()
    this.onLateness?.(now - deadline)
    const probed = tickChannel.hasSubscribers
    if (probed) { tickMessage.start = true; tickMessage.deadline = deadline; tickMessage.at = now; tickChannel.publish(tickMessage) }
    for (const m of this.#members) m.tick(now)
    if (probed) { tickMessage.start = false; tickMessage.at = performance.now(); tickChannel.publish(tickMessage) }
    if (this.#members.size > 0) this.#schedule()
    else this.#timer = null
  }
}
