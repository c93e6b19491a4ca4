/**
 * Vonage's side of many calls, for the benchmark, in its own process (run
 * with fork(); the bench starts a few). For each call: the answer webhook
 * (POST /incoming-call, as Vonage sends it), the NCCO's WebSocket opened
 * after the greeting would have played, `websocket:connected`, then the
 * caller's audio as 20 ms L16 frames on an absolute real-time schedule — calls
 * spread over 20 phase slots 1 ms apart, as independent calls would be — and
 * every frame the bridge sends back timed on arrival.
 *
 * It also keeps its own view of Vonage's playback buffer per call: a frame
 * that arrives after the buffer ran dry in the middle of an answer (a gap
 * under 250 ms; longer gaps are the pause between answers) is late "as
 * received" — that includes this process's own scheduling, so it is a
 * cross-check of the server's figure, which it cannot undercut.
 *
 * IPC: {cmd:'open', base, indices, greetingDelayMs, rampMs} → {opened}; {cmd:'window'};
 * {cmd:'stats'} → {stats}; {cmd:'close'} → {closed}.
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { readWavPcm16 } from '../../lib/audio/wav.js'
import { Histogram } from './histogram.js'
import { fixture } from './util.js'
import { FrameSplitter, applyMask, frame, maskKey, OP_BINARY, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG, headerLength, writeHeader } from './ws.js'
import { handshakeHeaders, vonageHeaders } from '../../test/helpers/vonage-sign.js'

const SLOTS = 20
const SPURT_GAP_MS = 250

interface Call {
  index: number
  socket: Socket | null
  offset: number
  n: number
  connectAt: number
  firstFrameAt: number
  playEnd: number
  spurtFrames: number
  closing: boolean
}

// Caller audio, framed and masked once per rate (each frame its own random key) and replayed:
// masking every send would put the load generators' CPU into the figures of the server's core.
const caller16k = readWavPcm16(readFileSync(fixture('caller-ja-16k.wav'))).samples
const framesByRate = new Map<number, Buffer[]>()
function callerFrames (rate: number): Buffer[] {
  let frames = framesByRate.get(rate)
  if (frames !== undefined) return frames
  // Other rates only change the frame size here; the content does not matter to the bench.
  const per = rate / 50
  const src = caller16k
  frames = []
  for (let off = 0; off + per <= src.length; off += per) {
    const bytes = per * 2
    const buf = Buffer.allocUnsafe(headerLength(bytes, true) + bytes)
    const mask = maskKey()
    const p = writeHeader(buf, 0, OP_BINARY, bytes, mask)
    Buffer.from(src.buffer, src.byteOffset + off * 2, bytes).copy(buf, p)
    applyMask(buf, p, buf.length, mask)
    frames.push(buf)
  }
  framesByRate.set(rate, frames)
  return frames
}

const slots: Call[][] = Array.from({ length: SLOTS }, () => [])
const calls = new Set<Call>()
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
const eld = monitorEventLoopDelay({ resolution: 10 })
eld.enable()
let cpu = process.cpuUsage()

const w = { frames: 0, lateClient: 0, clears: 0, closedUnexpectedly: 0, lateGap: new Histogram() }
const total = { frames: 0, refused: 0, failed: 0 }
let ttfw = new Histogram()
let frames16: Buffer[] = []

// ---- caller audio clock -----------------------------------------------------
const clockStart = performance.now()
let tickN = 0
function clock (): void {
  const now = performance.now()
  while (clockStart + tickN <= now) {
    for (const c of slots[tickN % SLOTS]!) {
      if (c.socket === null || c.closing) continue
      const fr = frames16
      c.socket.write(fr[(c.offset + c.n++) % fr.length]!)
    }
    tickN++
  }
  setTimeout(clock, Math.max(0, clockStart + tickN - performance.now()))
}
clock()

// ---- one call -------------------------------------------------------------------
async function post (base: URL, path: string, body: unknown): Promise<{ status: number, json: unknown }> {
  return await new Promise((resolve, reject) => {
    const data = JSON.stringify(body)
    // Signed as Vonage signs every webhook: the server refuses unsigned ones, and checking the signature is part of its work.
    const req = http.request({ host: base.hostname, port: base.port, path, method: 'POST', agent, headers: { ...vonageHeaders(data), 'content-length': Buffer.byteLength(data) } }, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        try { resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }) } catch { resolve({ status: res.statusCode ?? 0, json: text }) }
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

async function upgrade (base: URL, path: string): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const req = http.request({
      host: base.hostname,
      port: base.port,
      path,
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...handshakeHeaders() }
    })
    req.on('upgrade', (res, socket, head) => {
      if (res.statusCode !== 101) { socket.destroy(); reject(new Error(`upgrade: ${res.statusCode}`)); return }
      if (head.length > 0) socket.unshift(head)
      resolve(socket)
    })
    req.on('response', res => { res.resume(); reject(new Error(`upgrade refused: ${res.statusCode}`)) })
    req.on('error', reject)
    req.end()
  })
}

async function openCall (base: URL, index: number, greetingDelayMs: number, runId: string): Promise<'ok' | 'refused' | 'failed'> {
  let ncco: Array<{ action: string, endpoint?: Array<{ uri: string, 'content-type': string }> }>
  try {
    const res = await post(base, '/incoming-call', {
      uuid: `bench-${runId}-${index}`,
      conversation_uuid: `CON-bench-${runId}-${index}`,
      // The fake API learns the call's index from the last four digits the bridge tells the model.
      from: `8180${String(10_000_000 + index).slice(-8)}`,
      to: '815031023332'
    })
    if (res.status !== 200) return 'failed'
    ncco = res.json as typeof ncco
  } catch {
    return 'failed'
  }
  const connect = ncco.find(a => a.action === 'connect')
  if (connect?.endpoint === undefined) return 'refused'
  const uri = new URL(connect.endpoint[0]!.uri)
  const rate = Number(/rate=(\d+)/.exec(connect.endpoint[0]!['content-type'])?.[1] ?? 16000)
  frames16 = callerFrames(rate)
  await new Promise(resolve => setTimeout(resolve, greetingDelayMs))
  let socket: Socket
  try {
    socket = await upgrade(base, uri.pathname + uri.search)
  } catch {
    return 'failed'
  }
  socket.setNoDelay(true)
  const c: Call = { index, socket, offset: (index * 37) % frames16.length, n: 0, connectAt: performance.now(), firstFrameAt: 0, playEnd: 0, spurtFrames: 0, closing: false }
  const reader = new FrameSplitter((op, buf, start, end) => {
    const t = performance.now()
    if (op === OP_BINARY) {
      w.frames++
      total.frames++
      if (c.firstFrameAt === 0) { c.firstFrameAt = t; ttfw.record((t - c.connectAt) * 1000) }
      const gap = t - c.playEnd
      if (c.spurtFrames > 0 && gap > 0 && gap < SPURT_GAP_MS) { w.lateClient++; w.lateGap.record(gap * 1000) }
      if (gap >= SPURT_GAP_MS) c.spurtFrames = 0
      c.playEnd = Math.max(c.playEnd, t) + 20
      c.spurtFrames++
    } else if (op === OP_TEXT) {
      const text = buf.toString('utf8', start, end)
      if (text.includes('"clear"')) { w.clears++; c.spurtFrames = 0; c.playEnd = t }
    } else if (op === OP_PING) {
      socket.write(frame(OP_PONG, buf.subarray(start, end), true))
    } else if (op === OP_CLOSE) {
      if (!c.closing) w.closedUnexpectedly++
      c.closing = true
      socket.end()
    }
  })
  socket.on('data', (d: Buffer) => reader.push(d))
  socket.on('error', () => {})
  socket.on('close', () => {
    if (!c.closing) w.closedUnexpectedly++
    c.closing = true
    c.socket = null
    calls.delete(c)
    const slot = slots[index % SLOTS]!
    const at = slot.indexOf(c)
    if (at >= 0) slot.splice(at, 1)
  })
  socket.write(frame(OP_TEXT, `{"event":"websocket:connected","content-type":"audio/l16;rate=${rate}"}`, true))
  calls.add(c)
  slots[index % SLOTS]!.push(c)
  return 'ok'
}

// ---- control ------------------------------------------------------------------
const runId = randomBytes(3).toString('hex')

process.on('message', (m: { cmd: string, base?: string, indices?: number[], greetingDelayMs?: number, rampMs?: number }) => {
  if (m.cmd === 'open') {
    const base = new URL(m.base!)
    const indices = m.indices!
    ttfw = new Histogram()
    const step = indices.length > 1 ? (m.rampMs ?? 0) / indices.length : 0
    const result = { ok: 0, refused: 0, failed: 0 }
    void Promise.all(indices.map(async (index, i) => {
      await new Promise(resolve => setTimeout(resolve, i * step))
      const r = await openCall(base, index, m.greetingDelayMs ?? 1000, runId)
      result[r]++
      if (r === 'refused') total.refused++
      if (r === 'failed') total.failed++
    })).then(() => process.send!({ opened: result }))
  } else if (m.cmd === 'window') {
    w.frames = w.lateClient = w.clears = w.closedUnexpectedly = 0
    w.lateGap.reset()
    eld.reset()
    cpu = process.cpuUsage()
    process.send!({ window: true })
  } else if (m.cmd === 'stats') {
    const used = process.cpuUsage(cpu)
    process.send!({
      stats: {
        held: calls.size,
        frames: w.frames,
        framesTotal: total.frames,
        lateClient: w.lateClient,
        lateGap: w.lateGap.toJSON(),
        clears: w.clears,
        closedUnexpectedly: w.closedUnexpectedly,
        refused: total.refused,
        failed: total.failed,
        ttfw: ttfw.toJSON(),
        cpuMs: (used.user + used.system) / 1000,
        eldP99: eld.percentile(99) / 1e6,
        eldMax: eld.max / 1e6
      }
    })
  } else if (m.cmd === 'close') {
    for (const c of calls) {
      c.closing = true
      c.socket?.end(frame(OP_CLOSE, Buffer.from([0x03, 0xe8]), true))
    }
    process.send!({ closed: true })
  } else if (m.cmd === 'exit') {
    process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))
process.send!({ ready: true })
