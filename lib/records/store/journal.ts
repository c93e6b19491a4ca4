import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import type { Statement } from './call-store.js'

/** The journal's file in DATA_DIR. */
export const JOURNAL_FILE = 'calls.pending.jsonl'

/**
 * The writer's queue on disk: every statement is appended here as it is
 * queued (one write(2) of a line, microseconds, no fsync) and the file is
 * emptied once the database has committed all of them. A process killed
 * before the next flush (SIGKILL, out of memory) leaves its calls here, and
 * the next start writes them. The page cache keeps a write across a killed
 * process; the database's own commit covers power cuts a moment later.
 */
export class Journal {
  readonly path: string
  #fd: number | null

  constructor (path: string) {
    this.path = path
    this.#fd = openSync(path, 'a')
  }

  /** The statements a killed process left; a line cut short by the kill is skipped. */
  static pending (path: string): Statement[] {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      return []
    }
    const out: Statement[] = []
    for (const line of text.split('\n')) {
      if (line === '') continue
      try {
        const s = JSON.parse(line) as unknown
        if (Array.isArray(s) && typeof s[0] === 'string' && Array.isArray(s[1])) out.push(s as Statement)
      } catch { /* cut short */ }
    }
    return out
  }

  append (s: Statement): void {
    if (this.#fd === null) return
    writeSync(this.#fd, JSON.stringify(s) + '\n')
  }

  /** Everything in the file is committed. */
  clear (): void {
    if (this.#fd !== null) ftruncateSync(this.#fd, 0)
  }

  close (): void {
    if (this.#fd === null) return
    closeSync(this.#fd)
    this.#fd = null
  }
}
