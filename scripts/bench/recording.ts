/**
 * What recording a call costs (RECORDING=on), measured on its parts, the way
 * the bridge drives them:
 *   - on the audio beat: the Tape (lib/recording/tape.ts) fed one caller frame
 *     and one assistant frame every 20 ms, handing settled audio to the spool;
 *   - after the call, on the low-priority thread: the MP3 encoder
 *     (lib/recording/mp3.ts, lamejs) over the spooled stereo PCM;
 *   - on disk and in the store: raw PCM per minute while the call lasts, MP3
 *     per minute after;
 *   - memory: what a call in progress holds (the tape's ring).
 *
 *   node --import tsx scripts/bench/recording.ts [--seconds=120] [--rate=16000] [--kbps=N] [--json=FILE]
 *
 * CPU figures are process CPU time (user + system) over simulated call time,
 * so other load on the machine does not inflate them much; the median of 5 runs.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { readWavPcm16 } from '../../lib/audio/wav.js'
import { createResampler, type Rate } from '../../lib/audio/resampler.js'
import { Tape } from '../../lib/recording/tape.js'
import { StereoMp3, MP3_KBPS } from '../../lib/recording/mp3.js'

const arg = (name: string, def: string): string => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def
const SECONDS = Number(arg('seconds', '120'))
const RATE = Number(arg('rate', '16000')) as Rate
const JSON_OUT = arg('json', '')
/** Another bit rate than the shipped one, to compare. */
const KBPS = Number(arg('kbps', '0')) || MP3_KBPS[RATE]
const RUNS = 5
const FRAME_MS = 20

function fixture (name: string, to: Rate): Int16Array {
  const { rate, samples } = readWavPcm16(readFileSync(new URL(`../../test/fixtures/audio/${name}`, import.meta.url)))
  if (rate === to) return samples
  // Through 24 kHz: the resampler serves the pairs the bridge uses.
  const at24 = rate === 24000 ? samples : createResampler(rate as Rate, 24000).process(samples).slice()
  return to === 24000 ? at24 : createResampler(24000, to).process(at24).slice()
}
const caller = fixture('caller-ja-16k.wav', RATE)
const assistant = fixture('assistant-ja-24k.wav', RATE)
const frameSamples = RATE / 1000 * FRAME_MS

const cpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** One call of SECONDS through a Tape on a simulated clock: the caller speaks, the AI answers half the time. */
function tapeRun (): { cpuMs: number, spooled: Buffer[] } {
  const spooled: Buffer[] = []
  let now = 0
  const tape = new Tape(RATE, (pcm) => spooled.push(pcm), 100, () => now)
  const frame = new Uint8Array(frameSamples * 2)
  const start = cpuMs()
  for (let i = 0; i < SECONDS * 1000 / FRAME_MS; i++) {
    now = i * FRAME_MS
    const c = (i * frameSamples) % (caller.length - frameSamples)
    frame.set(new Uint8Array(caller.buffer, caller.byteOffset + c * 2, frameSamples * 2))
    tape.caller(frame, RATE, now)
    if (Math.floor(i / 150) % 2 === 1) {
      const a = (i * frameSamples) % (assistant.length - frameSamples)
      frame.set(new Uint8Array(assistant.buffer, assistant.byteOffset + a * 2, frameSamples * 2))
      tape.assistant(frame, RATE, now + 100)
    }
    // A barge-in now and then: what was queued at Vonage is cut.
    if (i % 1500 === 1499) tape.cleared(now)
  }
  tape.end(now + FRAME_MS)
  return { cpuMs: cpuMs() - start, spooled }
}

/** The spooled PCM through the encoder, in the pieces the encoder thread reads. */
function encodeRun (spooled: Buffer[]): { cpuMs: number, bytes: number } {
  const pcm = Buffer.concat(spooled)
  const all = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1)
  const mp3 = new StereoMp3(RATE, KBPS)
  const piece = 576 * 280 * 2
  let bytes = 0
  const start = cpuMs()
  for (let i = 0; i < all.length; i += piece) bytes += mp3.encode(all.subarray(i, i + piece)).length
  bytes += mp3.flush().length
  return { cpuMs: cpuMs() - start, bytes }
}

// Warm up (JIT), then measure.
encodeRun(tapeRun().spooled)
const tapeCpu: number[] = []
const encodeCpu: number[] = []
let mp3Bytes = 0
let pcmBytes = 0
for (let r = 0; r < RUNS; r++) {
  const t = tapeRun()
  tapeCpu.push(t.cpuMs)
  pcmBytes = t.spooled.reduce((n, b) => n + b.length, 0)
  const e = encodeRun(t.spooled)
  encodeCpu.push(e.cpuMs)
  mp3Bytes = e.bytes
}

// Memory of calls in progress: the tapes of 200 calls, as allocated.
const before = process.memoryUsage()
const tapes = Array.from({ length: 200 }, () => new Tape(RATE, () => {}))
const after = process.memoryUsage()
const perCallKb = ((after.arrayBuffers - before.arrayBuffers) + (after.heapUsed - before.heapUsed)) / tapes.length / 1024

const perCallSecond = (ms: number): number => ms / SECONDS
const result = {
  rate: RATE,
  kbps: KBPS,
  seconds: SECONDS,
  tapeCpuMsPerCallSecond: Number(perCallSecond(median(tapeCpu)).toFixed(3)),
  encodeCpuMsPerCallSecond: Number(perCallSecond(median(encodeCpu)).toFixed(2)),
  encodeRealtimeFactor: Math.round(1000 / perCallSecond(median(encodeCpu))),
  spoolBytesPerMinute: Math.round(pcmBytes / SECONDS * 60),
  mp3BytesPerMinute: Math.round(mp3Bytes / SECONDS * 60),
  memoryKbPerCallInProgress: Number(perCallKb.toFixed(1)),
  callsEncodedPerCoreAtFullLoad: Math.floor(1000 / perCallSecond(median(encodeCpu)))
}
console.log(`recording at ${RATE} Hz, ${result.kbps} kbit/s stereo MP3, ${SECONDS} s calls (median of ${RUNS})`)
console.log(`  on the beat (tape):        ${result.tapeCpuMsPerCallSecond} ms CPU per call-second`)
console.log(`  after the call (encoder):  ${result.encodeCpuMsPerCallSecond} ms CPU per call-second (${result.encodeRealtimeFactor}× real time)`)
console.log(`  spool on disk during call: ${(result.spoolBytesPerMinute / 1e6).toFixed(2)} MB per minute`)
console.log(`  stored MP3:                ${(result.mp3BytesPerMinute / 1e3).toFixed(0)} kB per minute`)
console.log(`  memory per call in progress: ${result.memoryKbPerCallInProgress} kB`)
if (JSON_OUT !== '') writeFileSync(JSON_OUT, JSON.stringify(result, null, 2) + '\n')
