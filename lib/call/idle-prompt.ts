/**
 * No dead air. IdlePrompt: when the caller says nothing for IDLE_PROMPT_SECONDS
 * after the assistant finished, one check-in; after a second silence, a
 * goodbye (the session then hangs up). ToolFiller: a tool still running after
 * TOOL_FILLER_MS gets one short filler instead of silence.
 *
 * Timers are injected so tests drive them (node:test mock.timers works too).
 */
export interface Timers {
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    // A check-in timer must not keep a stopping server alive.
    if (typeof t === 'object' && typeof t.unref === 'function') t.unref()
    return t
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout)
}

/** What the assistant says, in the persona's voice, as one-off response instructions. */
export const CHECK_IN_INSTRUCTIONS = '相手がしばらく黙っています。いつもの口調で「もしもし、お聞きになれますか？」とだけ言ってください。 / The caller has been silent: say only "Hello, can you hear me?" in their language, in your usual voice.'
export const GOODBYE_INSTRUCTIONS = '相手から応答がありません。「お電話が遠いようですので、いったん失礼いたします。またおかけ直しください。」とだけ丁寧に言ってください。 / No answer from the caller: say only a polite goodbye ("I will hang up now; please call again"), in their language.'
export const FILLER_INSTRUCTIONS = '確認に少し時間がかかっています。「少々お待ちください」とだけ言ってください。結果はまだ言わないでください。 / A lookup is taking a moment: say only "One moment, please", and nothing about its result yet.'

export const TOOL_FILLER_MS = 1500

export interface IdlePromptOptions {
  /** IDLE_PROMPT_SECONDS × 1000; 0 turns the check-in off. */
  idleMs: number
  /** Say CHECK_IN_INSTRUCTIONS (engine.startResponse({ instructions })). */
  onCheckIn: () => void
  /** Say GOODBYE_INSTRUCTIONS, then hang up once it has played. */
  onGoodbye: () => void
  timers?: Timers
}

export class IdlePrompt {
  /** 0: nothing said yet; 1: checked in; 2: said goodbye (it stays silent from then on). */
  #stage: 0 | 1 | 2 = 0
  #timer: unknown = null
  #stopped = false
  readonly #o: IdlePromptOptions
  readonly #t: Timers

  constructor (o: IdlePromptOptions) {
    this.#o = o
    this.#t = o.timers ?? realTimers
  }

  get stage (): 0 | 1 | 2 { return this.#stage }

  /** The assistant's last audio has played: the caller's silence counts from now. */
  assistantFinished (): void {
    this.#disarm()
    if (this.#stopped || this.#o.idleMs <= 0 || this.#stage === 2) return
    this.#timer = this.#t.setTimeout(() => this.#fire(), this.#o.idleMs)
  }

  /** The assistant is speaking (or about to): no silence to count. */
  assistantStarted (): void {
    this.#disarm()
  }

  /** The caller spoke (a real utterance, not a backchannel or noise): start over. */
  callerSpoke (): void {
    this.#disarm()
    if (this.#stage === 1) this.#stage = 0
  }

  stop (): void {
    this.#stopped = true
    this.#disarm()
  }

  #fire (): void {
    this.#timer = null
    if (this.#stopped) return
    if (this.#stage === 0) {
      this.#stage = 1
      this.#o.onCheckIn()
    } else {
      this.#stage = 2
      this.#o.onGoodbye()
    }
  }

  #disarm (): void {
    if (this.#timer === null) return
    this.#t.clearTimeout(this.#timer)
    this.#timer = null
  }
}

export interface ToolFillerOptions {
  /** How long a tool may run before the filler (TOOL_FILLER_MS). */
  afterMs?: number
  /** Say FILLER_INSTRUCTIONS. */
  onFiller: () => void
  timers?: Timers
}

/** One filler per batch of tool calls: calls running at once share it. */
export class ToolFiller {
  readonly #running = new Set<string>()
  #timer: unknown = null
  #stopped = false
  readonly #o: ToolFillerOptions
  readonly #t: Timers

  constructor (o: ToolFillerOptions) {
    this.#o = o
    this.#t = o.timers ?? realTimers
  }

  started (callId: string): void {
    if (this.#stopped) return
    const first = this.#running.size === 0
    this.#running.add(callId)
    if (first) this.#timer = this.#t.setTimeout(() => this.#fire(), this.#o.afterMs ?? TOOL_FILLER_MS)
  }

  finished (callId: string): void {
    this.#running.delete(callId)
    if (this.#running.size === 0) this.#disarm()
  }

  stop (): void {
    this.#stopped = true
    this.#running.clear()
    this.#disarm()
  }

  #fire (): void {
    this.#timer = null
    if (!this.#stopped && this.#running.size > 0) this.#o.onFiller()
  }

  #disarm (): void {
    if (this.#timer === null) return
    this.#t.clearTimeout(this.#timer)
    this.#timer = null
  }
}
