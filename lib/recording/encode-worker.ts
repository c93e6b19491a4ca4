/**
 * The recordings' encoder thread: reads a finished call's spool file (raw
 * stereo PCM) piece by piece and answers MP3 bytes, one piece per request, so
 * the main thread pulls at the pace the store takes them and nothing holds a
 * whole call. It runs at the lowest priority: encoding can wait, the calls'
 * 20 ms audio beat on the main thread cannot.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { lowPriorityPort } from '../threads/worker-port.js'
import type { Rate } from '../audio/resampler.js'
import { StereoMp3, MP3_FRAME_SAMPLES } from './mp3.js'

export type EncodeRequest =
  | { id: number, op: 'open', path: string, rate: Rate }
  | { id: number, op: 'next' }
  | { id: number, op: 'close' }

export type EncodeReply =
  | { id: number, ok: true, bytes: Uint8Array | null }
  | { id: number, ok: false, message: string }

/** PCM read per request: about 10 s of call, a few hundred kB at most. */
const PIECE_FRAMES = MP3_FRAME_SAMPLES * 280

const port = lowPriorityPort('encode-worker')

interface Job { fd: number, mp3: StereoMp3, buffer: Buffer, pos: number, done: boolean }
const jobs = new Map<number, Job>()

function next (job: Job): Uint8Array | null {
  if (job.done) return null
  const read = readSync(job.fd, job.buffer, 0, job.buffer.length, job.pos)
  const frames = read >> 2
  job.pos += frames * 4
  if (frames === 0) {
    job.done = true
    return job.mp3.flush()
  }
  return job.mp3.encode(new Int16Array(job.buffer.buffer, job.buffer.byteOffset, frames * 2))
}

port.on('message', (m: EncodeRequest) => {
  try {
    if (m.op === 'open') {
      jobs.set(m.id, { fd: openSync(m.path, 'r'), mp3: new StereoMp3(m.rate), buffer: Buffer.alloc(PIECE_FRAMES * 4), pos: 0, done: false })
      port.postMessage({ id: m.id, ok: true, bytes: null } satisfies EncodeReply)
      return
    }
    const job = jobs.get(m.id)
    if (job === undefined) throw new Error(`no encoding ${m.id}`)
    if (m.op === 'close') {
      jobs.delete(m.id)
      closeSync(job.fd)
      port.postMessage({ id: m.id, ok: true, bytes: null } satisfies EncodeReply)
      return
    }
    const bytes = next(job)
    port.postMessage({ id: m.id, ok: true, bytes } satisfies EncodeReply, bytes === null ? [] : [bytes.buffer as ArrayBuffer])
  } catch (err) {
    port.postMessage({ id: m.id, ok: false, message: (err as Error).message } satisfies EncodeReply)
  }
})
