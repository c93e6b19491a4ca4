/**
 * The benchmark's stand-in for the OpenAI Realtime API (GA events, as
 * test/fakes/realtime-server.ts speaks them), lean enough to serve hundreds of
 * sessions from its own process: caller audio (input_audio_buffer.append) is
 * counted by its prefix, never unmasked or parsed.
 *
 * Every session: session.created; session.updated on session.update; the
 * greeting (the bridge's first response.create) `modelDelayMs` later, all its
 * deltas at once. Then the same cycle for every session in step — the worst
 * case of many calls' answers landing in the same instant: at
 * origin + k × periodMs, a whole `answerMs` answer in one burst of
 * `deltaMs` deltas; at + bargeAtMs, speech_started for the sessions with an
 * even call index (a barge-in while the answer plays).
 *
 * Each delta's and speech_started's event_id is `event_t<µs>`, when it was
 * written on the monotonic clock, so the server's probe can time it from the wire.
 *
 * Run with fork(); IPC: → {port} when listening; ← {cmd:'cycles', origin}
 * (monotonic ms), {cmd:'stats'} → {stats}.
 */
import { createServer, type IncomingMessage } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { readWavPcm16 } from '../../lib/audio/wav.js'
import { monotonicOffsetMs } from './histogram.js'
import { fixture } from './util.js'
import { acceptKey, FrameSplitter, frame, textFrames, unmask, payloadStartsWith, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG } from './ws.js'

export interface FakeConfig {
  modelDelayMs: number
  deltaMs: number
  answerMs: number
  periodMs: number
  bargeAtMs: number
  /** A session joins the cycles this long after its greeting. */
  joinAfterMs: number
  /** 0: every answer in the same instant (the worst case); > 0: answers spread over this many ms, in 20 steps. */
  spreadMs: number
  /** Serve wss:// with this key and certificate (files), as the real API does. */
  tls: { key: string, cert: string } | null
}

const cfg: FakeConfig = { modelDelayMs: 300, deltaMs: 100, answerMs: 2000, periodMs: 3000, bargeAtMs: 1000, joinAfterMs: 4000, spreadMs: 0, tls: null, ...JSON.parse(process.env.BENCH_FAKE_CONFIG ?? '{}') }
const mono = monotonicOffsetMs()
const nowUs = (): number => Math.round((performance.now() + mono) * 1000)

const wav = readWavPcm16(readFileSync(fixture('assistant-ja-24k.wav')))
const answer = wav.samples.subarray(0, Math.min(wav.samples.length, cfg.answerMs * 24))
const deltas: string[] = []
const per = cfg.deltaMs * 24
for (let off = 0; off < answer.length; off += per) {
  const part = answer.subarray(off, Math.min(answer.length, off + per))
  deltas.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('base64'))
}
const answerAudioMs = answer.length / 24

const APPEND = Buffer.from('{"type":"input_audio_buffer.append"')

interface Conn {
  socket: Socket
  index: number
  greetedAt: number
  /** Item id → audio ms sent (the bound of a truncate). */
  items: Map<string, number>
  respondedAt: number
  open: boolean
}

const conns = new Set<Conn>()
const stats = { handshakes: 0, sessions: 0, appends: 0, appendBytes: 0, responses: 0, greetings: 0, bargeIns: 0, truncates: 0, badTruncates: 0, otherEvents: 0, closed: 0 }
let seq = 0
const id = (p: string): string => `${p}_${(++seq).toString(36)}`

function sendEvents (c: Conn, events: string[]): void {
  if (c.open) c.socket.write(textFrames(events))
}

function ev (type: string, body: string): string {
  return `{"type":"${type}","event_id":"${id('event')}"${body === '' ? '' : ',' + body}}`
}

function respond (c: Conn, delayMs: number): void {
  const responseId = id('resp')
  const itemId = id('item')
  const head = [
    ev('response.created', `"response":{"id":"${responseId}","object":"realtime.response","status":"in_progress","output":[]}`),
    ev('response.output_item.added', `"response_id":"${responseId}","output_index":0,"item":{"id":"${itemId}","type":"message","object":"realtime.item","status":"in_progress","role":"assistant","content":[]}`)
  ]
  const body = (): void => {
    if (!c.open) return
    const stamp = nowUs()
    const out: string[] = delayMs > 0 ? [] : head
    for (const d of deltas) {
      out.push(`{"type":"response.output_audio.delta","event_id":"event_t${stamp}","response_id":"${responseId}","item_id":"${itemId}","output_index":0,"content_index":0,"delta":"${d}"}`)
    }
    out.push(
      ev('response.output_audio.done', `"response_id":"${responseId}","item_id":"${itemId}","output_index":0,"content_index":0`),
      ev('response.output_audio_transcript.done', `"response_id":"${responseId}","item_id":"${itemId}","output_index":0,"content_index":0,"transcript":"こんにちは。"`),
      ev('response.output_item.done', `"response_id":"${responseId}","output_index":0,"item":{"id":"${itemId}","type":"message","object":"realtime.item","status":"completed","role":"assistant","content":[]}`),
      ev('response.done', `"response":{"id":"${responseId}","object":"realtime.response","status":"completed","output":[],"usage":{"total_tokens":140,"input_tokens":100,"output_tokens":40,"input_token_details":{"text_tokens":80,"audio_tokens":20,"cached_tokens":0},"output_token_details":{"text_tokens":0,"audio_tokens":40}}}`)
    )
    c.items.set(itemId, answerAudioMs)
    if (c.items.size > 8) c.items.delete(c.items.keys().next().value!)
    sendEvents(c, out)
    stats.responses++
  }
  if (delayMs > 0) {
    sendEvents(c, head)
    setTimeout(body, delayMs)
  } else {
    body()
  }
}

function onClientEvent (c: Conn, text: string): void {
  let e: { type?: string, session?: { instructions?: string }, item_id?: string, audio_end_ms?: number }
  try { e = JSON.parse(text) } catch { stats.otherEvents++; return }
  switch (e.type) {
    case 'session.update': {
      // The bench's caller numbers end in the call's index; the bridge tells the model their last 4 digits.
      const m = /末尾 (\d{4})/.exec(e.session?.instructions ?? '')
      if (m !== null) c.index = Number(m[1])
      stats.sessions++
      sendEvents(c, [ev('session.updated', '"session":{"type":"realtime","object":"realtime.session"}')])
      break
    }
    case 'response.create':
      if (c.greetedAt === 0) {
        c.greetedAt = performance.now()
        stats.greetings++
        respond(c, cfg.modelDelayMs)
      }
      break
    case 'conversation.item.truncate': {
      stats.truncates++
      const max = c.items.get(String(e.item_id))
      const end = Number(e.audio_end_ms)
      if (max === undefined || !(end <= max + 0.5)) {
        stats.badTruncates++
        sendEvents(c, [ev('error', '"error":{"type":"invalid_request_error","code":"invalid_value","message":"audio_end_ms is beyond the item\'s audio","param":"audio_end_ms"}')])
      } else {
        sendEvents(c, [ev('conversation.item.truncated', `"item_id":"${String(e.item_id)}","content_index":0,"audio_end_ms":${end}`)])
      }
      break
    }
    default:
      stats.otherEvents++
  }
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
  const c: Conn = { socket, index: -1, greetedAt: 0, items: new Map(), respondedAt: 0, open: true }
  conns.add(c)
  const reader = new FrameSplitter((op, buf, start, end, mask) => {
    if (op === OP_TEXT) {
      if (payloadStartsWith(buf, start, end, mask, APPEND)) { stats.appends++; stats.appendBytes += end - start; return }
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
  sendEvents(c, [ev('session.created', `"session":{"type":"realtime","id":"${id('sess')}","object":"realtime.session","model":"gpt-realtime"}`)])
})

function cycles (originMono: number): void {
  const origin = originMono - mono // in this process's performance.now()
  let k = Math.max(0, Math.ceil((performance.now() - origin) / cfg.periodMs))
  const next = (): void => {
    const at = origin + k * cfg.periodMs
    setTimeout(() => {
      const now = performance.now()
      const cycle: Conn[] = []
      for (const c of conns) {
        if (c.open && c.greetedAt > 0 && now - c.greetedAt >= cfg.joinAfterMs) cycle.push(c)
      }
      // Answers (and barge-ins) for each twentieth of the calls, `spreadMs / 20` apart: all at once when 0.
      for (let slot = 0; slot < 20; slot++) {
        const calls = cycle.filter(c => (c.index % 20 + 20) % 20 === slot)
        const offset = cfg.spreadMs * slot / 20
        const answer = (): void => { for (const c of calls) { respond(c, 0); c.respondedAt = performance.now() } }
        if (offset === 0) answer()
        else setTimeout(answer, offset)
        setTimeout(() => {
          for (const c of calls) {
            if (c.index % 2 !== 0 || !c.open) continue
            stats.bargeIns++
            sendEvents(c, [`{"type":"input_audio_buffer.speech_started","event_id":"event_t${nowUs()}","audio_start_ms":1000,"item_id":"${id('item')}"}`])
          }
        }, offset + cfg.bargeAtMs)
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
