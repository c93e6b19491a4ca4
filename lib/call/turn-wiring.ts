import { performance } from 'node:perf_hooks'
import type { Log } from '../log/logger.js'
import type { SpeechEngine } from '../realtime/engine.js'
import type { ResponseGate } from '../realtime/response-gate.js'
import type { TurnProfile } from '../realtime/turn-profiles.js'
import type { Backchannels } from './backchannels.js'
import type { CallCounters } from './stats.js'
import { TurnTaker, type TurnDecision } from './turn-taking.js'
import { CHECK_IN_INSTRUCTIONS, FILLER_INSTRUCTIONS, GOODBYE_INSTRUCTIONS, IdlePrompt, ToolFiller, type Timers } from './idle-prompt.js'

/** How a call takes turns (plugins/bridge.ts builds it from TURN_PROFILE, BARGE_IN_MIN_MS, BACKCHANNEL_WORDS, IDLE_PROMPT_SECONDS). */
export interface TurnSettings {
  profile: TurnProfile
  backchannels: Backchannels
  /** The engine transcribes the caller (without it, short sounds are decided at speech stop). */
  transcripts: boolean
  /** IDLE_PROMPT_SECONDS × 1000; 0 = no check-in. */
  idleMs: number
  /** How long a tool runs before its filler (default TOOL_FILLER_MS). */
  toolFillerMs?: number
  timers?: Timers
}

/** What the wiring needs of its call. */
export interface TurnHost {
  readonly engine: SpeechEngine
  readonly gate: ResponseGate
  readonly stats: CallCounters
  readonly log: Log
  /** Cut what plays and cancel the response (BargeIn.interrupt, lib/call/barge-in.ts). */
  interrupt: () => void
  /** The session's 'backchannel' event. */
  backchannel: (e: { ms: number, text: string | null }) => void
  whenPlayed: () => Promise<void>
  /** The caller stayed silent through the check-in, and the goodbye has played. */
  hangUp: () => void
}

/**
 * The bridge decides turns (issue #17): the engine was configured not to cut
 * or answer on its own (session.update's `interrupt_response` and
 * `create_response` off), so this wires the TurnTaker (turn-taking.ts) into
 * the call and carries out its decisions:
 *
 * | decision    | action                                                          |
 * |-------------|-----------------------------------------------------------------|
 * | interrupt   | BargeIn.interrupt(): clear Vonage, truncate at what was heard, cancel the response |
 * | respond     | one response through the gate                                   |
 * | backchannel | delete the caller's item (conversation.item.delete); 'backchannel' event |
 * | noise       | the same                                                        |
 * | duck/restore| not carried out (the answer plays at full volume throughout)   |
 *
 * Fed with: every forwarded caller frame, the engine's speech start/stop and
 * caller transcripts, and whether the assistant is busy (a response in
 * progress, or its audio still playing per the ledger) on each pacer beat.
 * Also no dead air: IdlePrompt (check-in, then goodbye and hang-up) and
 * ToolFiller (one filler, without tools, while tools hold the gate).
 */
export class TurnWiring {
  readonly turn: TurnTaker
  readonly #h: TurnHost
  readonly #idle: IdlePrompt
  readonly #filler: ToolFiller
  #busy = false
  #playing = false
  #callerSpeaking = false
  #toolsHeld = false
  #stopped = false

  constructor (s: TurnSettings, h: TurnHost) {
    this.#h = h
    this.turn = new TurnTaker({ profile: s.profile, backchannels: s.backchannels, transcripts: s.transcripts, now: () => performance.now(), decide: (d) => this.#decide(d) })
    this.#idle = new IdlePrompt({ idleMs: s.idleMs, timers: s.timers, onCheckIn: () => this.#checkIn(), onGoodbye: () => this.#goodbye() })
    this.#filler = new ToolFiller({ afterMs: s.toolFillerMs, timers: s.timers, onFiller: () => { this.#fill().catch(err => h.log.error({ err }, 'tool filler failed')) } })
    const e = h.engine
    e.on('speech-started', ({ itemId }) => {
      this.#callerSpeaking = true
      this.#idle.assistantStarted()
      this.turn.speechStarted(itemId === '' ? null : itemId)
    })
    e.on('speech-stopped', ({ itemId }) => {
      this.#callerSpeaking = false
      this.turn.speechStopped(itemId === '' ? null : itemId)
    })
    e.on('caller-transcript', ({ itemId, text }) => this.turn.callerTranscript(itemId, text))
    e.on('response-started', () => this.#setBusy(true))
    h.gate.onHold = (held) => {
      this.#toolsHeld = held
      if (held) this.#filler.started('tools')
      else this.#filler.finished('tools')
    }
  }

  /** One caller frame as forwarded to the engine (16-bit LE at the call's rate), `ms` long. */
  frame (pcm: Uint8Array, ms: number): void {
    if (!this.#stopped) this.turn.frame(pcm, ms)
  }

  /** The pacer's beat: whether assistant audio is still playing or queued. */
  tick (playing: boolean): void {
    this.#playing = playing
    this.#setBusy(playing || this.#h.gate.active)
  }

  stop (): void {
    this.#stopped = true
    this.#idle.stop()
    this.#filler.stop()
    this.#h.gate.onHold = null
  }

  #setBusy (busy: boolean): void {
    if (busy === this.#busy || this.#stopped) return
    this.#busy = busy
    this.turn.assistantSpeaking(busy)
    if (busy) this.#idle.assistantStarted()
    else this.#armIdle()
  }

  /** The caller's silence counts from now, unless the caller is speaking or the assistant is busy. */
  #armIdle (): void {
    if (!this.#busy && !this.#callerSpeaking && !this.#stopped) this.#idle.assistantFinished()
  }

  #decide (d: TurnDecision): void {
    if (this.#stopped) return
    const h = this.#h
    switch (d.kind) {
      case 'interrupt':
        h.stats.interruptions++
        h.log.debug({ voicedMs: d.voicedMs, reason: d.reason }, 'caller speech taken as an interruption')
        h.interrupt()
        break
      case 'respond':
        this.#idle.callerSpoke()
        void h.gate.requestResponse()
        break
      case 'backchannel':
      case 'noise':
        if (d.kind === 'backchannel') h.stats.backchannels++
        else h.stats.noises++
        if (d.itemId !== null) h.engine.discardInput(d.itemId)
        h.log.debug({ kind: d.kind, voicedMs: d.voicedMs }, 'caller sound let pass')
        h.backchannel({ ms: d.voicedMs, text: d.kind === 'backchannel' ? d.text : null })
        this.#armIdle()
        break
      // 'duck' and 'restore' (lowering the answer while deciding) are not carried out.
    }
  }

  #checkIn (): void {
    void this.#h.gate.requestResponse(CHECK_IN_INSTRUCTIONS)
  }

  #goodbye (): void {
    const h = this.#h
    h.log.info({ stage: 'goodbye' }, 'the caller has been silent since the check-in: saying goodbye')
    h.gate.requestResponse(GOODBYE_INSTRUCTIONS)
      .then(async (r) => {
        // A goodbye the caller interrupted is no goodbye: the call goes on.
        if (r === null || r.status !== 'completed') return
        await h.whenPlayed()
        if (!this.#stopped) h.hangUp()
      })
      .catch(err => h.log.error({ err }, 'goodbye failed'))
  }

  /** A tool is slow: once what the assistant is saying has played, one filler, unless the tool has finished by then. */
  async #fill (): Promise<void> {
    if (this.#playing) await this.#h.whenPlayed()
    if (this.#stopped || !this.#toolsHeld) return
    if (this.#h.gate.requestAside(FILLER_INSTRUCTIONS)) this.#h.log.info({ stage: 'filler' }, 'a tool is slow: one filler')
  }
}
