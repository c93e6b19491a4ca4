import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createResampler, maxOutputSamples, type Rate } from '../../../lib/audio/resampler.js'
import { rmsDbfs, sinadDb, sineInt16, toneLevelDbfs } from '../../helpers/audio-quality.js'
import { prng } from '../../helpers/prng.js'

const SECONDS = 0.5
/** Skip the filter's start-up transient (its group delay is well under 2 ms). */
const SKIP_SECONDS = 0.02

/** Feed a signal through a fresh resampler in 20 ms frames, the way the bridge does, and collect the output. */
function run (inRate: Rate, outRate: Rate, x: Int16Array, frame = inRate / 50): Int16Array {
  const r = createResampler(inRate, outRate)
  const parts: Int16Array[] = []
  for (let i = 0; i < x.length; i += frame) parts.push(r.process(x.subarray(i, i + frame)).slice())
  return concat(parts)
}

function concat (parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Speech-band tone plus loud white noise: exercises every phase and the clamp. */
function testSignal (rate: number, samples: number, seed: number): Int16Array {
  const rnd = prng(seed)
  const x = new Int16Array(samples)
  for (let i = 0; i < samples; i++) {
    const v = 20000 * Math.sin((2 * Math.PI * 440 * i) / rate) + 30000 * (rnd() * 2 - 1)
    x[i] = Math.max(-32768, Math.min(32767, Math.round(v)))
  }
  return x
}

/** Attenuation in dB of a tone through a resampler: input RMS minus everything that comes out. */
function attenuationDb (inRate: Rate, outRate: Rate, freq: number, resample = run): number {
  const x = sineInt16(freq, inRate, inRate * SECONDS)
  const y = resample(inRate, outRate, x)
  return rmsDbfs(x) - rmsDbfs(y, Math.round(outRate * SKIP_SECONDS))
}

/** The obvious cheap alternative, as a reference that should NOT pass the stopband figure. */
function linear (inRate: Rate, outRate: Rate, x: Int16Array): Int16Array {
  const step = inRate / outRate
  const n = Math.floor(((x.length - 1) * outRate) / inRate) + 1
  const y = new Int16Array(n)
  for (let k = 0; k < n; k++) {
    const pos = k * step
    const i = Math.floor(pos)
    const f = pos - i
    y[k] = Math.round(x[i]! * (1 - f) + (x[Math.min(i + 1, x.length - 1)]! * f))
  }
  return y
}

const SWEEPS: Array<[Rate, Rate, number[]]> = [
  [16000, 24000, [200, 500, 1000, 2000, 3400, 4000, 5000, 6000]],
  [24000, 16000, [200, 500, 1000, 2000, 3400, 4000, 5000, 6000]],
  [8000, 24000, [200, 500, 1000, 2000, 3000, 3400]],
  [24000, 8000, [200, 500, 1000, 2000, 3000, 3400]],
]

for (const [inRate, outRate, freqs] of SWEEPS) {
  test(`${inRate}->${outRate}: SINAD >= 60 dB for -6 dBFS tones ${freqs[0]} Hz..${freqs.at(-1)} Hz`, () => {
    for (const f of freqs) {
      const y = run(inRate, outRate, sineInt16(f, inRate, inRate * SECONDS))
      const sinad = sinadDb(y, f, outRate, Math.round(outRate * SKIP_SECONDS))
      assert.ok(sinad >= 60, `${f} Hz: SINAD ${sinad.toFixed(1)} dB`)
    }
  })

  test(`${inRate}->${outRate}: passband gain within 0.1 dB`, () => {
    for (const f of freqs) {
      const x = sineInt16(f, inRate, inRate * SECONDS)
      const y = run(inRate, outRate, x)
      const gain = toneLevelDbfs(y, f, outRate, Math.round(outRate * SKIP_SECONDS)) - toneLevelDbfs(x, f, inRate)
      assert.ok(Math.abs(gain) <= 0.1, `${f} Hz: gain ${gain.toFixed(3)} dB`)
    }
  })
}

test('24000->16000: tones from 8.5 to 11.5 kHz come out at least 50 dB down', () => {
  for (const f of [8500, 9000, 10000, 11000, 11500]) {
    const a = attenuationDb(24000, 16000, f)
    assert.ok(a >= 50, `${f} Hz: only ${a.toFixed(1)} dB down`)
  }
})

test('24000->8000: tones from 4.5 to 11.5 kHz come out at least 50 dB down', () => {
  for (const f of [4500, 5000, 6000, 8000, 10000, 11500]) {
    const a = attenuationDb(24000, 8000, f)
    assert.ok(a >= 50, `${f} Hz: only ${a.toFixed(1)} dB down`)
  }
})

test('linear interpolation fails the stopband figure (the check above has teeth)', () => {
  const a16 = attenuationDb(24000, 16000, 10000, linear)
  const a8 = attenuationDb(24000, 8000, 6000, linear)
  assert.ok(a16 < 50, `24k->16k, 10 kHz: linear gave ${a16.toFixed(1)} dB`)
  assert.ok(a8 < 50, `24k->8k, 6 kHz: linear gave ${a8.toFixed(1)} dB`)
})

const PAIRS: Array<[Rate, Rate]> = [
  [16000, 24000],
  [24000, 16000],
  [8000, 24000],
  [24000, 8000],
]

for (const [inRate, outRate] of PAIRS) {
  test(`${inRate}->${outRate}: any chunking gives bit-identical output to one shot`, () => {
    const x = testSignal(inRate, 30011, inRate + outRate)
    const whole = createResampler(inRate, outRate).process(x).slice()
    assert.equal(whole.length, Math.ceil((x.length * outRate) / inRate))

    const rnd = prng(7)
    const patterns: Array<() => number> = [
      () => 1,
      () => 7919,
      () => 1 + Math.floor(rnd() * 997),
      () => [1, 2, 3, 319, 320, 321, 479, 480, 481][Math.floor(rnd() * 9)]!,
      () => (rnd() < 0.5 ? 0 : 160), // empty calls must be harmless
    ]
    for (const [p, nextSize] of patterns.entries()) {
      const r = createResampler(inRate, outRate)
      const parts: Int16Array[] = []
      for (let i = 0; i < x.length;) {
        const n = Math.min(nextSize(), x.length - i)
        const y = r.process(x.subarray(i, i + n))
        assert.ok(y.length <= maxOutputSamples(inRate, outRate, n), `pattern ${p}: ${y.length} outputs for ${n} inputs exceeds the bound`)
        parts.push(y.slice())
        i += n
      }
      assert.deepEqual(concat(parts), whole, `chunk pattern ${p}`)
    }
  })

  test(`${inRate}->${outRate}: reset() forgets history`, () => {
    const a = testSignal(inRate, 1000, 1)
    const b = testSignal(inRate, 1000, 2)
    const fresh = createResampler(inRate, outRate).process(b).slice()

    const r = createResampler(inRate, outRate)
    r.process(a)
    const dirty = r.process(b).slice()
    assert.notDeepEqual(dirty, fresh, 'without reset the history should show in the output')

    r.process(a.subarray(0, 333)) // leave the phase mid-cycle too
    r.reset()
    assert.deepEqual(r.process(b).slice(), fresh)
  })

  test(`${inRate}->${outRate}: a constant input comes out exactly constant after start-up`, () => {
    const x = new Int16Array(inRate / 10).fill(-12345)
    const y = run(inRate, outRate, x)
    const settled = y.subarray(Math.round(outRate * SKIP_SECONDS))
    assert.ok(settled.every((v) => v === -12345), `values seen: ${[...new Set(settled)].join(', ')}`)
  })

  test(`${inRate}->${outRate}: overshoot clamps instead of wrapping`, () => {
    // A full-scale square wave makes the filter ring past int16 range at every edge. The filter
    // is linear, so the output must match twice the output for the half-level input, clamped.
    const full = new Int16Array(inRate / 10)
    const half = new Int16Array(full.length)
    for (let i = 0; i < full.length; i++) {
      full[i] = Math.floor(i / (inRate / 400)) % 2 ? -32766 : 32766
      half[i] = full[i]! / 2
    }
    const yFull = run(inRate, outRate, full)
    const yHalf = run(inRate, outRate, half)
    let worst = 0
    for (let i = 0; i < yFull.length; i++) {
      const expected = Math.max(-32768, Math.min(32767, 2 * yHalf[i]!))
      worst = Math.max(worst, Math.abs(yFull[i]! - expected))
    }
    assert.ok(worst <= 2, `output differs from the clamped linear response by ${worst}`)
    assert.ok(yFull.includes(32767) && yFull.includes(-32768), 'expected the overshoot to hit both rails')
  })
}

test('every 20 ms frame yields exactly one 20 ms frame, from the first one on', () => {
  for (const [inRate, outRate] of PAIRS) {
    const r = createResampler(inRate, outRate)
    const frame = inRate / 50
    for (let i = 0; i < 50; i++) {
      const y = r.process(sineInt16(1000, inRate, frame, -6, i))
      assert.equal(y.length, outRate / 50, `${inRate}->${outRate} frame ${i}`)
    }
  }
})

test('equal rates pass the input straight through', () => {
  for (const rate of [8000, 16000, 24000] as const) {
    const r = createResampler(rate, rate)
    const x = testSignal(rate, 320, 3)
    assert.equal(r.process(x), x)
    r.reset()
    assert.equal(r.process(x), x)
    assert.equal(maxOutputSamples(rate, rate, 320), 320)
  }
})

test('unsupported rate pairs throw a clear error', () => {
  assert.throws(() => createResampler(8000, 16000), /unsupported rate pair 8000 Hz -> 16000 Hz/)
  assert.throws(() => createResampler(16000, 8000), /unsupported/)
})

test('maxOutputSamples covers the 20 ms frames exactly', () => {
  assert.equal(maxOutputSamples(16000, 24000, 320), 480)
  assert.equal(maxOutputSamples(8000, 24000, 160), 480)
  assert.equal(maxOutputSamples(24000, 16000, 480), 320)
  assert.equal(maxOutputSamples(24000, 8000, 480), 160)
  assert.equal(maxOutputSamples(24000, 16000, 1), 1)
  assert.equal(maxOutputSamples(24000, 8000, 0), 0)
})
