import { setFlagsFromString } from 'node:v8'

/**
 * V8 settings for a server whose calls run on GPT-Live, set once at start.
 *
 * GPT-Live streams at real-time pace: every call receives a small read ten
 * times a second, so the socket's per-message objects outlive the young
 * generation's short collections (2 MB, `npm start`) far more often than on
 * the Realtime API, whose audio comes in bursts. V8 takes that as a sign that
 * their allocation sites make long-lived objects and starts allocating them,
 * and what is stored in them, straight in the old generation — for every
 * socket, the callers' too. The old generation then fills about every 4 s and
 * each full collection holds every call's audio up for 16–27 ms. Without
 * pretenuring, half as much reaches the old generation and those pauses stay
 * under about 12 ms: 200 calls per core are within the jitter budget
 * (docs/engines.md).
 *
 * Only for GPT-Live: with pretenuring off, the Realtime engine measured a
 * tenth more CPU and went over budget at 200 calls (it keeps answers queued
 * for seconds, likely what pretenuring serves there). A command-line flag
 * would apply to both engines. V8 reads this one at each collection, so
 * setting it before the first call is as good as setting it at launch. Node
 * warns that a flag set after start may do nothing:
 * test/unit/live/heap-tuning.test.ts checks that this one takes effect on
 * the Node we pin.
 */
export const LIVE_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring']

/** Sets the engine's V8 flags (none for Realtime) and returns the ones it set. */
export function tuneHeapFor (engine: 'realtime' | 'live'): readonly string[] {
  if (engine !== 'live') return []
  for (const flag of LIVE_V8_FLAGS) setFlagsFromString(flag)
  return LIVE_V8_FLAGS
}
