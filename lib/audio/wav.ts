/** Mono 16-bit PCM out of a WAV file: the `data` chunk as Int16 samples, plus the rate. */
export function readWavPcm16 (file: Buffer): { rate: number, samples: Int16Array } {
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file')
  let rate = 0
  let channels = 0
  let bits = 0
  for (let off = 12; off + 8 <= file.length;) {
    const id = file.toString('ascii', off, off + 4)
    const size = file.readUInt32LE(off + 4)
    const body = off + 8
    if (id === 'fmt ') {
      channels = file.readUInt16LE(body + 2)
      rate = file.readUInt32LE(body + 4)
      bits = file.readUInt16LE(body + 14)
    } else if (id === 'data') {
      if (channels !== 1 || bits !== 16) throw new Error(`expected mono 16-bit PCM, got ${channels} ch ${bits} bit`)
      const bytes = Math.min(size, file.length - body) & ~1
      const samples = new Int16Array(bytes / 2)
      Buffer.from(samples.buffer).set(file.subarray(body, body + bytes))
      return { rate, samples }
    }
    off = body + size + (size & 1)
  }
  throw new Error('WAV file has no data chunk')
}
