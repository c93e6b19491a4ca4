/**
 * One call, one machine: a request for a call held by another machine is
 * answered with `fly-replay: instance=<machine id>` and Fly's proxy delivers it
 * again to that machine (https://fly.io/docs/networking/dynamic-request-routing/).
 * The replayed request carries `fly-replay-src`; such a request is never
 * replayed again, so a wrong or stale machine id cannot make a loop.
 */
export const FLY_REPLAY_HEADER = 'fly-replay'
export const FLY_REPLAY_SRC_HEADER = 'fly-replay-src'

/** Fly machine ids are lowercase hex; anything else in a URL is not one of ours. */
const MACHINE_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/i

export function isMachineId (value: string): boolean {
  return MACHINE_ID_RE.test(value)
}

export type Placement =
  | { where: 'here' }
  | { where: 'replay', instance: string }
  /** Named another machine, but it cannot be reached from here (no Fly, or already replayed once). */
  | { where: 'lost', instance: string }

/**
 * Where a request for a call belongs. `named` is the machine the token or URL
 * names ('' = none), `self` this machine's FLY_MACHINE_ID ('' = not on Fly).
 */
export function placement (named: string, self: string, replayed: boolean): Placement {
  if (named === '' || named === self) return { where: 'here' }
  if (self === '' || replayed || !isMachineId(named)) return { where: 'lost', instance: named }
  return { where: 'replay', instance: named }
}

export function flyReplayValue (instance: string): string {
  return `instance=${instance}`
}
