import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { backends } from './store-backends.js'
import { migrate } from '../../../lib/records/store/migrations.js'
import { AUDIO_CHUNK_BYTES, audioKinds, deleteAudio, purgeAudioOlderThan, putAudio, readAudio, statAudio } from '../../../lib/records/store/audio-store.js'
import type { Db } from '../../../lib/records/store/db.js'

async function bytesOf (it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const b of it) parts.push(b)
  return Buffer.concat(parts)
}

async function * inPieces (data: Buffer, piece: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece)
}

for (const backend of backends) {
  test(`audio store (${backend.name}): a streamed recording comes back whole and by byte ranges across chunks`, { skip: backend.skip }, async (t) => {
    const { db } = await backend.open(t)
    await migrate(db)
    const audio = randomBytes(AUDIO_CHUNK_BYTES * 2 + 12_345)
    const stored = await putAudio(db, 'call-1', 'recording', 'audio/mpeg', inPieces(audio, 7_000))
    assert.equal(stored.size, audio.length)
    const stat = await statAudio(db, 'call-1', 'recording')
    assert.deepEqual({ mime: stat?.mime, size: stat?.size }, { mime: 'audio/mpeg', size: audio.length })
    assert.ok(Date.parse(stat!.createdAt) > 0)
    assert.ok((await bytesOf(readAudio(db, 'call-1', 'recording'))).equals(audio))
    for (const [start, end] of [[0, 0], [AUDIO_CHUNK_BYTES - 3, AUDIO_CHUNK_BYTES + 3], [100, AUDIO_CHUNK_BYTES * 2 + 100], [audio.length - 10, audio.length - 1]] as const) {
      assert.ok((await bytesOf(readAudio(db, 'call-1', 'recording', start, end))).equals(audio.subarray(start, end + 1)), `bytes ${start}-${end}`)
    }
    assert.equal(await statAudio(db, 'call-1', 'voicemail'), null)
  })

  test(`audio store (${backend.name}): kinds per call, deleting a call's audio leaves no chunk, purge by age`, { skip: backend.skip }, async (t) => {
    const { db } = await backend.open(t)
    await migrate(db)
    await putAudio(db, 'a', 'recording', 'audio/mpeg', randomBytes(AUDIO_CHUNK_BYTES + 1))
    await putAudio(db, 'a', 'voicemail', 'audio/mpeg', randomBytes(1000))
    await putAudio(db, 'b', 'voicemail', 'audio/wav', randomBytes(10))
    const kinds = await audioKinds(db, ['a', 'b', 'c'])
    assert.deepEqual([...(kinds.get('a') ?? [])].sort(), ['recording', 'voicemail'])
    assert.deepEqual(kinds.get('b'), ['voicemail'])
    assert.equal(kinds.has('c'), false)
    assert.equal(await deleteAudio(db, 'a'), 2)
    assert.equal(await chunks(db, 'a'), 0)
    assert.equal(await statAudio(db, 'a', 'recording'), null)
    assert.equal(await purgeAudioOlderThan(db, 'voicemail', 90, new Date(Date.now() + 89 * 86_400_000)), 0)
    assert.equal(await purgeAudioOlderThan(db, 'voicemail', 90, new Date(Date.now() + 91 * 86_400_000)), 1)
    assert.equal(await chunks(db, 'b'), 0)
  })
}

async function chunks (db: Db, callId: string): Promise<number> {
  return Number((await db.query<{ n: number | string }>('SELECT count(*) AS n FROM call_audio_chunks WHERE call_id = $1', [callId]))[0]?.n)
}
