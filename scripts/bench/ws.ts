/**
 * Just enough RFC 6455 for the benchmark's load generators: they play hundreds of Vonage media
 * sockets and Realtime sessions beside the server on the same two cores, so they read frames
 * without a library's per-message objects. Framing itself is the tests' (test/helpers/ws-frame.ts).
 */
import { headerLength, writeHeader, OP_TEXT } from '../../test/helpers/ws-frame.js'

export { acceptKey, applyMask, frame, headerLength, maskKey, writeHeader, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG } from '../../test/helpers/ws-frame.js'

/** One unmasked (server) text frame per string, all in one buffer (one write for a whole burst). */
export function textFrames (texts: string[]): Buffer {
  let size = 0
  for (const t of texts) { const n = Buffer.byteLength(t); size += headerLength(n, false) + n }
  const out = Buffer.allocUnsafe(size)
  let off = 0
  for (const t of texts) {
    const n = Buffer.byteLength(t)
    off = writeHeader(out, off, OP_TEXT, n, null)
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
export class FrameSplitter {
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
