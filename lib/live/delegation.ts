/** One delegated Responses response and its function calls. */
interface Delegated {
  /** The Responses response id, once known ('' before). */
  responseId: string
  open: Set<string>
  answered: number
  completed: boolean
}

/**
 * The function calls of GPT-Live's Responses delegation: each delegated
 * response may call several; the continuation (one `response.create`) may be
 * asked for only once the response is complete and every one of its calls is
 * answered (a partial batch is refused).
 */
export class Delegations {
  readonly #byKey = new Map<string, Delegated>()
  readonly #keyOfCall = new Map<string, string>()
  /** A continuation was asked for while calls were still open. */
  #wanted = false

  #get (key: string): Delegated {
    let d = this.#byKey.get(key)
    if (d === undefined) {
      d = { responseId: '', open: new Set(), answered: 0, completed: false }
      this.#byKey.set(key, d)
    }
    return d
  }

  responseId (key: string): string { return this.#byKey.get(key)?.responseId ?? '' }

  created (key: string, responseId: string): void {
    if (responseId !== '') this.#get(key).responseId = responseId
  }

  called (key: string, callId: string): void {
    this.#get(key).open.add(callId)
    this.#keyOfCall.set(callId, key)
  }

  /** The response ended; false if it had no calls (nothing to continue). */
  completed (key: string): void {
    const d = this.#get(key)
    d.completed = true
    if (d.open.size === 0 && d.answered === 0) this.#byKey.delete(key)
  }

  answered (callId: string): void {
    const key = this.#keyOfCall.get(callId)
    if (key === undefined) return
    this.#keyOfCall.delete(callId)
    const d = this.#get(key)
    if (d.open.delete(callId)) d.answered++
  }

  /** Whether a function call is still open (its result not yet sent). */
  get waiting (): boolean {
    for (const d of this.#byKey.values()) if (d.open.size > 0) return true
    return false
  }

  /**
   * Asks for the continuation: true (and forgotten) when some response is
   * complete with every call answered; otherwise remembered until one is.
   */
  continueNow (): boolean {
    for (const [key, d] of this.#byKey) {
      if (d.completed && d.open.size === 0 && d.answered > 0) {
        this.#byKey.delete(key)
        this.#wanted = false
        return true
      }
    }
    this.#wanted = this.#byKey.size > 0
    return false
  }

  /** A continuation asked for earlier that can go now. */
  pendingReady (): boolean { return this.#wanted && this.continueNow() }
}
