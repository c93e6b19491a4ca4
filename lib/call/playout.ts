import { createResampler, type Rate, type Resampler } from '../audio/resampler.js'
import { decodeBase64Into, decodedLength } from '../realtime/base64-bytes.js'

export const FRAME_MS = 20
/** The decode buffer starts at 2 s of 24 kHz audio, and is given up when idle above 8 s. */
const RING_START_BYTES = 2 * 48000
const RING_KEEP_BYTES = 8 * 48000
/** Frames one pump can hand out before the socket must have taken them: the lead (5 at 100 ms) and a catch-up. */
const ARENA_FRAMES = 8

/** Samples [start, end) of `pcm`, all of one item. */
interface Chunk {
  pcm: Int16Array
  start: number
  end: number
  itemId: string
}

/** Where one assistant item's audio sits on the timeline of audio sent to the caller. */
interface ItemSpan {
  id: string
  /** Milliseconds of call audio sent before this item's first sample. */
  startMs: number
  /** Milliseconds of this item's audio sent so far. */
  sentMs: number
}

export interface Cut {
  itemId: string
  /** Audio of that item the caller actually heard, in ms. */
  heardMs: number
}

/**
 * Assistant audio on its way to the caller: a queue of PCM at the engine's
 * rate as delivered, turned into exact 20 ms frames at the call's rate only
 * when a frame is due, so a burst of seconds of audio costs nothing on
 * arrival and nothing at all when a barge-in throws it away.
 *
 * It also models Vonage's playback buffer (`playEndMs`: when everything sent so
 * far will have played), which tells how much to send now to keep a small lead
 * queued there and how much of an item the caller has really heard.
 */
export class Playout {
  readonly frameSamples: number
  readonly frameBytes: number
  readonly #resampler: Resampler | null
  readonly #ratio: number
  readonly #inPerMs: number // samples per ms of the engine's audio
  readonly #chunks: Chunk[] = []
  /**
   * Where base64 deltas are decoded: reused from the start whenever the queue
   * runs empty, so a burst of seconds of audio allocates nothing per delta and
   * leaves no garbage for a collection to sweep while calls wait for frames.
   */
  #ring: Buffer | null = null
  /** The whole ring as samples: a delta that follows its item's last one in the ring extends that chunk, so a burst of deltas is one chunk, not one object per delta for the collector to carry until it plays. */
  #ring16: Int16Array | null = null
  #ringPos = 0
  /** Outgoing frames go out in these, made once; framesFlushed() says the socket has them all and they may be reused. */
  readonly #slots: Buffer[] = []
  #nextSlot = 0
  #queuedSamples = 0
  /** Resampled samples waiting to be framed (resampler output can straddle frames). */
  readonly #spill: Int16Array
  #spillStart = 0
  #spillEnd = 0
  readonly #frame: Int16Array
  readonly #frameAsBytes: Uint8Array
  #fill = 0
  #doneItems = new Set<string>()
  #spans: ItemSpan[] = []
  #sentMs = 0
  #playEndMs = 0
  /** A whole frame was waiting when the last pump() returned: it stopped for the lead, not for want of audio. */
  #ready = false
  /**
   * For the frame pump() is sending: by how many ms Vonage's playback buffer
   * (as modelled) ran dry before it although its audio was already waiting
   * here — a gap the caller hears that is the bridge's fault. 0 = on time.
   */
  lateMs = 0

  /** `inputRate`: the engine's output rate (24 kHz Realtime; GPT-Live's is Vonage's, so no resampling). */
  constructor (readonly rate: Rate, readonly leadMs: number, readonly inputRate: Rate = 24000) {
    this.frameSamples = rate / 1000 * FRAME_MS
    this.frameBytes = this.frameSamples * 2
    this.#resampler = rate === inputRate ? null : createResampler(inputRate, rate)
    this.#ratio = inputRate / rate
    this.#inPerMs = inputRate / 1000
    this.#frame = new Int16Array(this.frameSamples)
    this.#frameAsBytes = new Uint8Array(this.#frame.buffer, this.#frame.byteOffset, this.frameBytes)
    this.#spill = new Int16Array(this.frameSamples * 4)
    const slot = this.frameBytes
    const arena = Buffer.allocUnsafeSlow(slot * ARENA_FRAMES)
    for (let i = 0; i < ARENA_FRAMES; i++) this.#slots.push(arena.subarray(i * slot, (i + 1) * slot))
  }

  /**
   * Every frame handed out so far has left for the kernel (the socket has
   * nothing buffered): their bytes can be reused for the next ones, so steady
   * playout allocates no memory outside the JS heap at all.
   */
  framesFlushed (): void {
    this.#nextSlot = 0
  }

  /** Queued assistant audio not yet sent, in ms. */
  get pendingMs (): number {
    return this.#queuedSamples / this.#inPerMs + (this.#spillEnd - this.#spillStart + this.#fill) / (this.rate / 1000)
  }

  /** Audio sent but not yet played by Vonage, in ms. */
  queuedAtVonageMs (nowMs: number): number {
    return Math.max(0, this.#playEndMs - nowMs)
  }

  /** Audio of `itemId` sent to the caller so far, in ms (null: not in the ledger). */
  sentOf (itemId: string): number | null { return [...this.#spans].reverse().find(s => s.id === itemId)?.sentMs ?? null }

  /** Whether the caller is hearing, or is about to hear, assistant audio. */
  isActive (nowMs: number): boolean {
    return this.#queuedSamples > 0 || this.#fill > 0 || this.#spillEnd > this.#spillStart || this.#playEndMs > nowMs
  }

  /**
   * The same pending audio re-framed for another rate. Only valid before
   * anything was sent, when Vonage's first message names a rate other than
   * the one configured but the model's greeting is already queued.
   */
  withRate (rate: Rate): Playout {
    const next = new Playout(rate, this.leadMs, this.inputRate)
    for (const c of this.#chunks) {
      next.push(c.itemId, c.pcm.subarray(c.start, c.end))
    }
    for (const id of this.#doneItems) next.markDone(id)
    return next
  }

  push (itemId: string, pcm24k: Int16Array): void {
    if (pcm24k.length === 0) return
    this.#chunks.push({ pcm: pcm24k, start: 0, end: pcm24k.length, itemId })
    this.#queuedSamples += pcm24k.length
  }

  /** Queues a base64 delta as the API sent it (its bytes, or a string), decoded straight into the reused buffer. */
  pushBase64 (itemId: string, b64: Buffer | string): void {
    const bytes = typeof b64 === 'string' ? Buffer.byteLength(b64, 'base64') : decodedLength(0, b64.length)
    if (bytes < 2) return
    if (this.#chunks.length === 0) {
      this.#ringPos = 0
      // A call that once had a long answer queued does not keep that much memory for good.
      if (this.#ring !== null && this.#ring.length > RING_KEEP_BYTES) this.#ring = this.#ring16 = null
    }
    if (this.#ring === null || this.#ringPos + bytes > this.#ring.length) {
      // Full (audio still queued lives on in the old one until played): a bigger one.
      this.#ring = Buffer.alloc(Math.max(RING_START_BYTES, bytes, this.#ring === null ? 0 : this.#ring.length * 2))
      this.#ring16 = new Int16Array(this.#ring.buffer, this.#ring.byteOffset, this.#ring.length >> 1)
      this.#ringPos = 0
    }
    const decoded = typeof b64 === 'string'
      ? this.#ring.write(b64, this.#ringPos, bytes, 'base64')
      : decodeBase64Into(b64, 0, b64.length, this.#ring, this.#ringPos)
    const written = decoded & ~1
    if (written === 0) return
    const start = this.#ringPos >> 1
    const end = start + (written >> 1)
    this.#ringPos += written
    this.#queuedSamples += end - start
    const last = this.#chunks[this.#chunks.length - 1]
    if (last !== undefined && last.pcm === this.#ring16 && last.end === start && last.itemId === itemId) last.end = end
    else this.#chunks.push({ pcm: this.#ring16!, start, end, itemId })
  }

  /** The item's audio is complete: its last partial frame may be padded with silence. */
  markDone (itemId: string): void {
    this.#doneItems.add(itemId)
  }

  /**
   * Sends what is due at `nowMs`: frames until Vonage holds `leadMs` of audio.
   * Returns the number of frames sent.
   */
  pump (nowMs: number, send: (frame: Buffer) => void): number {
    let sent = 0
    // The last pump left a frame waiting, so it came before the buffer ran dry: a pump after that is late.
    this.lateMs = this.#ready && nowMs > this.#playEndMs ? nowMs - this.#playEndMs : 0
    // Topping up only below lead − ½ frame means a tick up to 10 ms late still sends one frame, not two.
    while (this.#playEndMs - nowMs < this.leadMs - FRAME_MS / 2) {
      const frame = this.#nextFrame()
      if (frame === null) break
      send(frame)
      this.lateMs = 0
      this.#playEndMs = Math.max(this.#playEndMs, nowMs) + FRAME_MS
      sent++
    }
    this.#ready = this.#hasFrame()
    return sent
  }

  /** Whether a whole frame could be sent now (roughly: resampler delay aside). */
  #hasFrame (): boolean {
    const pending = this.#queuedSamples / this.#ratio + (this.#spillEnd - this.#spillStart) + this.#fill
    if (pending >= this.frameSamples) return true
    return pending > 0 && this.#lastItemId !== null && this.#doneItems.has(this.#lastItemId)
  }

  /**
   * Barge-in: forget everything not yet played and report how much of the
   * playing item was heard. Vonage must be told to `clear` its own buffer.
   */
  clear (nowMs: number): Cut | null {
    const playedMs = this.#sentMs - this.queuedAtVonageMs(nowMs)
    let cut: Cut | null = null
    // Nothing playing or queued: the last item was heard whole and needs no truncation.
    for (let i = this.#spans.length - 1; i >= 0 && this.isActive(nowMs); i--) {
      const span = this.#spans[i]! // i runs from length - 1 down to 0
      if (span.startMs <= playedMs || i === 0) {
        // Floor: truncating past the audio the server holds for the item is an error.
        cut = { itemId: span.id, heardMs: Math.floor(Math.min(span.sentMs, Math.max(0, playedMs - span.startMs))) }
        break
      }
    }
    this.#chunks.length = 0
    this.#queuedSamples = 0
    this.#spillStart = this.#spillEnd = 0
    this.#fill = 0
    this.#resampler?.reset()
    this.#spans = []
    this.#doneItems.clear()
    this.#sentMs = Math.max(0, playedMs)
    this.#playEndMs = nowMs
    this.#ready = false
    return cut
  }

  #nextFrame (): Buffer | null {
    const frame = this.#frame
    while (this.#fill < this.frameSamples) {
      if (this.#spillEnd > this.#spillStart) {
        const n = Math.min(this.frameSamples - this.#fill, this.#spillEnd - this.#spillStart)
        frame.set(this.#spill.subarray(this.#spillStart, this.#spillStart + n), this.#fill)
        this.#fill += n
        this.#spillStart += n
        continue
      }
      const chunk = this.#chunks[0]
      if (chunk === undefined) break
      this.#take(chunk, this.frameSamples - this.#fill)
    }
    if (this.#fill < this.frameSamples) {
      // Pad only once the model has finished the item; otherwise wait for more audio.
      const last = this.#lastItemId
      if (this.#fill === 0 || last === null || !this.#doneItems.has(last)) return null
      frame.fill(0, this.#fill)
      this.#fill = this.frameSamples
    }
    this.#fill = 0
    this.#sentMs += FRAME_MS
    const out = this.#nextSlot < this.#slots.length
      ? this.#slots[this.#nextSlot++]!
      : Buffer.allocUnsafe(this.frameBytes) // a backlog in the socket, or a long catch-up
    out.set(this.#frameAsBytes, 0)
    return out
  }

  #lastItemId: string | null = null

  /** Moves about `wanted` output samples' worth of input from `chunk` (the first queued) into the frame or the spill. */
  #take (chunk: Chunk, wanted: number): void {
    const want24 = Math.max(1, Math.ceil(wanted * this.#ratio))
    const n = Math.min(want24, chunk.end - chunk.start)
    const input = chunk.pcm.subarray(chunk.start, chunk.start + n)
    this.#account(chunk.itemId, n)
    chunk.start += n
    this.#queuedSamples -= n
    if (chunk.start === chunk.end) this.#chunks.shift()
    const out = this.#resampler === null ? input : this.#resampler.process(input)
    const direct = Math.min(out.length, this.frameSamples - this.#fill)
    this.#frame.set(out.subarray(0, direct), this.#fill)
    this.#fill += direct
    if (direct < out.length) {
      this.#spill.set(out.subarray(direct), 0)
      this.#spillStart = 0
      this.#spillEnd = out.length - direct
    }
  }

  #account (itemId: string, samples24k: number): void {
    let span = this.#spans[this.#spans.length - 1]
    if (span === undefined || span.id !== itemId) {
      span = { id: itemId, startMs: this.#sentMs + this.#fill / (this.rate / 1000), sentMs: 0 }
      this.#spans.push(span)
      // Only the playing item and the ones after it can ever be truncated.
      if (this.#spans.length > 8) this.#spans.shift()
      this.#lastItemId = itemId
    }
    span.sentMs += samples24k / this.#inPerMs
  }
}
