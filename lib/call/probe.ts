import { channel } from 'node:diagnostics_channel'

/**
 * Measurement points for the benchmark (`npm run bench` preloads
 * scripts/bench/probe.ts into the server, which subscribes). While nobody
 * subscribes — always, in production — each point costs one `hasSubscribers`
 * check and measures nothing. Every channel publishes one reused message
 * object: publish() is synchronous and subscribers copy what they keep, so
 * measuring allocates nothing per frame either.
 */

/** The pacer's beat: published as it starts serving its group of calls, and again when it is done. */
export const tickChannel = channel('vonage-bridge:tick')
export const tickMessage = {
  start: true,
  /** Which group of calls (lib/call/pacer.ts PHASES), and how many times that group has been served. */
  group: 0,
  round: 0,
  deadline: 0,
  at: 0
}

/** One assistant frame handed to Vonage's socket. */
export const frameChannel = channel('vonage-bridge:frame')
export const frameMessage = {
  session: null as object | null,
  /** When it was handed to the socket (performance.now()). */
  at: 0,
  /** > 0: Vonage's playback buffer (as modelled) ran dry this many ms before this frame, though its audio was already waiting here. */
  lateMs: 0
}

/** One audio delta from the model, handled. */
export const deltaChannel = channel('vonage-bridge:delta')
export const deltaMessage = {
  session: null as object | null,
  /** The event as received (not copied). */
  data: null as Buffer | null,
  /** When its handler started (performance.now()). */
  receivedAt: 0,
  /** When the first frame holding its audio was sent, when it could go at once (nothing queued ahead of it, lead not full); -1 otherwise. */
  firstFrameAt: -1
}

/** A barge-in: the model heard the caller start speaking over the assistant. */
export const bargeInChannel = channel('vonage-bridge:barge-in')
export const bargeInMessage = {
  session: null as object | null,
  /** event_id of the speech_started event. */
  eventId: '',
  receivedAt: 0,
  /** When `clear` was handed to Vonage's socket. */
  clearedAt: 0
}
