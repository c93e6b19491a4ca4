import { FIR_KERNEL_WASM } from './fir-kernel-wasm.js'

/**
 * The WebAssembly SIMD inner loop of the resampler (lib/audio/fir-kernel.wat), one
 * instance per process. Its single 64 KiB page never grows, so views of it
 * never detach. Layout: filter banks, then one scratch area (history, input,
 * output) that every resampler borrows for the length of one call; each keeps
 * its own history outside and copies it in and out.
 */
export interface FirKernel {
  /** Returns the number of outputs written at OUT; the next phase and pos are then in phase() and pos(). */
  run: (coefs: number, taps: number, up: number, down: number, hist: number, keep: number, input: number, n: number, out: number, phase: number, pos: number) => number
  phase: () => number
  pos: () => number
  /** The page as floats and as int16 samples. */
  readonly f32: Float32Array
  readonly i16: Int16Array
  /** Copies a filter bank in once; returns its byte offset. */
  placeCoefs: (coefs: ArrayLike<number>) => number
}

const COEF_BYTES = 8192
/** Longest input one call takes; longer ones are fed in pieces. */
export const KERNEL_CHUNK = 2048
/** The longest history any bank needs (taps − 1), with room to spare. */
const MAX_KEEP = 127
export const HIST = COEF_BYTES
export const IN = HIST + (MAX_KEEP + KERNEL_CHUNK) * 4
/** Up to three outputs per input (8 kHz → 24 kHz). */
export const OUT = IN + KERNEL_CHUNK * 2
const END = OUT + KERNEL_CHUNK * 3 * 2
export const MAX_TAPS = MAX_KEEP + 1

/** The little of the WebAssembly JS API used here (TypeScript declares it only with the DOM library). */
interface Wasm {
  validate: (bytes: Uint8Array) => boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: Record<string, unknown> }
}
interface WasmGlobal { value: unknown }

let kernel: FirKernel | null | undefined

/** The kernel, or null where WebAssembly SIMD is not available (the plain JS loop is used then). */
export function firKernel (): FirKernel | null {
  if (kernel !== undefined) return kernel
  kernel = null
  const bytes = Buffer.from(FIR_KERNEL_WASM, 'base64')
  const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly
  if (wasm === undefined || !wasm.validate(bytes)) return null
  const instance = new wasm.Instance(new wasm.Module(bytes))
  const ex = instance.exports as unknown as {
    memory: { buffer: ArrayBuffer }
    run: FirKernel['run']
    phase: WasmGlobal
    pos: WasmGlobal
  }
  if (ex.memory.buffer.byteLength < END) throw new Error('fir kernel: memory smaller than its layout')
  let coefEnd = 0
  const f32 = new Float32Array(ex.memory.buffer)
  kernel = {
    run: ex.run,
    phase: () => ex.phase.value as number,
    pos: () => ex.pos.value as number,
    f32,
    i16: new Int16Array(ex.memory.buffer),
    placeCoefs: (coefs) => {
      const at = coefEnd
      if (at + coefs.length * 4 > COEF_BYTES) throw new Error('fir kernel: no room for another filter bank')
      f32.set(coefs, at / 4)
      // 16-byte aligned banks, so the taps' vector loads are too.
      coefEnd = at + Math.ceil(coefs.length / 4) * 16
      return at
    }
  }
  return kernel
}
