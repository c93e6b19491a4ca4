/**
 * Gives the server's cores to the server alone for the run, as `cset shield`
 * would: every other task that may run there (the box's agents, the kernel's
 * movable threads such as its memory monitor) is moved to the load's cores,
 * and put back afterwards. Per-core kernel threads refuse to move and stay.
 * Needs root; without it nothing moves.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface Isolation {
  /** Tasks moved off the server's cores. */
  moved: number
  /** Puts every moved task back on the cores it had. */
  restore: () => void
}

function cpuList (list: string): Set<number> {
  const cpus = new Set<number>()
  for (const part of list.trim().split(',')) {
    const [a, b] = part.split('-').map(Number)
    if (a === undefined || Number.isNaN(a)) continue
    for (let c = a; c <= (b ?? a); c++) cpus.add(c)
  }
  return cpus
}

function tasks (): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try { for (const tid of readdirSync(`/proc/${pid}/task`)) out.push(tid) } catch {}
  }
  return out
}

function allowed (tid: string): string | null {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))?.[1] ?? null
  } catch {
    return null
  }
}

function setAffinity (tid: string, list: string): boolean {
  try {
    execFileSync('taskset', ['-p', '-c', list, tid], { stdio: 'ignore' })
    return true
  } catch {
    return false // gone, or a per-core kernel thread
  }
}

export function isolateCores (serverCpus: string, loadCpus: string): Isolation {
  const server = cpuList(serverCpus)
  const before = new Map<string, string>()
  if (process.getuid?.() !== 0) return { moved: 0, restore: () => {} }
  for (const tid of tasks()) {
    const list = allowed(tid)
    if (list === null || ![...cpuList(list)].some(c => server.has(c))) continue
    if (setAffinity(tid, loadCpus)) before.set(tid, list)
  }
  return {
    moved: before.size,
    restore: () => {
      for (const [tid, list] of before) setAffinity(tid, list)
      before.clear()
    }
  }
}
