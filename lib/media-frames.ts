import type { Socket } from 'node:net'

/** Binary frames up to this size take the direct path (a 20 ms frame is 320-960 bytes; Vonage may send a few at once). */
const MAX_DIRECT = 8192
const HEADER = 0
const DIRECT = 1
const PASS = 2

/**
 * Reads the frames Vonage sends on the media socket straight off its bytes.
 * Caller audio — unfragmented, masked binary frames — is unmasked into one
 * reused buffer and handed over at once; everything else (text events,
 * pings, close, fragments, anything odd) goes on, byte for byte, to ws's own
 * parser, which keeps handling the protocol. ws would allocate half a dozen
 * objects per audio frame, fifty times a second per call, and it is those
 * short lives that set the pace of the garbage collections every call waits on.
 */
export class MediaFrameReader {
  readonly #header = new Uint8Array(14)
  #have = 0
  #state = HEADER
  #need = 0
  #got = 0
  #payload = new Uint8Array(0)
  readonly #mask = new Uint8Array(4)
  /** A fragmented message is going through to ws: its continuation frames must follow it there. */
  #fragmented = false
  /** A close frame went through: nothing after it is audio. */
  #closed = false

  constructor (
    private readonly onBinary: (payload: Uint8Array) => void,
    private readonly passThrough: (bytes: Buffer) => void
  ) {}

  push (chunk: Buffer): void {
    if (this.#closed && this.#state !== PASS) { this.passThrough(chunk); return }
    let p = 0
    const end = chunk.length
    while (p < end) {
      if (this.#state === HEADER) {
        p = this.#readHeader(chunk, p)
        if (this.#closed && this.#state === HEADER && p < end) { this.passThrough(chunk.subarray(p)); return }
      } else if (this.#state === DIRECT) {
        const n = Math.min(this.#need - this.#got, end - p)
        const out = this.#payload
        const mask = this.#mask
        let g = this.#got
        for (let i = 0; i < n; i++, g++) out[g] = chunk[p + i]! ^ mask[g & 3]!
        this.#got = g
        p += n
        if (g === this.#need) {
          this.#state = HEADER
          this.onBinary(out)
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

  /** Gathers a frame header (2 to 14 bytes, maybe across chunks); returns where reading stopped. */
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
    if (fin && rsv === 0 && opcode === 0x2 && masked && len <= MAX_DIRECT && !this.#fragmented && !this.#closed) {
      this.#mask.set(h.subarray(at, at + 4))
      if (this.#payload.length !== len) this.#payload = new Uint8Array(len)
      this.#need = len
      this.#got = 0
      this.#state = DIRECT
      if (len === 0) { this.#state = HEADER; this.onBinary(this.#payload) }
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
 * Puts a MediaFrameReader between a `ws` server socket and its parser, when
 * ws stands at a frame boundary (nothing half-read). Returns false, leaving
 * ws as it was, for anything else (a test double, another ws layout).
 */
export function readAudioFramesDirectly (ws: unknown, onBinary: (payload: Uint8Array) => void): boolean {
  const w = ws as { _socket?: Socket | null, _receiver?: WsReceiver | null }
  const socket = w._socket
  const receiver = w._receiver
  if (socket == null || receiver == null || typeof receiver.write !== 'function' || typeof socket.listeners !== 'function') return false
  if (receiver._state !== 0 || receiver._bufferedBytes !== 0 || receiver._fragmented !== 0) return false
  const listeners = socket.listeners('data')
  if (listeners.length !== 1) return false
  const reader = new MediaFrameReader(onBinary, (bytes) => { if (!receiver.write(bytes)) socket.pause() })
  const onData = (chunk: Buffer): void => reader.push(chunk)
  socket.removeListener('data', listeners[0] as (chunk: Buffer) => void)
  socket.on('data', onData)
  // ws stops reading after a protocol error; so do we.
  receiver.once('error', () => socket.removeListener('data', onData))
  return true
}
