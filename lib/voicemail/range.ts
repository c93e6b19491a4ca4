/** One byte range of a `size`-byte resource (RFC 9110 §14): what a browser's audio player asks for when it seeks. */
export type RangeResult = { kind: 'all' } | { kind: 'part', start: number, end: number } | { kind: 'unsatisfiable' }

export function parseRange (header: string | undefined, size: number): RangeResult {
  if (header === undefined || header.trim() === '') return { kind: 'all' }
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  // Several ranges, or another unit: the whole resource is a valid answer.
  if (m === null || (m[1] === '' && m[2] === '')) return { kind: 'all' }
  if (size === 0) return { kind: 'unsatisfiable' }
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0) return { kind: 'unsatisfiable' }
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size || end < start) return { kind: 'unsatisfiable' }
  return { kind: 'part', start, end }
}
