/**
 * Just enough RFC 6455 for the benchmark's load generators: they play
 * hundreds of Vonage media sockets and Realtime sessions beside the server on
 * the same two cores, so they skip everything a library spends time on
 * (random masks, per-message objects, validation). Not for production use.
 */
import { createHash } from 'node:crypto'

export const OP_TEXT = 1
export const OP_BINARY = 2
export const OP_CLOSE = 8
export const OP_PING = 9
export const OP_PONG = 10

export function acceptKey (key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
}

export function headerLength (payloadLength: number, masked: boolean): number {
  return (payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10) + (masked ? 4 : 0)
}

/**
 * Writes a frame header at `offset` of `buf`; returns the payload's offset.
 * `masked` sets the mask bit with an all-zero key (a client must mask; a zero
 * key leaves the payload as it is, so it can be prepared once and reused).
 */
export function writeHeader (buf: Buffer, offset: number, opcode: number, payloadLength: number, masked: boolean): number {
  buf[offset++] = 0x80 | opcode
  const m = masked ? 0x80 : 0
  if (payloadLength < 126) {
    buf[offset++] = m | payloadLength
  } else if (payloadLength < 65536) {
    buf[offset++] = m | 126
    buf.writeUInt16BE(payloadLength, offset)
    offset += 2
  } else {
    buf[offset++] = m | 127
    buf.writeUInt32BE(0, offset)
    buf.writeUInt32BE(payloadLength, offset + 4)
    offset += 8
  }
  if (masked) { buf.writeUInt32BE(0, offset); offset += 4 }
  return offset
}

export function frame (opcode: number, payload: Buffer | string, masked = false): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload
  const out = Buffer.allocUnsafe(headerLength(data.length, masked) + data.length)
  data.copy(out, writeHeader(out, 0, opcode, data.length, masked))
  return out
}

/** One text frame per string, all in one buffer (one write for a whole burst). */
export function textFrames (texts: string[], masked = false): Buffer {
  let size = 0
  for (const t of texts) { const n = Buffer.byteLength(t); size += headerLength(n, masked) + n }
  const out = Buffer.allocUnsafe(size)
  let off = 0
  for (const t of texts) {
    const n = Buffer.byteLength(t)
    off = writeHeader(out, off, OP_TEXT, n, masked)
    off += out.write(t, off)
  }
  return out
}

/**
 * Splits a byte stream into frames. `onFrame` gets the opcode, the frame's
 * bytes and where its payload starts and ends in them, and the mask key (0 if
 * none); the payload is left masked, so a receiver that only counts bytes or
 * peeks at a prefix does not pay for unmasking.
 */
export class FrameReader {
  #carry: Buffer | null = null

  constructor (readonly onFrame: (opcode: number, buf: Buffer, start: number, end: number, mask: number) => void) {}

  push (chunk: Buffer): void {
    let buf = chunk
    if (this.#carry !== null) { buf = Buffer.concat([this.#carry, chunk]); this.#carry = null }
    let off = 0
    const n = buf.length
    while (n - off >= 2) {
      const b0 = buf[off]!
      const b1 = buf[off + 1]!
      let len = b1 & 0x7f
      let p = off + 2
      if (len === 126) {
        if (n - p < 2) break
        len = buf.readUInt16BE(p)
        p += 2
      } else if (len === 127) {
        if (n - p < 8) break
        len = buf.readUInt32BE(p + 4)
        p += 8
      }
      let mask = 0
      if ((b1 & 0x80) !== 0) {
        if (n - p < 4) break
        mask = buf.readUInt32BE(p)
        p += 4
      }
      if (n - p < len) break
      this.onFrame(b0 & 0x0f, buf, p, p + len, mask)
      off = p + len
    }
    if (off < n) this.#carry = buf.subarray(off)
  }
}

/** Unmasks a payload into a new Buffer. */
export function unmask (buf: Buffer, start: number, end: number, mask: number): Buffer {
  const out = Buffer.allocUnsafe(end - start)
  buf.copy(out, 0, start, end)
  if (mask !== 0) {
    const k = [mask >>> 24, (mask >>> 16) & 255, (mask >>> 8) & 255, mask & 255]
    for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ k[i & 3]!
  }
  return out
}

/** Whether the payload starts with `prefix` (ASCII), unmasking only that much. */
export function payloadStartsWith (buf: Buffer, start: number, end: number, mask: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) {
    const k = (mask >>> (24 - 8 * (i & 3))) & 255
    if ((buf[start + i]! ^ k) !== prefix[i]) return false
  }
  return true
}
