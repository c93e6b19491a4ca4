import { Mp3Encoder } from '@breezystack/lamejs'

/** A real MP3 (what Vonage's record action makes): `seconds` of a 440 Hz tone at 16 kHz mono, encoded with lamejs. */
export function toneMp3 (seconds: number, rate = 16000): Buffer {
  const pcm = new Int16Array(Math.round(rate * seconds))
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate))
  const enc = new Mp3Encoder(1, rate, 32)
  const parts: Uint8Array[] = []
  for (let i = 0; i < pcm.length; i += 1152) parts.push(enc.encodeBuffer(pcm.subarray(i, i + 1152)))
  parts.push(enc.flush())
  return Buffer.concat(parts.map(p => Buffer.from(p)))
}
