import { setPriority } from 'node:os'
import { parentPort, type MessagePort } from 'node:worker_threads'

/**
 * The port of a worker thread that must never hold up the calls' audio beat,
 * at the lowest priority. On a machine with one core (a small Fly VM, or the
 * benchmark's pinned core) such a thread and the beat take turns on it; at
 * nice 19 it waits instead. On Linux setpriority(PRIO_PROCESS, 0) applies to
 * the calling thread only, not the process (setpriority(2), NOTES).
 */
export function lowPriorityPort (name: string): MessagePort {
  if (parentPort === null) throw new Error(`${name} runs as a worker thread`)
  try { setPriority(19) } catch { /* not allowed here: the thread still works, at the same priority */ }
  return parentPort
}
