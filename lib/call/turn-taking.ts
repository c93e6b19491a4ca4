import type { TurnProfile } from '../realtime/turn-profiles.js'
import { Backchannels } from './backchannels.js'

/**
 * Decides what the caller's sounds mean, so that aizuchi and line noise never
 * cut the assistant off while a real interruption stops it at once. No I/O and
 * no timers: it is fed the caller's frames (which arrive every 20 ms for the
 * whole call, so they are its clock), the engine's VAD events, the caller's
 * transcripts and whether the assistant is speaking, and it answers with
 * decisions the session carries out.
 *
 * - Caller sound while the assistant is busy (speaking, or asked to speak):
 *   'duck' at once; 'interrupt' as soon as BARGE_IN_MIN_MS of it is voiced,
 *   or when its transcript is not a backchannel; else, after it stopped and
 *   its transcript came (or did not come in time), 'restore' and 'backchannel'.
 * - Caller sound while the assistant is silent: 'respond' once after it stops
 *   when it was speech; a short sound waits for its transcript, and is 'noise'
 *   when there are no words.
 * - After an interruption, 'respond' once when the caller stops.
 */
export type TurnDecision =
  /** Lower the assistant's volume while deciding (optional for the session). */
  | { kind: 'duck' }
  /** Back to full volume: it was not an interruption. */
  | { kind: 'restore' }
  /** Clear the caller's playback, truncate at what was heard, cancel the response. */
  | { kind: 'interrupt', itemId: string | null, voicedMs: number, reason: 'long' | 'words', text: string | null }
  /** The answer goes on; the session removes the caller's item (`itemId`) so that it is never answered. */
  | { kind: 'backchannel', itemId: string | null, voicedMs: number, text: string | null }
  /** A short sound without words while the assistant was silent: removed, not answered. */
  | { kind: 'noise', itemId: string | null, voicedMs: number }
  /** Ask the engine for an answer (engine.startResponse()). */
  | { kind: 'respond', itemId: string | null }

export interface TurnStats {
  backchannels: number
  noises: number
  interruptions: number
  responses: number
}

export interface TurnTakerOptions {
  profile: TurnProfile
  /** The decision sink: called synchronously, in order. */
  decide: (d: TurnDecision) => void
  /** Monotonic milliseconds (performance.now in the session, a fake in tests). */
  now: () => number
  /** Extra backchannel words (BACKCHANNEL_WORDS), or a prepared list. */
  backchannels?: Backchannels
  /** False when the session has no input transcription: short sounds are decided at speech stop. */
  transcripts?: boolean
}

interface Utterance {
  itemId: string | null
  /** The assistant was busy when it began. */
  overlapped: boolean
  voicedMs: number
  state: 'speaking' | 'waiting' | 'done'
  interrupted: boolean
  /** When a short sound stops waiting for its transcript. */
  deadline: number
}

const FRAME_MS = 20
/** Silence inside a word or between morae that does not end a voiced run. */
const RUN_GAP_MS = 200
/** How fast the noise floor rises toward louder frames (it falls at once): quickly over quiet frames, slowly over voiced ones, so speech barely lifts it but a steady hum is learnt within seconds. */
const FLOOR_RISE_QUIET = 0.05
const FLOOR_RISE_VOICED = 0.002
/** The first second of a call (the greeting, usually) learns the line as fast as quiet frames do. */
const WARMUP_MS = 1000
const SILENCE_DBFS = -100

/**
 * RMS level of a 16-bit PCM frame in dBFS (-100 for digital silence): samples,
 * or little-endian bytes as forwarded (a Buffer may sit at an odd offset, so
 * bytes are read, not viewed).
 */
export function frameDbfs (pcm: Int16Array | Uint8Array): number {
  let sum = 0
  let n = 0
  if (pcm instanceof Int16Array) {
    for (const s of pcm) sum += s * s
    n = pcm.length
  } else {
    for (let i = 0; i + 1 < pcm.length; i += 2) {
      const v = ((pcm[i]! | (pcm[i + 1]! << 8)) << 16) >> 16 // i + 1 < length: both bytes exist
      sum += v * v
    }
    n = pcm.length >> 1
  }
  if (n === 0) return SILENCE_DBFS
  const rms = Math.sqrt(sum / n) / 32768
  return rms <= 0 ? SILENCE_DBFS : Math.max(SILENCE_DBFS, 20 * Math.log10(rms))
}

export class TurnTaker {
  readonly stats: TurnStats = { backchannels: 0, noises: 0, interruptions: 0, responses: 0 }
  readonly #o: TurnTakerOptions
  readonly #words: Backchannels
  #busy = false
  #ducked = false
  #floor = Number.NaN
  #heardMs = 0
  /** Voiced ms of the current run of sound, and the silence since its last voiced frame. */
  #runMs = 0
  #gapMs = RUN_GAP_MS
  #current: Utterance | null = null
  readonly #waiting: Utterance[] = []

  constructor (o: TurnTakerOptions) {
    this.#o = o
    this.#words = o.backchannels ?? new Backchannels()
  }

  get busy (): boolean { return this.#busy }

  /** One frame of caller audio as forwarded to the engine (samples or 16-bit LE bytes). */
  frame (pcm: Int16Array | Uint8Array, ms = FRAME_MS): void {
    this.level(frameDbfs(pcm), ms)
  }

  /** The level of one frame of caller audio, when the session has it already. */
  level (dbfs: number, ms = FRAME_MS): void {
    const p = this.#o.profile
    // A call that opens with speech must not take the speech for the floor.
    if (Number.isNaN(this.#floor)) this.#floor = Math.min(dbfs, p.voicedDbfs - p.voicedOverFloorDb)
    const voiced = dbfs >= p.voicedDbfs && dbfs >= this.#floor + p.voicedOverFloorDb
    if (dbfs < this.#floor) this.#floor = dbfs
    else this.#floor += (dbfs - this.#floor) * (voiced && this.#heardMs >= WARMUP_MS ? FLOOR_RISE_VOICED : FLOOR_RISE_QUIET)
    this.#heardMs += ms
    if (voiced) {
      if (this.#gapMs >= RUN_GAP_MS) this.#runMs = 0
      this.#gapMs = 0
      this.#runMs += ms
      if (this.#current !== null) this.#current.voicedMs += ms
    } else {
      this.#gapMs += ms
    }
    this.#checkInterrupt()
    this.#expire()
  }

  /** The engine heard the caller start (its item id, when the engine gives one). */
  speechStarted (itemId: string | null = null): void {
    if (this.#current !== null) this.speechStopped(this.#current.itemId)
    // Sound the level meter already counted belongs to this utterance.
    const carried = this.#gapMs < RUN_GAP_MS ? this.#runMs : 0
    this.#current = { itemId, overlapped: this.#busy, voicedMs: carried, state: 'speaking', interrupted: false, deadline: 0 }
    if (this.#busy && !this.#ducked) {
      this.#ducked = true
      this.#o.decide({ kind: 'duck' })
    }
    this.#checkInterrupt()
  }

  speechStopped (itemId: string | null = null): void {
    const u = this.#current
    if (u === null) return
    this.#current = null
    if (u.itemId === null) u.itemId = itemId
    if (u.interrupted) return this.#respond(u)
    // Sound that outlasted the assistant's answer is the caller's turn, not a backchannel to it.
    u.overlapped = u.overlapped && this.#busy
    this.#restore()
    if (u.voicedMs >= (u.overlapped ? this.#o.profile.bargeInMinMs : this.#o.profile.minUtteranceMs)) return this.#respond(u)
    if (this.#o.transcripts === false) return this.#settle(u, null)
    u.state = 'waiting'
    u.deadline = this.#o.now() + this.#o.profile.transcriptWaitMs
    this.#waiting.push(u)
  }

  /** The caller's final transcript of one item. */
  callerTranscript (itemId: string, text: string): void {
    const i = this.#waiting.findIndex(u => u.itemId === itemId)
    const u = this.#waiting[i]
    if (u === undefined) return
    this.#waiting.splice(i, 1)
    this.#settle(u, text.trim())
  }

  /**
   * The assistant started (true) or stopped (false) being heard: true at
   * response start, false when its last audio has played or was cleared.
   */
  assistantSpeaking (on: boolean): void {
    this.#busy = on
    if (!on) this.#restore()
  }

  /** Short sounds still waiting for their transcript (for tests and the record). */
  get pending (): number { return this.#waiting.length }

  #checkInterrupt (): void {
    const u = this.#current
    if (u === null || u.interrupted || !u.overlapped || !this.#busy) return
    if (u.voicedMs >= this.#o.profile.bargeInMinMs) this.#interrupt(u, 'long', null)
  }

  #interrupt (u: Utterance, reason: 'long' | 'words', text: string | null): void {
    u.interrupted = true
    this.#busy = false
    this.#ducked = false
    this.stats.interruptions++
    this.#o.decide({ kind: 'interrupt', itemId: u.itemId, voicedMs: u.voicedMs, reason, text })
  }

  /** A short sound, with its words (null: none came in time). */
  #settle (u: Utterance, text: string | null): void {
    u.state = 'done'
    const words = text !== null && text !== ''
    if (words && !this.#words.has(text)) {
      if (u.overlapped && this.#busy) this.#interrupt(u, 'words', text)
      return this.#respond(u)
    }
    if (u.overlapped) {
      this.stats.backchannels++
      this.#o.decide({ kind: 'backchannel', itemId: u.itemId, voicedMs: u.voicedMs, text: words ? text : null })
    } else if (words) {
      // 「はい」 to the assistant's question is an answer.
      this.#respond(u)
    } else {
      this.stats.noises++
      this.#o.decide({ kind: 'noise', itemId: u.itemId, voicedMs: u.voicedMs })
    }
  }

  #respond (u: Utterance): void {
    u.state = 'done'
    if (this.#busy) return
    this.#busy = true
    this.stats.responses++
    this.#o.decide({ kind: 'respond', itemId: u.itemId })
  }

  #restore (): void {
    if (!this.#ducked) return
    this.#ducked = false
    this.#o.decide({ kind: 'restore' })
  }

  #expire (): void {
    if (this.#waiting.length === 0) return
    const now = this.#o.now()
    for (let u = this.#waiting[0]; u !== undefined && u.deadline <= now; u = this.#waiting[0]) {
      this.#waiting.shift()
      this.#settle(u, null)
    }
  }
}
