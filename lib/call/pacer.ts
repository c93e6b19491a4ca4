import { performance } from 'node:perf_hooks'
import { FRAME_MS } from './playout.js'
import { tickChannel, tickMessage } from './probe.js'

export interface Paced {
  tick: (nowMs: number) => void
  /** Called once every member of the beat's group has ticked: for work that must not delay anyone's frame. */
  afterTick?: () => void
}

/** Groups of calls, each served at its own phase of the 20 ms period. */
export const PHASES = 4

/**
 * One 20 ms clock for every call of the process. Deadlines are absolute
 * (start + n × 5 ms), so timer lateness never accumulates into drift, and one
 * timer serves a thousand calls instead of a thousand timers. It runs only
 * while some call needs it.
 *
 * Calls are spread over PHASES groups, 20 / PHASES ms apart, each group
 * served once per 20 ms. Serving every call in one beat would make a call's
 * moment within the beat depend on how much all the calls before it had to
 * do: when half of them stop talking at once, the rest shift by half a beat's
 * work — jitter that grows with the number of calls. In groups, a call only
 * shifts with its own group's work, and the work is spread over the period.
 */
export class Pacer {
  readonly #groups: Array<Set<Paced>> = Array.from({ length: PHASES }, () => new Set())
  readonly #groupOf = new Map<Paced, Set<Paced>>()
  /** How many times each group has been served (for the probe). */
  readonly #rounds = new Array<number>(PHASES).fill(0)
  #timer: NodeJS.Timeout | null = null
  #startMs = 0
  /** Beats since start: beat n serves group n % PHASES. */
  #n = 0
  #deadline = 0
  /** How late each tick fired, for the benchmark (ms). */
  onLateness: ((ms: number) => void) | null = null

  get size (): number { return this.#groupOf.size }

  add (member: Paced): void {
    if (this.#groupOf.has(member)) return
    // The least busy group, so the work per beat stays even.
    let group = this.#groups[0]!
    for (const g of this.#groups) if (g.size < group.size) group = g
    group.add(member)
    this.#groupOf.set(member, group)
    if (this.#timer === null) {
      this.#startMs = performance.now()
      this.#n = -1
      this.#schedule()
    }
  }

  /**
   * Runs the beat now if it is due. The calls' I/O handlers call this, so a
   * burst of work queued ahead of the timer (every call's answer landing in
   * the same instant) holds the beat back by one handler, not by the burst.
   */
  poll (): void {
    if (this.#timer === null) return
    if (performance.now() >= this.#deadline) {
      clearTimeout(this.#timer)
      this.#run(this.#deadline)
    }
  }

  delete (member: Paced): void {
    const group = this.#groupOf.get(member)
    if (group === undefined) return
    group.delete(member)
    this.#groupOf.delete(member)
    if (this.#groupOf.size === 0 && this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
  }

  #schedule (): void {
    this.#n++
    const now = performance.now()
    const step = FRAME_MS / PHASES
    let deadline = this.#startMs + this.#n * step
    if (deadline < now - FRAME_MS) {
      // Fell a whole period behind (a long GC or a stalled loop): skip the missed beats rather than firing them in a burst.
      this.#n = Math.ceil((now - FRAME_MS - this.#startMs) / step)
      deadline = this.#startMs + this.#n * step
    }
    this.#deadline = deadline
    this.#timer = setTimeout(this.#run, Math.max(0, deadline - now), deadline)
  }

  readonly #run = (deadline: number): void => {
    const now = performance.now()
    this.onLateness?.(now - deadline)
    const g = this.#n % PHASES
    const group = this.#groups[g]!
    const probed = tickChannel.hasSubscribers
    if (probed) { tickMessage.start = true; tickMessage.group = g; tickMessage.round = ++this.#rounds[g]!; tickMessage.deadline = deadline; tickMessage.at = now; tickChannel.publish(tickMessage) }
    for (const m of group) m.tick(now)
    if (probed) { tickMessage.start = false; tickMessage.at = performance.now(); tickChannel.publish(tickMessage) }
    for (const m of group) m.afterTick?.()
    if (this.#groupOf.size > 0) this.#schedule()
    else this.#timer = null
  }
}
