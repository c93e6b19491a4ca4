/** A pause this long between two fragments (on the session's timeline, or on the clock once they stop) ends a line. */
export const LINE_PAUSE_MS = 800

export interface LineEvents {
  /** A new line began: `itemId` names it from now on. */
  started: (itemId: string) => void
  delta: (itemId: string, text: string) => void
  done: (itemId: string, text: string) => void
}

/**
 * One side's words as GPT-Live streams them: fragments with their place on
 * the session timeline (start_ms, end_ms) and no turn boundaries, no "done".
 * They are joined into lines, a line ending at a pause — a gap on the timeline
 * between one fragment's end and the next one's start, or no fragment for
 * LINE_PAUSE_MS by the clock (the side fell silent).
 */
export class TranscriptLines {
  readonly #prefix: string
  readonly #on: LineEvents
  readonly #pauseMs: number
  #n = 0
  #itemId: string | null = null
  #text = ''
  #lastEndMs = 0
  #timer: NodeJS.Timeout | null = null

  constructor (prefix: string, on: LineEvents, pauseMs = LINE_PAUSE_MS) {
    this.#prefix = prefix
    this.#on = on
    this.#pauseMs = pauseMs
  }

  /** The line being spoken, if any. */
  get current (): string | null { return this.#itemId }

  push (delta: string, startMs: number, endMs: number): void {
    if (this.#itemId !== null && startMs - this.#lastEndMs >= this.#pauseMs) this.finish()
    if (this.#itemId === null) {
      this.#itemId = `${this.#prefix}_${++this.#n}`
      this.#text = ''
      this.#on.started(this.#itemId)
    }
    this.#text += delta
    this.#lastEndMs = Math.max(this.#lastEndMs, endMs)
    this.#on.delta(this.#itemId, delta)
    // One timer per line, pushed back on each fragment: a new one per fragment (ten a second per call) lives long enough
    // to reach the old generation, and those collections held up the calls' audio beat (bench, 200 calls).
    if (this.#timer !== null) this.#timer.refresh()
    else {
      this.#timer = setTimeout(() => { this.#timer = null; this.finish() }, this.#pauseMs)
      this.#timer.unref()
    }
  }

  /** Ends the current line (a pause, or the call ending). */
  finish (): void {
    if (this.#timer !== null) { clearTimeout(this.#timer); this.#timer = null }
    const id = this.#itemId
    if (id === null) return
    this.#itemId = null
    this.#on.done(id, this.#text)
    this.#text = ''
  }
}
