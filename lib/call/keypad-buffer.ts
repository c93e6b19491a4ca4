/**
 * Keypad presses on their way to the model: a run of presses becomes one
 * message, and at most PRESSES_PER_SECOND of them are passed on, so a burst
 * of hundreds (a stuck key, a flood from a token holder) costs the model one
 * short message, not hundreds of conversation items.
 */
/** How long after the first press of a run the run is sent (people type a number in bursts). */
export const KEYPAD_FLUSH_MS = 400
/** Presses passed on per second; the rest are counted and dropped. */
export const PRESSES_PER_SECOND = 10
const WINDOW_MS = 1000

export class KeypadBuffer {
  #digits: string[] = []
  #dropped = 0
  #windowStart = -Infinity
  #inWindow = 0
  #timer: NodeJS.Timeout | null = null

  /** `send(digits, dropped)` gets each run: the presses kept, in order, and how many were dropped. */
  constructor (private readonly send: (digits: string[], dropped: number) => void, private readonly now: () => number = () => performance.now()) {}

  push (digit: string): void {
    const t = this.now()
    if (t - this.#windowStart >= WINDOW_MS) {
      this.#windowStart = t
      this.#inWindow = 0
    }
    if (this.#inWindow >= PRESSES_PER_SECOND) {
      this.#dropped++
    } else {
      this.#inWindow++
      this.#digits.push(digit)
    }
    this.#timer ??= setTimeout(() => this.flush(), KEYPAD_FLUSH_MS)
  }

  flush (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    if (this.#digits.length === 0) return
    const digits = this.#digits
    const dropped = this.#dropped
    this.#digits = []
    this.#dropped = 0
    this.send(digits, dropped)
  }

  /** The call ended: nothing more is sent. */
  close (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#digits = []
  }
}
