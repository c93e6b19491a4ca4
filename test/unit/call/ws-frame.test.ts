import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { EventEmitter } from 'node:events'
import * as wsModule from 'ws'
import { headerBytes, writeHeader, MAX_HEADER_BYTES, OP_BINARY, OP_TEXT } from '../../../lib/call/ws-frame.js'

// ws's frame parser (exported, though not in its types).
const { Receiver } = wsModule as unknown as { Receiver: new (o: { isServer: boolean, maxPayload: number }) => EventEmitter & { write: (b: Buffer) => void } }

/** Frames one payload as the bridge does (header written in front of it) and reads it back with ws's own parser. */
function roundTrip (payload: Buffer, opcode: number, masked: boolean): { data: Buffer, isBinary: boolean } {
  const buf = Buffer.alloc(MAX_HEADER_BYTES + payload.length)
  payload.copy(buf, MAX_HEADER_BYTES)
  const start = writeHeader(buf, MAX_HEADER_BYTES, opcode, payload.length, masked)
  assert.equal(MAX_HEADER_BYTES - start, headerBytes(payload.length, masked))
  // A server reads masked frames; a client reads unmasked ones.
  const receiver = new Receiver({ isServer: masked, maxPayload: 0 })
  let got: { data: Buffer, isBinary: boolean } | null = null
  receiver.on('message', (data: Buffer, isBinary: boolean) => { got = { data, isBinary } })
  receiver.on('error', (err: Error) => { throw err })
  receiver.write(buf.subarray(start))
  assert.ok(got !== null, `no message parsed for ${payload.length} bytes`)
  return got
}

test('frame headers parse as ws parses them, at every length form', () => {
  for (const len of [0, 1, 125, 126, 320, 640, 960, 1337, 65535, 65536, 100000]) {
    const payload = Buffer.alloc(len, 0x41)
    for (const masked of [false, true]) {
      const bin = roundTrip(payload, OP_BINARY, masked)
      assert.equal(bin.isBinary, true)
      assert.ok(bin.data.equals(payload), `binary ${len} masked=${masked}`)
      const text = roundTrip(payload, OP_TEXT, masked)
      assert.equal(text.isBinary, false)
      assert.ok(Buffer.from(text.data).equals(payload), `text ${len} masked=${masked}`)
    }
  }
})

test('header sizes: 2, 4 or 10 bytes, plus 4 for the mask key', () => {
  assert.equal(headerBytes(125, false), 2)
  assert.equal(headerBytes(126, false), 4)
  assert.equal(headerBytes(65535, false), 4)
  assert.equal(headerBytes(65536, false), 10)
  assert.equal(headerBytes(126, true), 8)
  assert.equal(headerBytes(65536, true), MAX_HEADER_BYTES)
})
