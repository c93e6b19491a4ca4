import type { Rate } from '../audio/resampler.js'
import type { Log } from '../log/logger.js'
import { FRAME_MS } from './playout.js'

/**
 * The Vonage side of a call: the media WebSocket, or anything that talks like
 * it. A frame passed to send() may be reused once bufferedAmount reads 0, so
 * send() must copy it or write it out before then (a `ws` WebSocket does).
 */
export interface MediaSocket {
  send: (data: Buffer | string) => void
  close: (code?: number, reason?: string) => void
  readonly bufferedAmount: number
}

export interface MediaHandlers {
  /** One frame of caller audio (L16 at the channel's rate), only lent. */
  audio: (pcm: Uint8Array) => void
  /** websocket:connected named a rate other than the current one. */
  rate: (rate: Rate) => void
  dtmf: (digit: string) => void
}

/** A text message from Vonage is a few hundred bytes; anything longer is not one. */
const MAX_TEXT_BYTES = 8 * 1024
const CLEAR = '{"action":"clear"}'

/**
 * Vonage's media WebSocket protocol: a `websocket:connected` text message
 * naming the audio rate, `websocket:dtmf` key presses, binary 20 ms frames of
 * 16-bit PCM each way, and `{"action":"clear"}` to flush what Vonage has
 * queued for the caller. Malformed input is counted, and logged once per call
 * at warn (a token holder must not be able to flood the logs).
 */
export class MediaChannel {
  readonly #socket: MediaSocket
  readonly #on: MediaHandlers
  readonly #log: Log
  #rate: Rate
  #malformedWarned = false
  #sizeWarned = false
  dropped = 0
  /** Told after each clear (the recorder cuts the assistant's track there). */
  onClear: (() => void) | null = null

  constructor (socket: MediaSocket, rate: Rate, on: MediaHandlers, log: Log) {
    this.#socket = socket
    this.#rate = rate
    this.#on = on
    this.#log = log
  }

  get bufferedAmount (): number { return this.#socket.bufferedAmount }

  setRate (rate: Rate): void { this.#rate = rate }

  onMessage (data: Buffer, isBinary: boolean): void {
    if (isBinary) { this.#onAudio(data); return }
    if (data.length > MAX_TEXT_BYTES) { this.#malformed('text message too long', data.length); return }
    let msg: unknown
    try {
      msg = JSON.parse(data.toString('utf8'))
    } catch {
      this.#malformed('text message is not JSON', data.length)
      return
    }
    const m = msg !== null && typeof msg === 'object' ? msg as { event?: unknown, 'content-type'?: unknown, digit?: unknown } : null
    switch (m?.event) {
      case 'websocket:connected': {
        const rate = Number(/rate=(\d+)/.exec(String(m['content-type'] ?? ''))?.[1])
        if ((rate === 8000 || rate === 16000 || rate === 24000) && rate !== this.#rate) this.#on.rate(rate)
        break
      }
      case 'websocket:dtmf':
        this.#on.dtmf(String(m.digit ?? ''))
        break
      case 'websocket:cleared':
      case 'websocket:notify':
        break
      default:
        this.#malformed('unknown text message', data.length)
    }
  }

  #onAudio (data: Buffer): void {
    const len = data.length
    const expected = this.#rate / 1000 * FRAME_MS * 2
    if ((len & 1) === 1 || len === 0 || len > expected * 4) { this.#malformed('audio frame of impossible size', len); return }
    if (len !== expected && !this.#sizeWarned) {
      this.#sizeWarned = true
      this.#log.warn({ bytes: len, expected, rate: this.#rate }, 'Vonage frame size does not match the audio rate')
    }
    this.#on.audio(data)
  }

  #malformed (what: string, bytes: number): void {
    this.dropped++
    if (this.#malformedWarned) return
    this.#malformedWarned = true
    this.#log.warn({ what, bytes }, 'malformed caller message dropped (further ones are only counted)')
  }

  sendFrame (frame: Buffer): void { this.#socket.send(frame) }
  clear (): void {
    this.#socket.send(CLEAR)
    this.onClear?.()
  }

  sendText (text: string): void { this.#socket.send(text) }
  close (code: number, reason: string): void { this.#socket.close(code, reason) }
}
