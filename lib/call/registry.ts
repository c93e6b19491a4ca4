/** What the registry needs from a live call to end it at shutdown. */
export interface LiveCall {
  readonly id: string
  /** False while the call waits for its media socket: nobody is on the line yet. */
  readonly mediaAttached: boolean
  end: (reason: 'shutdown') => void
}

export type Admission = 'ok' | 'busy' | 'draining'

/**
 * Live calls of this process: admission against MAX_CONCURRENT_CALLS and the
 * graceful drain on shutdown, where new calls are refused but calls in
 * progress keep talking until they end or the drain time is up.
 */
export class CallRegistry {
  readonly #calls = new Map<string, LiveCall>()
  readonly #idle = new Set<() => void>()
  #draining = false

  constructor (readonly max: number) {}

  get size (): number { return this.#calls.size }
  get draining (): boolean { return this.#draining }

  admission (): Admission {
    if (this.#draining) return 'draining'
    return this.#calls.size >= this.max ? 'busy' : 'ok'
  }

  add (call: LiveCall): void {
    this.#calls.set(call.id, call)
  }

  delete (id: string): void {
    if (!this.#calls.delete(id) || this.#calls.size > 0) return
    for (const resolve of this.#idle) resolve()
    this.#idle.clear()
  }

  /** Stops admitting calls, waits for the live ones up to `ms`, then ends the rest. Returns how many had to be cut. */
  async drain (ms: number): Promise<number> {
    this.#draining = true
    // A prepared call has nobody on the line to finish talking: it must not hold the drain up.
    for (const call of [...this.#calls.values()]) if (!call.mediaAttached) call.end('shutdown')
    if (this.#calls.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>(resolve => {
        this.#idle.add(resolve)
        timer = setTimeout(resolve, ms)
      })
      clearTimeout(timer)
    }
    const cut = [...this.#calls.values()]
    for (const call of cut) call.end('shutdown')
    return cut.length
  }
}
