import type { Socket } from 'node:net'

/**
 * The two kinds of message the bridge gets fifty times a second per call:
 * - 'caller-audio': on the media socket, masked binary frames (Vonage's L16),
 *   unmasked into one reused buffer;
 * - 'model-events': on the Realtime socket, unmasked text frames (JSON
 *   events, mostly audio deltas), handed over in place or, when a frame spans
 *   reads, gathered in one reused buffer.
 */
export type FrameKind = 'caller-audio' | 'model-events'

const LIMIT: Record<FrameKind, number> = { 'caller-audio': 8192, 'model-events': 4 * 1024 * 1024 }
const HEADER = 0
const DIRECT = 1
const PASS = 2

/**
 * Reads those messages straight off the socket's bytes; everything else
 * (pings, close, fragments, the other opcode, anything odd or oversized) goes
 * on, byte for byte, to ws's own parser, which keeps handling the protocol.
 * ws would allocate half a dozen objects and often a copy per message, and it
 * is those short lives that set the pace of the garbage collections every
 * call waits on. The payload handed over is only valid during the callback.
 */
export class FrameReader {
  readonly #header = new Uint8Array(14)
  #have = 0
  #state = HEADER
  #need = 0
  #got = 0
  #payload: Buffer = Buffer.alloc(0)
  readonly #mask = new Uint8Array(4)
  readonly #opcode: number
  readonly #masked: boolean
  /** A fragmented message is going through to ws: its continuation frames must follow it there. */
  #fragmented = false
  /** A close frame went through: nothing after it is ours. */
  #closed = false

  constructor (
    readonly kind: FrameKind,
    private readonly onMessage: (payload: Buffer) => void,
    private readonly passThrough: (bytes: Buffer) => void
  ) {
    this.#opcode = kind === 'caller-audio' ? 0x2 : 0x1
    this.#masked = kind === 'caller-audio'
  }

  push (chunk: Buffer): void {
    if (this.#closed && this.#state !== PASS) { this.passThrough(chunk); return }
    let p = 0
    const end = chunk.length
    while (p < end) {
      if (this.#state === HEADER) {
        p = this.#readHeader(chunk, p)
        if ((this.#state as number) === DIRECT && !this.#masked && this.#got === 0 && end - p >= this.#need) {
          // The whole text frame is in this read: no copy.
          const n = this.#need
          this.#state = HEADER
          this.onMessage(chunk.subarray(p, p + n))
          p += n
        }
        if (this.#closed && this.#state === HEADER && p < end) { this.passThrough(chunk.subarray(p)); return }
      } else if (this.#state === DIRECT) {
        const n = Math.min(this.#need - this.#got, end - p)
        const out = this.#payload
        let g = this.#got
        if (this.#masked) {
          const mask = this.#mask
          for (let i = 0; i < n; i++, g++) out[g] = chunk[p + i]! ^ mask[g & 3]!
        } else {
          chunk.copy(out, g, p, p + n)
          g += n
        }
        this.#got = g
        p += n
        if (g === this.#need) {
          this.#state = HEADER
          this.onMessage(out.length === g ? out : out.subarray(0, g))
        }
      } else {
        const n = Math.min(this.#need, end - p)
        this.passThrough(p === 0 && n === end ? chunk : chunk.subarray(p, p + n))
        this.#need -= n
        p += n
        if (this.#need === 0) this.#state = HEADER
        if (this.#closed && this.#state === HEADER && p < end) { this.passThrough(chunk.subarray(p)); return }
      }
    }
  }

  /** Gathers a frame header (2 to 14 bytes, maybe across reads); returns where reading stopped. */
  #readHeader (chunk: Buffer, p: number): number {
    const h = this.#header
    const end = chunk.length
    while (this.#have < 2 && p < end) h[this.#have++] = chunk[p++]!
    if (this.#have < 2) return p
    const masked = (h[1]! & 0x80) !== 0
    const len7 = h[1]! & 0x7f
    const size = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0)
    while (this.#have < size && p < end) h[this.#have++] = chunk[p++]!
    if (this.#have < size) return p
    this.#have = 0
    let len = len7
    let at = 2
    if (len7 === 126) {
      len = (h[2]! << 8) | h[3]!
      at = 4
    } else if (len7 === 127) {
      const hi = ((h[2]! << 24) >>> 0) + ((h[3]! << 16) | (h[4]! << 8) | h[5]!)
      const lo = ((h[6]! << 24) >>> 0) + ((h[7]! << 16) | (h[8]! << 8) | h[9]!)
      len = hi * 2 ** 32 + lo
      at = 10
    }
    const fin = (h[0]! & 0x80) !== 0
    const rsv = h[0]! & 0x70
    const opcode = h[0]! & 0x0f
    if (fin && rsv === 0 && opcode === this.#opcode && masked === this.#masked && len <= LIMIT[this.kind] && !this.#fragmented && !this.#closed) {
      if (masked) this.#mask.set(h.subarray(at, at + 4))
      if (this.#masked ? this.#payload.length !== len : this.#payload.length < len) {
        // Audio frames keep one size, so the buffer is exact; text grows to the longest event seen.
        this.#payload = Buffer.allocUnsafeSlow(this.#masked ? len : Math.max(len, 2 * this.#payload.length))
      }
      this.#need = len
      this.#got = 0
      this.#state = DIRECT
      if (len === 0) { this.#state = HEADER; this.onMessage(this.#payload.subarray(0, 0)) }
      return p
    }
    if (opcode <= 0x2) this.#fragmented = !fin
    if (opcode === 0x8) this.#closed = true
    this.passThrough(Buffer.from(h.subarray(0, size)))
    this.#need = len
    this.#state = len > 0 ? PASS : HEADER
    return p
  }
}

interface WsReceiver {
  write: (chunk: Buffer) => boolean
  once: (event: 'error', listener: () => void) => void
  _state?: number
  _bufferedBytes?: number
  _fragmented?: number
}

/**
 * Puts a FrameReader between a `ws` socket and its parser, when ws stands at
 * a frame boundary (nothing half-read). Returns false, leaving ws as it was,
 * for anything else (a test double, another ws layout).
 */
export function readFramesDirectly (ws: unknown, kind: FrameKind, onMessage: (payload: Buffer) => void): boolean {
  const w = ws as { _socket?: Socket | null, _receiver?: WsReceiver | null }
  const socket = w._socket
  const receiver = w._receiver
  if (socket == null || receiver == null || typeof receiver.write !== 'function' || typeof socket.listeners !== 'function') return false
  if (receiver._state !== 0 || receiver._bufferedBytes !== 0 || receiver._fragmented !== 0) return false
  const listeners = socket.listeners('data')
  if (listeners.length !== 1) return false
  const reader = new FrameReader(kind, onMessage, (bytes) => { if (!receiver.write(bytes)) socket.pause() })
  const onData = (chunk: Buffer): void => reader.push(chunk)
  socket.removeListener('data', listeners[0] as (chunk: Buffer) => void)
  socket.on('data', onData)
  // ws stops reading after a protocol error; so do we.
  receiver.once('error', () => socket.removeListener('data', onData))
  return true
}
