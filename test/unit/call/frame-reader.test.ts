import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import WebSocket, { WebSocketServer } from 'ws'
import { FrameReader, readFramesDirectly } from '../../../lib/call/frame-reader.js'

/** A client frame as a browser or Vonage sends it (masked with a random key). */
function frame (opcode: number, payload: Buffer, o: { fin?: boolean, masked?: boolean, rsv?: number } = {}): Buffer {
  const masked = o.masked ?? true
  const len = payload.length
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0))
  head[0] = ((o.fin ?? true) ? 0x80 : 0) | (o.rsv ?? 0) | opcode
  head[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127)
  if (ext === 2) head.writeUInt16BE(len, 2)
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2)
  const body = Buffer.from(payload)
  if (masked) {
    const key = randomBytes(4)
    key.copy(head, 2 + ext)
    for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!
  }
  return Buffer.concat([head, body])
}

function run (stream: Buffer, cut: (n: number) => number[]): { audio: Buffer[], passed: Buffer } {
  const audio: Buffer[] = []
  const passed: Buffer[] = []
  const r = new FrameReader('caller-audio', p => audio.push(Buffer.from(p)), b => passed.push(Buffer.from(b)))
  let at = 0
  for (const size of cut(stream.length)) { r.push(stream.subarray(at, at + size)); at += size }
  if (at < stream.length) r.push(stream.subarray(at))
  return { audio, passed: Buffer.concat(passed) }
}

const pcm = [randomBytes(640), randomBytes(320), randomBytes(960), Buffer.alloc(0), randomBytes(640)]
const others = [
  frame(0x1, Buffer.from('{"event":"websocket:connected","content-type":"audio/l16;rate=16000"}')),
  frame(0x9, Buffer.from('hi')), // ping
  frame(0x2, randomBytes(300), { fin: false }), frame(0x0, randomBytes(200)), // a fragmented binary message
  frame(0x2, randomBytes(100), { masked: false }), // illegal from a client: ws must see it
  frame(0x2, randomBytes(100), { rsv: 0x40 }),
  frame(0x2, randomBytes(20000)) // above the direct path's size
]
const stream = Buffer.concat([frame(0x2, pcm[0]!), others[0]!, frame(0x2, pcm[1]!), others[1]!, others[2]!, others[3]!, frame(0x2, pcm[2]!), others[4]!, others[5]!, others[6]!, frame(0x2, pcm[3]!), frame(0x2, pcm[4]!)])

test('audio frames come out unmasked, everything else goes on to ws byte for byte, however the bytes are cut', () => {
  const cuts: Array<[string, (n: number) => number[]]> = [
    ['whole', n => [n]],
    ['one byte at a time', n => Array.from({ length: n }, () => 1)],
    ['7 bytes', n => Array.from({ length: Math.ceil(n / 7) }, () => 7)],
    ['random', n => { const out: number[] = []; let left = n; while (left > 0) { const k = 1 + Math.floor(Math.random() * 1500); out.push(k); left -= k } return out }]
  ]
  for (const [name, cut] of cuts) {
    const { audio, passed } = run(stream, cut)
    assert.deepEqual(audio.map(a => a.toString('hex')), pcm.map(p => p.toString('hex')), name)
    assert.ok(passed.equals(Buffer.concat(others)), `${name}: the other frames reach ws unchanged`)
  }
})

test('after a close frame nothing more is taken as audio', () => {
  const close = frame(0x8, Buffer.from([0x03, 0xe8]))
  const after = frame(0x2, randomBytes(640))
  const { audio, passed } = run(Buffer.concat([frame(0x2, pcm[0]!), close, after]), n => [n])
  assert.equal(audio.length, 1)
  assert.ok(passed.equals(Buffer.concat([close, after])))
})

test('a frame inside a fragmented message goes to ws, not to the caller audio', () => {
  const start = frame(0x1, Buffer.from('{"event":'), { fin: false })
  const ping = frame(0x9, Buffer.alloc(0))
  const bin = frame(0x2, randomBytes(64)) // illegal mid-message: ws must be the one to see (and refuse) it
  const end = frame(0x0, Buffer.from('"x"}'))
  const { audio, passed } = run(Buffer.concat([start, ping, bin, end]), n => [n])
  assert.equal(audio.length, 0)
  assert.ok(passed.equals(Buffer.concat([start, ping, bin, end])))
})

test('on a real ws server socket: audio comes direct, text and pings and the close handshake still go through ws', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  await once(wss, 'listening')
  const port = (wss.address() as { port: number }).port
  const audio: Buffer[] = []
  const texts: string[] = []
  const binaryViaWs: number[] = []
  const closed = new Promise<number>((resolve) => {
    wss.on('connection', (ws) => {
      assert.equal(readFramesDirectly(ws, 'caller-audio', p => audio.push(Buffer.from(p))), true, 'took the direct path')
      ws.on('message', (data: Buffer, isBinary: boolean) => { if (isBinary) binaryViaWs.push(data.length); else texts.push(data.toString()) })
      ws.on('close', (code: number) => resolve(code))
    })
  })
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  await once(client, 'open')
  const frames = [randomBytes(640), randomBytes(640), randomBytes(960)]
  client.send('{"event":"websocket:connected"}')
  for (const f of frames) client.send(f)
  client.ping()
  await once(client, 'pong')
  client.send(randomBytes(20000)) // too big for the direct path: ws delivers it
  client.send('{"event":"websocket:dtmf","digit":"5"}')
  await new Promise(resolve => setTimeout(resolve, 50))
  client.close(1000)
  assert.equal(await closed, 1000)
  wss.close()
  assert.deepEqual(audio.map(a => a.toString('hex')), frames.map(f => f.toString('hex')))
  assert.deepEqual(texts, ['{"event":"websocket:connected"}', '{"event":"websocket:dtmf","digit":"5"}'])
  assert.deepEqual(binaryViaWs, [20000])
})

/** A server frame (unmasked), as the Realtime API sends its events. */
function serverFrame (opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8
  const head = Buffer.alloc(2 + ext)
  head[0] = (fin ? 0x80 : 0) | opcode
  head[1] = ext === 0 ? len : ext === 2 ? 126 : 127
  if (ext === 2) head.writeUInt16BE(len, 2)
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2)
  return Buffer.concat([head, payload])
}

test('model events: text frames come out whole, in place or gathered across reads; the rest goes to ws', () => {
  const events = [
    JSON.stringify({ type: 'response.output_audio.delta', delta: randomBytes(9600).toString('base64') }),
    JSON.stringify({ type: 'session.updated' }),
    JSON.stringify({ type: 'response.output_audio.delta', delta: randomBytes(96000).toString('base64') }),
    ''
  ]
  const ping = serverFrame(0x9, Buffer.from('p'))
  const binary = serverFrame(0x2, randomBytes(50))
  const fragment = Buffer.concat([serverFrame(0x1, Buffer.from('{"type":'), false), serverFrame(0x0, Buffer.from('"x"}'))])
  const stream = Buffer.concat([serverFrame(0x1, Buffer.from(events[0]!)), ping, serverFrame(0x1, Buffer.from(events[1]!)), binary, fragment, serverFrame(0x1, Buffer.from(events[2]!)), serverFrame(0x1, Buffer.from(events[3]!))])
  for (const size of [stream.length, 1, 1000, 65536]) {
    const got: string[] = []
    const passed: Buffer[] = []
    const r = new FrameReader('model-events', p => got.push(p.toString()), b => passed.push(Buffer.from(b)))
    for (let at = 0; at < stream.length; at += size) r.push(stream.subarray(at, at + size))
    assert.deepEqual(got, events, `reads of ${size}`)
    assert.ok(Buffer.concat(passed).equals(Buffer.concat([ping, binary, fragment])), `reads of ${size}: the others reach ws unchanged`)
  }
})

test('on a real ws client socket: events come direct, binary and the close handshake still go through ws', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  await once(wss, 'listening')
  const port = (wss.address() as { port: number }).port
  const big = JSON.stringify({ type: 'response.output_audio.delta', delta: randomBytes(300000).toString('base64') })
  wss.on('connection', (server) => {
    server.send('{"type":"session.created"}')
    server.send(big)
    server.send(randomBytes(10))
    server.ping()
    server.send('{"type":"response.done"}')
    setTimeout(() => server.close(4000, 'bye'), 50)
  })
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  const direct: string[] = []
  const viaWs: number[] = []
  client.on('message', (data: Buffer, isBinary: boolean) => viaWs.push(isBinary ? data.length : -1))
  // In the open handler itself, as the bridge does: the server's first events may share the upgrade's read.
  let took = false
  client.on('open', () => { took = readFramesDirectly(client, 'model-events', p => direct.push(p.toString())) })
  const [code] = await once(client, 'close') as [number]
  assert.equal(took, true, 'took the direct path')
  wss.close()
  assert.equal(code, 4000)
  assert.deepEqual(direct, ['{"type":"session.created"}', big, '{"type":"response.done"}'])
  assert.deepEqual(viaWs, [10], 'only the binary message went through ws')
})
