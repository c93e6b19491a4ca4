/**
 * One byte range of a `Range: bytes=…` header (RFC 9110 §14.1.2) over a body
 * of `size` bytes: [first, last] inclusive; null = send it all (no header,
 * not bytes, several ranges, or malformed: a server may ignore those);
 * 'unsatisfiable' = 416.
 */
export function parseRange (header: string | undefined, size: number): [number, number] | null | 'unsatisfiable' {
  if (header === undefined) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m === null || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') {
    // bytes=-N: the last N bytes.
    const n = Number(m[2])
    if (n === 0 || size === 0) return 'unsatisfiable'
    return [Math.max(0, size - n), size - 1]
  }
  const first = Number(m[1])
  if (first >= size) return 'unsatisfiable'
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (last < first) return null
  return [first, last]
}
