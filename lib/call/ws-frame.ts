/**
 * WebSocket frame headers (RFC 6455 §5.2), for the two messages the bridge
 * sends fifty times a second per call — audio to Vonage and appends to the
 * model — which it writes to the socket itself: one buffer, one write, no
 * header allocation, instead of ws's header + payload pair per message.
 */
export const OP_TEXT = 0x1
export const OP_BINARY = 0x2
/** The longest header: 8-byte length and a mask key. */
export const MAX_HEADER_BYTES = 14

export function headerBytes (payloadBytes: number, masked: boolean): number {
  const len = payloadBytes < 126 ? 2 : payloadBytes < 65536 ? 4 : 10
  return masked ? len + 4 : len
}

/**
 * Writes a final frame's header so that it ends at `end`, right before a
 * payload already in place, and returns where it starts. A masked header
 * carries the all-zero key, which leaves the payload as it is.
 */
export function writeHeader (buf: Buffer, end: number, opcode: number, payloadBytes: number, masked: boolean): number {
  const start = end - headerBytes(payloadBytes, masked)
  const maskBit = masked ? 0x80 : 0
  buf[start] = 0x80 | opcode
  let i = start + 2
  if (payloadBytes < 126) {
    buf[start + 1] = maskBit | payloadBytes
  } else if (payloadBytes < 65536) {
    buf[start + 1] = maskBit | 126
    buf[i++] = payloadBytes >>> 8
    buf[i++] = payloadBytes & 0xff
  } else {
    buf[start + 1] = maskBit | 127
    buf.writeUInt32BE(0, i)
    buf.writeUInt32BE(payloadBytes, i + 4)
    i += 8
  }
  if (masked) buf.fill(0, i, i + 4)
  return start
}
