/**
 * WebSocket frames written by hand (RFC 6455 §5.2), for tests that must send what a library would
 * refuse to: unmasked client frames, lengths that lie, bytes split anywhere. Client frames carry a
 * random mask key, as §5.3 requires. The benchmark's load generators use these too
 * (scripts/bench/ws.ts); tests never import scripts/.
 */
import { createHash, randomFillSync } from 'node:crypto'

export const OP_TEXT = 1
export const OP_BINARY = 2
export const OP_CLOSE = 8
export const OP_PING = 9
export const OP_PONG = 10

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export function acceptKey (key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64')
}

export function headerLength (payloadLength: number, masked: boolean): number {
  return (payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10) + (masked ? 4 : 0)
}

/** A fresh mask key that is never all zeros (a zero key would leave the payload in clear). */
export function maskKey (): Buffer {
  const key = Buffer.allocUnsafe(4)
  do randomFillSync(key); while (key.readUInt32BE(0) === 0)
  return key
}

/**
 * Writes a frame header at `offset` of `buf`; returns the payload's offset. With `mask` the mask bit
 * is set and the key written; the caller masks the payload (see applyMask).
 */
export function writeHeader (buf: Buffer, offset: number, opcode: number, payloadLength: number, mask: Buffer | null): number {
  buf[offset++] = 0x80 | opcode
  const m = mask !== null ? 0x80 : 0
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
  if (mask !== null) { mask.copy(buf, offset, 0, 4); offset += 4 }
  return offset
}

/** XORs buf[start, end) with the 4-byte key, in place (masking and unmasking are the same). */
export function applyMask (buf: Buffer, start: number, end: number, mask: Buffer): void {
  for (let i = start; i < end; i++) buf[i] = buf[i]! ^ mask[(i - start) & 3]!
}

/** One whole frame; `masked` (a client's frame) masks the payload with a fresh random key. */
export function frame (opcode: number, payload: Buffer | string, masked = false): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload
  const mask = masked ? maskKey() : null
  const out = Buffer.allocUnsafe(headerLength(data.length, masked) + data.length)
  const p = writeHeader(out, 0, opcode, data.length, mask)
  data.copy(out, p)
  if (mask !== null) applyMask(out, p, out.length, mask)
  return out
}
