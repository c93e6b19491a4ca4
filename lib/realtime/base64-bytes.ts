/**
 * Base64 between byte buffers, with no string in between. Node has base64
 * only to and from strings, and the bridge would make two of them for every
 * 20 ms of every call (the append it sends, the delta it receives): strings
 * that, in a busy server, live long enough to be copied into the old
 * generation and fill it, which is what sets off the long collections.
 */
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
const PAD = 0x3d
/** Two characters per 12 bits, as one little-endian 16-bit value. */
const PAIRS = new Uint16Array(4096)
for (let i = 0; i < 4096; i++) PAIRS[i] = ALPHABET[i >>> 6]! | (ALPHABET[i & 63]! << 8)
/** 6-bit value of each character, shifted into place for each of the four positions of a quad; -1 marks a non-base64 byte. */
const D0 = new Int32Array(256).fill(-1)
const D1 = new Int32Array(256).fill(-1)
const D2 = new Int32Array(256).fill(-1)
const D3 = new Int32Array(256).fill(-1)
for (let v = 0; v < 64; v++) {
  const c = ALPHABET[v]!
  D0[c] = v << 18
  D1[c] = v << 12
  D2[c] = v << 6
  D3[c] = v
}
// base64url's two, which Node's decoder also takes.
for (const [c, v] of [[0x2d, 62], [0x5f, 63]] as const) { D0[c] = v << 18; D1[c] = v << 12; D2[c] = v << 6; D3[c] = v }

export function base64Length (bytes: number): number {
  return Math.ceil(bytes / 3) * 4
}

/**
 * Writes the base64 of src[from, to) into dst at `at` (an even offset) and
 * returns the number of characters written.
 */
export function encodeBase64Into (src: Uint8Array, from: number, to: number, dst: Buffer, at: number): number {
  if ((at & 1) !== 0 || ((dst.byteOffset + at) & 1) !== 0) throw new Error('encodeBase64Into: the output must start at an even address')
  const wide = new Uint16Array(dst.buffer, dst.byteOffset + at, (dst.length - at) >>> 1)
  const whole = to - ((to - from) % 3)
  let o = 0
  for (let i = from; i < whole; i += 3) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!
    wide[o] = PAIRS[n >>> 12]!
    wide[o + 1] = PAIRS[n & 4095]!
    o += 2
  }
  let w = o * 2
  const rest = to - whole
  if (rest > 0) {
    const n = (src[whole]! << 16) | (rest === 2 ? src[whole + 1]! << 8 : 0)
    const p = at + w
    dst[p] = ALPHABET[n >>> 18]!
    dst[p + 1] = ALPHABET[(n >>> 12) & 63]!
    dst[p + 2] = rest === 2 ? ALPHABET[(n >>> 6) & 63]! : PAD
    dst[p + 3] = PAD
    w += 4
  }
  return w
}

/** Bytes the base64 in src[from, to) decodes to, at most. */
export function decodedLength (from: number, to: number): number {
  return Math.floor((to - from) * 3 / 4)
}

/**
 * Decodes the base64 in src[from, to) into dst at `at`; returns the bytes
 * written. Stops at padding or at the first byte that is not base64, as
 * Node's decoder ends there too for well-formed input.
 */
export function decodeBase64Into (src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): number {
  let o = at
  let i = from
  const last = to - 4
  for (; i <= last; i += 4) {
    const n = D0[src[i]!]! | D1[src[i + 1]!]! | D2[src[i + 2]!]! | D3[src[i + 3]!]!
    if (n < 0) break // padding, or not base64: the tail below
    dst[o] = n >>> 16
    dst[o + 1] = (n >>> 8) & 255
    dst[o + 2] = n & 255
    o += 3
  }
  // The last quad: padded, cut short, or ended by a stray byte.
  let n = 0
  let k = 0
  for (; i < to && k < 4; i++) {
    const v = D3[src[i]!]!
    if (v < 0) break
    n = (n << 6) | v
    k++
  }
  if (k >= 2) {
    n <<= 6 * (4 - k)
    dst[o++] = n >>> 16
    if (k >= 3) dst[o++] = (n >>> 8) & 255
    if (k === 4) dst[o++] = n & 255
  }
  return o - at
}

/**
 * One JSON message `head` + base64(pcm) + `tail` (an audio append, either engine's), built in one
 * buffer with no intermediate string: the hot path of every caller frame.
 */
export function jsonWithBase64 (head: Buffer, pcm: Uint8Array, tail: Buffer): Buffer {
  const total = head.length + base64Length(pcm.length) + tail.length
  const buf = Buffer.allocUnsafe(total + 1)
  // The base64 is written two characters at a time, so it must start at an even address.
  const at = (buf.byteOffset + head.length) & 1
  head.copy(buf, at)
  const n = encodeBase64Into(pcm, 0, pcm.length, buf, at + head.length)
  tail.copy(buf, at + head.length + n)
  return buf.subarray(at, at + total)
}
