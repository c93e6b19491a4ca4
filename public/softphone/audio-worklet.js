/* global AudioWorkletProcessor, registerProcessor, sampleRate */
// Runs on the audio thread: the microphone becomes Vonage-style L16 frames,
// and the call's L16 frames become sound, without the page's main thread
// (which may be busy drawing) ever touching a sample.
import { Resampler, Framer, JitterBuffer } from './dsp.js'

/** Microphone → 20 ms L16 frames at the call's rate, posted to the page with their level. */
class L16Capture extends AudioWorkletProcessor {
  constructor (options) {
    super()
    const rate = options.processorOptions.rate
    this.resampler = new Resampler(sampleRate, rate)
    this.framer = new Framer(rate / 50)
    this.emit = (frame, level) => this.port.postMessage({ frame: frame.buffer, level }, [frame.buffer])
  }

  process (inputs) {
    // No channel while the source is not connected yet, or after the track ends.
    const channel = inputs[0]?.[0]
    if (channel !== undefined) this.framer.push(this.resampler.process(channel), this.emit)
    return true
  }
}

/**
 * The call's L16 frames → the sound card, through a small jitter buffer.
 * `{ clear: true }` (the bridge's barge-in) empties it at once. Posts the
 * level of what it plays about 20 times a second.
 */
class L16Player extends AudioWorkletProcessor {
  constructor (options) {
    super()
    const { rate, targetMs, maxMs } = options.processorOptions
    this.resampler = new Resampler(rate, sampleRate)
    this.buffer = new JitterBuffer(sampleRate, { targetMs, maxMs })
    this.reportEvery = Math.round(sampleRate / 20)
    this.sinceReport = 0
    this.sumSq = 0
    this.clears = 0
    this.port.onmessage = ({ data }) => {
      if (data.clear === true) {
        this.buffer.clear()
        this.resampler.reset()
        this.clears++
        this.sumSq = 0
        this.sinceReport = 0
        this.report(0)
        return
      }
      const pcm = new Int16Array(data.frame)
      const floats = new Float32Array(pcm.length)
      for (let i = 0; i < pcm.length; i++) floats[i] = pcm[i] / 32768
      this.buffer.push(this.resampler.process(floats))
    }
  }

  report (level) {
    this.port.postMessage({ level, bufferedMs: this.buffer.bufferedMs, underruns: this.buffer.underruns, dropped: this.buffer.dropped, clears: this.clears })
  }

  process (_inputs, outputs) {
    const out = outputs[0]
    const first = out[0]
    this.buffer.pull(first)
    for (let c = 1; c < out.length; c++) out[c].set(first)
    for (let i = 0; i < first.length; i++) this.sumSq += first[i] * first[i]
    this.sinceReport += first.length
    if (this.sinceReport >= this.reportEvery) {
      this.report(Math.sqrt(this.sumSq / this.sinceReport))
      this.sumSq = 0
      this.sinceReport = 0
    }
    return true
  }
}

registerProcessor('l16-capture', L16Capture)
registerProcessor('l16-player', L16Player)
