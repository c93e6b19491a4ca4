import { createHmac, timingSafeEqual } from 'node:crypto'
import type { VoicemailReason } from './message.js'

/** A call sent to voicemail, kept until its recording arrives (the owner's message needs the full number). */
export interface PendingVoicemail {
  callId: string
  direction: string
  from: string
  to: string
  reason: VoicemailReason
  startedAt: string
  /** When it was sent to voicemail (ms since the epoch), for expiry. */
  at: number
}

/** Longer than the longest message plus Vonage's processing; then the entry is dropped. */
export const PENDING_TTL_MS = 2 * 3600_000
const MAX_PENDING = 10_000

export class PendingVoicemails {
  readonly #calls = new Map<string, PendingVoicemail>()

  add (p: PendingVoicemail): void {
    this.#prune(p.at)
    if (this.#calls.size >= MAX_PENDING) {
      const oldest = this.#calls.keys().next().value
      if (oldest !== undefined) this.#calls.delete(oldest)
    }
    this.#calls.set(p.callId, p)
  }

  get (callId: string): PendingVoicemail | undefined { return this.#calls.get(callId) }
  delete (callId: string): void { this.#calls.delete(callId) }

  #prune (now: number): void {
    for (const [id, p] of this.#calls) {
      if (now - p.at < PENDING_TTL_MS) break
      this.#calls.delete(id)
    }
  }
}

/** The recording webhook's per-call token: only the URL we gave Vonage for this call carries it. */
export function recordingToken (key: Buffer, callId: string): string {
  return createHmac('sha256', key).update(`voicemail:${callId}`).digest('base64url')
}

export function recordingTokenValid (key: Buffer, callId: string, token: string): boolean {
  const want = Buffer.from(recordingToken(key, callId))
  const got = Buffer.from(token)
  return got.length === want.length && timingSafeEqual(got, want)
}
