import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createResampler, type Rate } from '../../../lib/audio/resampler.js'
import { firKernel, KERNEL_CHUNK } from '../../../lib/audio/fir-kernel.js'
import { assemble, render, OUT_PATH } from '../../../scripts/build-wasm.js'

const PAIRS: Array<[Rate, Rate]> = [[16000, 24000], [24000, 16000], [8000, 24000], [24000, 8000]]

test('lib/audio/fir-kernel-wasm.ts is lib/audio/fir-kernel.wat assembled (run npm run build:wasm after editing the .wat)', async () => {
  assert.equal(readFileSync(OUT_PATH, 'utf8'), render(await assemble()))
})

test('this Node runs the SIMD kernel (the JS loop is only the fallback)', () => {
  assert.notEqual(firKernel(), null)
  assert.equal(createResampler(16000, 24000).constructor.name, 'SimdResampler')
  assert.equal(createResampler(16000, 24000, 'js').constructor.name, 'PolyphaseResampler')
})

/** Noise, a loud chirp and clipping-level steps: everything the float32 path could round differently. */
function signal (length: number, seed: number): Int16Array {
  const x = new Int16Array(length)
  let s = seed
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) >>> 0
    const noise = ((s >>> 8) % 20000) - 10000
    const chirp = 20000 * Math.sin(i * i * 1e-5)
    const step = (i >> 9) % 2 === 0 ? 32767 : -32768
    x[i] = Math.max(-32768, Math.min(32767, Math.round(i % 3000 < 1000 ? noise + chirp : i % 3000 < 2000 ? step : chirp)))
  }
  return x
}

function run (inRate: Rate, outRate: Rate, engine: 'auto' | 'js', x: Int16Array, sizes: number[]): Int16Array {
  const r = createResampler(inRate, outRate, engine)
  const parts: number[] = []
  let at = 0
  for (let k = 0; at < x.length; k++) {
    const n = Math.min(sizes[k % sizes.length]!, x.length - at)
    parts.push(...r.process(x.subarray(at, at + n)))
    at += n
  }
  return Int16Array.from(parts)
}

for (const [inRate, outRate] of PAIRS) {
  test(`${inRate}->${outRate}: SIMD output is the JS output to within one int16 step, in any chunking`, () => {
    const x = signal(inRate * 2, inRate)
    const frame = inRate / 50
    const reference = run(inRate, outRate, 'js', x, [frame])
    // 20 ms frames, odd sizes, one sample at a time, and pieces longer than the kernel takes at once.
    for (const sizes of [[frame], [1, 7, 333, 2], [1], [KERNEL_CHUNK * 2 + 5]]) {
      const y = run(inRate, outRate, 'auto', x, sizes)
      assert.equal(y.length, reference.length, `sizes ${sizes.join(',')}`)
      let worst = 0
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i]! - reference[i]!))
      assert.ok(worst <= 1, `sizes ${sizes.join(',')}: differs by ${worst}`)
    }
  })
}
