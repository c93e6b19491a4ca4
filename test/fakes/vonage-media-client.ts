import { performance } from 'node:perf_hooks'
import { once } from 'node:events'
import WebSocket from 'ws'

/**
 * Plays Vonage's side of the media WebSocket: `websocket:connected` with the
 * content type, then 20 ms L16 frames on an absolute real-time schedule, and
 * records what the bridge sends back with arrival times.
 */
export interface MediaClientOptions {
  rate?: 8000 | 16000 | 24000
  headers?: Record<string, string>
  /** Skip the websocket:connected message (to test a bridge that must not rely on it). */
  skipConnected?: boolean
}

export interface ReceivedFrame {
  at: number
  bytes: number
  data: Buffer
}

export class VonageMediaClient {
  readonly ws: WebSocket
  readonly rate: number
  readonly frames: ReceivedFrame[] = []
  readonly texts: Array<{ at: number, msg: Record<string, unknown> }> = []
  closeCode: number | null = null
  closedAt: number | null = null
  #streaming: NodeJS.Timeout | null = null
  #streamDone: (() => void) | null = null

  private constructor (ws: WebSocket, rate: number) {
    this.ws = ws
    this.rate = rate
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const at = performance.now()
      if (isBinary) this.frames.push({ at, bytes: data.length, data })
      else this.texts.push({ at, msg: JSON.parse(data.toString('utf8')) as Record<string, unknown> })
    })
    ws.on('close', (code: number) => { this.closeCode = code; this.closedAt = performance.now(); this.stop() })
  }

  static async connect (url: string, o: MediaClientOptions = {}): Promise<VonageMediaClient> {
    const rate = o.rate ?? 16000
    const ws = new WebSocket(url, { headers: o.headers, perMessageDeflate: false })
    const client = new VonageMediaClient(ws, rate)
    await Promise.race([
      once(ws, 'open'),
      once(ws, 'unexpected-response').then(([, res]) => { throw new Error(`upgrade refused: ${(res as { statusCode: number }).statusCode}`) })
    ])
    if (o.skipConnected !== true) ws.send(JSON.stringify({ event: 'websocket:connected', 'content-type': `audio/l16;rate=${rate}` }))
    return client
  }

  get frameBytes (): number { return this.rate / 50 * 2 }
  get receivedMs (): number { return this.frames.length * 20 }

  /** Streams `pcm` (at the client's rate) as 20 ms frames in real time. Resolves when all are sent. */
  async stream (pcm: Int16Array, opts: { loop?: boolean } = {}): Promise<void> {
    const per = this.rate / 50
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)
    const start = performance.now()
    let n = 0
    await new Promise<void>(resolve => {
      this.#streamDone = resolve
      const step = (): void => {
        if (this.ws.readyState !== WebSocket.OPEN) { resolve(); return }
        let off = n * per * 2
        if (off + per * 2 > bytes.length) {
          if (opts.loop !== true) { resolve(); return }
          off = (n * per * 2) % (bytes.length - per * 2)
        }
        this.ws.send(bytes.subarray(off, off + per * 2))
        n++
        this.#streaming = setTimeout(step, Math.max(0, start + n * 20 - performance.now()))
      }
      step()
    })
  }

  /** Stops streaming; the pending stream() resolves. */
  stop (): void {
    if (this.#streaming !== null) clearTimeout(this.#streaming)
    this.#streaming = null
    this.#streamDone?.()
    this.#streamDone = null
  }

  sendRaw (data: Buffer | string): void { this.ws.send(data) }

  /** All received audio concatenated, as samples. */
  audio (): Int16Array {
    const all = Buffer.concat(this.frames.map(f => f.data))
    const out = new Int16Array(all.length / 2)
    Buffer.from(out.buffer).set(all)
    return out
  }

  async close (): Promise<void> {
    this.stop()
    if (this.ws.readyState === WebSocket.CLOSED) return
    const closed = once(this.ws, 'close')
    this.ws.close(1000)
    await closed
  }
}
