import { test } from 'node:test'
import assert from 'node:assert/strict'
import { aliasHz, fitSine, sinadDb } from '../../helpers/audio-quality.js'

// The worklets' building blocks are plain browser JavaScript (public/ has no build step).
interface Resampler { process: (input: ArrayLike<number>) => Float32Array, reset: () => void, half: number }
interface Framer { push: (input: ArrayLike<number>, emit: (frame: Int16Array, level: number) => void) => void }
interface JitterBuffer { push: (input: ArrayLike<number>) => void, pull: (out: Float32Array) => number, clear: () => void, bufferedMs: number, underruns: number, dropped: number }
const dsp = await import(new URL('../../../public/softphone/dsp.js', import.meta.url).href) as {
  Resampler: new (inRate: number, outRate: number) => Resampler
  Framer: new (samples: number) => Framer
  JitterBuffer: new (rate: number, o?: { targetMs?: number, maxMs?: number }) => JitterBuffer
}

function sine (freq: number, rate: number, n: number, amp = 0.5): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin(2 * Math.PI * freq * i / rate)
  return out
}

/** Feeds `x` in 128-sample render quanta, as a worklet gets it. */
function run (r: Resampler, x: Float32Array, block = 128): Float32Array {
  const parts: Float32Array[] = []
  for (let i = 0; i < x.length; i += block) parts.push(r.process(x.subarray(i, i + block)).slice())
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.length }
  return out
}

for (const [inRate, outRate] of [[48000, 16000], [44100, 16000], [48000, 8000], [48000, 24000], [16000, 48000], [16000, 44100], [24000, 48000]] as const) {
  test(`resampler ${inRate} → ${outRate}: clean in band, exact length, quiet aliases`, () => {
    const seconds = 1
    const r = new dsp.Resampler(inRate, outRate)
    const y = run(r, sine(1000, inRate, inRate * seconds))
    assert.ok(Math.abs(y.length - outRate * seconds) <= 1 + r.half * outRate / inRate, `length ${y.length}`)
    const skip = Math.round(outRate * 0.05)
    const sinad = sinadDb(y, 1000, outRate, skip)
    assert.ok(sinad > 60, `1 kHz SINAD ${sinad.toFixed(1)} dB`)
    assert.ok(Math.abs(fitSine(y, 1000, outRate, skip).amplitude - 0.5) < 0.01, 'unity gain')

    if (outRate < inRate) {
      // A tone above the call's Nyquist must not fold back into it.
      const high = outRate * 0.75
      const z = run(new dsp.Resampler(inRate, outRate), sine(high, inRate, inRate * seconds))
      const leak = fitSine(z, aliasHz(high, outRate), outRate, skip).amplitude / 0.5
      assert.ok(20 * Math.log10(leak) < -50, `alias of ${high} Hz at ${(20 * Math.log10(leak)).toFixed(1)} dB`)
    }
  })
}

test('framer: 20 ms L16 frames with their RMS level, clipped not wrapped', () => {
  const framer = new dsp.Framer(320)
  const frames: Array<[Int16Array, number]> = []
  framer.push(sine(1000, 16000, 16000 / 50 * 3 + 100), (f, level) => frames.push([f, level]))
  assert.equal(frames.length, 3)
  for (const [f, level] of frames) {
    assert.equal(f.length, 320)
    assert.ok(Math.abs(level - 0.5 / Math.SQRT2) < 0.01, `level ${level}`)
  }
  assert.notEqual(frames[0]![0].buffer, frames[1]![0].buffer, 'each frame has its own buffer (transferable)')
  const loud: Int16Array[] = []
  framer.push(new Float32Array(1000).fill(1.5), f => loud.push(f))
  assert.equal(loud[0]!.at(-1), 32767)
})

test('jitter buffer: waits for its target, plays through, re-primes when dry, clears at once, bounds its delay', () => {
  const rate = 48000
  const jb = new dsp.JitterBuffer(rate, { targetMs: 60, maxMs: 200 })
  const out = new Float32Array(128)
  const frame = new Float32Array(960).fill(0.25) // 20 ms
  jb.push(frame)
  jb.push(frame)
  assert.equal(jb.pull(out), 0, 'not yet: 40 ms < 60 ms target')
  assert.equal(out[0], 0)
  jb.push(frame)
  assert.equal(jb.pull(out), 128, 'target reached: plays')
  assert.equal(out[127], 0.25)
  let played = 128
  while (jb.pull(out) === 128) played += 128
  assert.equal(played, 2880 - (2880 % 128), 'whole blocks of the 60 ms queued')
  assert.equal(jb.underruns, 1, 'ran dry mid-block')
  jb.push(frame)
  assert.equal(jb.pull(out), 0, 'after running dry it waits for the target again')

  jb.push(frame); jb.push(frame)
  assert.ok(jb.pull(out) > 0)
  jb.clear()
  assert.equal(jb.bufferedMs, 0)
  assert.equal(jb.pull(out), 0, 'barge-in: silence from the next block on')

  for (let i = 0; i < 20; i++) jb.push(frame) // 400 ms into a 200 ms buffer
  assert.equal(jb.bufferedMs, 200)
  assert.equal(jb.dropped, 200 * 48)
})
