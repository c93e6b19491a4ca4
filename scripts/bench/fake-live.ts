/**
 * The benchmark's stand-in for GPT-Live (`/v1/live/sessions`, the events of
 * test/fakes/live-server.ts), lean enough to serve hundreds of sessions from
 * its own process: caller audio (session.input_audio.append) is counted by
 * its prefix, never unmasked or parsed.
 *
 * Every session: session.started on session.start; the greeting once the
 * caller's audio flows (`modelDelayMs` later). Then the same cycle for every
 * session in step: at origin + k × periodMs a `answerMs` answer, streamed as
 * GPT-Live streams, at real-time pace (one `deltaMs` delta per session every
 * `deltaMs`, from one timer), with a transcript fragment per delta and
 * session.usage.updated every second. No barge-ins: GPT-Live takes turns
 * itself and the bridge cuts nothing.
 *
 * Each delta carries `event_id: event_t<µs>` (when it was written, on the
 * monotonic clock) beside the protocol's fields, only so that the server's
 * probe can time it from the wire; the bridge ignores it.
 *
 * Run with fork(); IPC as scripts/bench/fake-realtime.ts.
 */
import { createServer, type IncomingMessage } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { readWavPcm16 } from '../../lib/audio/wav.js'
import { createResampler } from '../../lib/audio/resampler.js'
import { monotonicOffsetMs } from './histogram.js'
import { fixture } from './util.js'
import { acceptKey, FrameSplitter, frame, textFrames, unmask, payloadStartsWith, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG } from './ws.js'
import type { FakeConfig } from './fake-realtime.js'

const cfg: FakeConfig & { rate: 16000 | 24000, phases: number } = { modelDelayMs: 300, deltaMs: 100, answerMs: 2000, periodMs: 3000, bargeAtMs: 1000, joinAfterMs: 4000, spreadMs: 0, tls: null, rate: 16000, phases: 1, ...JSON.parse(process.env.BENCH_FAKE_CONFIG ?? '{}') }
const mono = monotonicOffsetMs()
const nowUs = (): number => Math.round((performance.now() + mono) * 1000)

// The assistant fixture at the session's rate: GPT-Live speaks Vonage's rate.
const wav = readWavPcm16(readFileSync(fixture('assistant-ja-24k.wav')))
const at24 = wav.samples.subarray(0, Math.min(wav.samples.length, cfg.answerMs * 24))
const answer = cfg.rate === 24000 ? at24 : createResampler(24000, cfg.rate).process(at24).slice()
const perMs = cfg.rate / 1000
const deltas: string[] = []
for (let off = 0; off < answer.length; off += cfg.deltaMs * perMs) {
  const part = answer.subarray(off, Math.min(answer.length, off + cfg.deltaMs * perMs))
  deltas.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('base64'))
}

const APPEND = Buffer.from('{"type":"session.input_audio.append"')

interface Conn {
  socket: Socket
  index: number
  startedAt: number
  greetedAt: number
  /** The delta of the answer being spoken next (-1: silent). */
  speaking: number
  open: boolean
}

const conns = new Set<Conn>()
const stats = { handshakes: 0, sessions: 0, appends: 0, appendBytes: 0, responses: 0, greetings: 0, bargeIns: 0, truncates: 0, badTruncates: 0, otherEvents: 0, closed: 0 }
let seq = 0
const id = (p: string): string => `${p}_${(++seq).toString(36)}`

function sendEvents (c: Conn, events: string[]): void {
  if (c.open) c.socket.write(textFrames(events))
}

function speak (c: Conn): void {
  c.speaking = 0
  stats.responses++
}

/**
 * One beat of every speaking session: its next delta and transcript fragment,
 * written as one chunk. Beats fall on an absolute schedule (start + n ×
 * deltaMs / phases), as a real-time stream does: a repeating timer would slip
 * by its own lateness every beat and deliver slower than real time, which no
 * playback buffer can absorb. With `phases` > 1 (--live-phases) each session
 * streams in its own phase of the delta period, as independent sessions do;
 * 1, the default, sends every session's delta in the same instant.
 */
const beatsFrom = performance.now()
const beatMs = cfg.deltaMs / cfg.phases
let beats = 0
function beat (): void {
  const now = performance.now()
  const stamp = nowUs()
  const phase = beats % cfg.phases
  beats++
  for (const c of conns) {
    if (!c.open || c.speaking < 0 || ((c.index % cfg.phases) + cfg.phases) % cfg.phases !== phase) continue
    const k = c.speaking
    const startMs = Math.round(now - c.startedAt)
    sendEvents(c, [
      `{"type":"session.output_audio.delta","event_id":"event_t${stamp}","delta":"${deltas[k]!}"}`,
      `{"type":"session.output_transcript.delta","event_id":"${id('event')}","delta":"こん","start_ms":${startMs},"end_ms":${startMs + cfg.deltaMs}}`
    ])
    c.speaking = k + 1 < deltas.length ? k + 1 : -1
  }
  setTimeout(beat, Math.max(0, beatsFrom + (beats + 1) * beatMs - performance.now()))
}
setTimeout(beat, beatMs)

// Cumulative usage, once a second, as GPT-Live reports it.
setInterval(() => {
  const now = performance.now()
  for (const c of conns) if (c.open && c.startedAt > 0) sendEvents(c, [`{"type":"session.usage.updated","event_id":"${id('event')}","usage":{"seconds":${Math.floor((now - c.startedAt) / 1000)}}}`])
}, 1000)

function onClientEvent (c: Conn, text: string): void {
  let e: { type?: string, session?: { instructions?: string } }
  try { e = JSON.parse(text) } catch { stats.otherEvents++; return }
  switch (e.type) {
    case 'session.start': {
      // The bench's caller numbers end in the call's index; the bridge tells the model their last 4 digits.
      const m = /末尾 (\d{4})/.exec(e.session?.instructions ?? '')
      if (m !== null) c.index = Number(m[1])
      stats.sessions++
      c.startedAt = performance.now()
      sendEvents(c, [`{"type":"session.started","event_id":"${id('event')}","session":{"id":"${id('sess')}","expires_at":0,"model":"gpt-live-1","status":"active"}}`])
      break
    }
    case 'session.close':
      sendEvents(c, [`{"type":"session.closed","event_id":"${id('event')}","reason":"close_requested","session":{"id":"s","expires_at":0,"model":"gpt-live-1","status":"active"},"usage":{"seconds":${Math.ceil((performance.now() - c.startedAt) / 1000)}}}`])
      break
    default:
      stats.otherEvents++
  }
}

function onAppend (c: Conn): void {
  stats.appends++
  if (c.greetedAt !== 0) return
  // The model speaks once its input clock runs.
  c.greetedAt = performance.now()
  stats.greetings++
  setTimeout(() => speak(c), cfg.modelDelayMs)
}

const notFound = (_req: IncomingMessage, res: { statusCode: number, end: () => void }): void => { res.statusCode = 404; res.end() }
const server = cfg.tls !== null
  ? createTlsServer({ key: readFileSync(cfg.tls.key), cert: readFileSync(cfg.tls.cert) }, notFound)
  : createServer(notFound)
server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
  stats.handshakes++
  const key = req.headers['sec-websocket-key']
  if (typeof key !== 'string') { socket.destroy(); return }
  socket.setNoDelay(true)
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`)
  const c: Conn = { socket, index: -1, startedAt: 0, greetedAt: 0, speaking: -1, open: true }
  conns.add(c)
  const reader = new FrameSplitter((op, buf, start, end, mask) => {
    if (op === OP_TEXT) {
      if (payloadStartsWith(buf, start, end, mask, APPEND)) { stats.appendBytes += end - start; onAppend(c); return }
      onClientEvent(c, unmask(buf, start, end, mask).toString('utf8'))
    } else if (op === OP_PING) {
      socket.write(frame(OP_PONG, unmask(buf, start, end, mask)))
    } else if (op === OP_CLOSE) {
      if (c.open) socket.end(frame(OP_CLOSE, Buffer.from([0x03, 0xe8])))
      c.open = false
    }
  })
  socket.on('data', (d: Buffer) => reader.push(d))
  socket.on('error', () => {})
  socket.on('close', () => { c.open = false; conns.delete(c); stats.closed++ })
  if (head.length > 0) reader.push(head)
})

function cycles (originMono: number): void {
  const origin = originMono - mono // in this process's performance.now()
  let k = Math.max(0, Math.ceil((performance.now() - origin) / cfg.periodMs))
  const next = (): void => {
    const at = origin + k * cfg.periodMs
    setTimeout(() => {
      const now = performance.now()
      for (let slot = 0; slot < 20; slot++) {
        const calls = [...conns].filter(c => c.open && c.greetedAt > 0 && now - c.greetedAt >= cfg.joinAfterMs && (c.index % 20 + 20) % 20 === slot)
        const offset = cfg.spreadMs * slot / 20
        if (offset === 0) for (const c of calls) speak(c)
        else setTimeout(() => { for (const c of calls) speak(c) }, offset)
      }
      k++
      next()
    }, Math.max(0, at - performance.now()))
  }
  next()
}

process.on('message', (m: { cmd: string, origin?: number }) => {
  if (m.cmd === 'cycles') cycles(m.origin!)
  else if (m.cmd === 'stats') {
    const cpu = process.cpuUsage()
    process.send!({ stats: { ...stats, open: conns.size, cpuMs: (cpu.user + cpu.system) / 1000 } })
  } else if (m.cmd === 'exit') process.exit(0)
})
process.on('disconnect', () => process.exit(0))

server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as { port: number }).port })
})
