/**
 * Remembers one-time identifiers (a signed webhook's jti, a media token's id)
 * until they expire, so that each is accepted once. Only ids that passed a
 * signature check reach it, so its size is bounded by genuine traffic.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>()
  #nextSweepMs = 0

  /** Interval between sweeps of expired ids. */
  static readonly SWEEP_MS = 30_000

  /**
   * Records `id` as used until `expiresAtMs`. False when it was already used
   * (and has not expired since): the caller refuses the request.
   */
  use (id: string, expiresAtMs: number, nowMs = Date.now()): boolean {
    this.#sweep(nowMs)
    const until = this.#seen.get(id)
    if (until !== undefined && until >= nowMs) return false
    this.#seen.set(id, expiresAtMs)
    return true
  }

  /** True while `id` is remembered as used. */
  has (id: string, nowMs = Date.now()): boolean {
    const until = this.#seen.get(id)
    return until !== undefined && until >= nowMs
  }

  get size (): number { return this.#seen.size }

  #sweep (nowMs: number): void {
    if (nowMs < this.#nextSweepMs) return
    this.#nextSweepMs = nowMs + ReplayGuard.SWEEP_MS
    for (const [id, until] of this.#seen) if (until < nowMs) this.#seen.delete(id)
  }
}
