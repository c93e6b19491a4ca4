import { open, type FileHandle } from 'node:fs/promises'

/** Writes not yet on disk past this (a disk that stalls): the recording is given up rather than memory. */
export const MAX_UNWRITTEN_BYTES = 4 * 1024 * 1024

/**
 * A call's raw audio on its way to disk while the call lasts: appends are
 * queued and written one after another by libuv's threads, never on the audio
 * beat. The file is created on the first write; a spool that fails stops
 * taking writes and says so (`failed`), the call goes on.
 */
export class Spool {
  readonly path: string
  #file: Promise<FileHandle> | null = null
  #chain: Promise<void> = Promise.resolve()
  #unwritten = 0
  bytes = 0
  failed: Error | null = null

  constructor (path: string) {
    this.path = path
  }

  append (pcm: Buffer): void {
    if (this.failed !== null) return
    if (this.#unwritten + pcm.length > MAX_UNWRITTEN_BYTES) { this.failed = new Error('the disk does not keep up with the recording'); return }
    // Private: the caller's voice is personal data (0600).
    this.#file ??= open(this.path, 'wx', 0o600)
    const file = this.#file
    this.#unwritten += pcm.length
    this.#chain = this.#chain.then(async () => {
      if (this.failed !== null) return
      await (await file).write(pcm)
      this.bytes += pcm.length
    }).catch((err: unknown) => { this.failed ??= err as Error }).finally(() => { this.#unwritten -= pcm.length })
  }

  /** Waits for every write, closes the file; answers whether it holds the whole recording. */
  async close (): Promise<boolean> {
    await this.#chain
    if (this.#file !== null) await (await this.#file.catch(() => null))?.close().catch(() => {})
    return this.failed === null && this.bytes > 0
  }
}
