import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '../lib/records/store/db.js'
import { readAudio, statAudio } from '../lib/records/store/audio-store.js'
import { deleteCall } from '../lib/records/store/delete-call.js'
import { parseRange } from '../lib/recording/range.js'

const MAX_ID_CHARS = 200

/** A call id in a log line: enough to find it again, not the whole of it. */
function maskId (id: string): string {
  return id.length <= 8 ? '…' : `${id.slice(0, 4)}…${id.slice(-4)}`
}

/**
 * A call's recording (`GET /api/calls/:id/recording`, with byte ranges so a
 * player can seek) and the deletion of a call with everything kept about it
 * (`DELETE /api/calls/:id`), behind the console's gate like the rest of
 * /api/calls: Bearer CONSOLE_KEY, the console's cookie, or this machine; a
 * DELETE from another site is refused by the gate.
 */
export default async function callDataRoutes (fastify: FastifyInstance): Promise<void> {
  const gate = fastify.consoleGate
  const opts = { onRequest: [gate.limit, gate.guard] }

  function notFound (reply: FastifyReply, message: string): FastifyReply {
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message })
  }

  /** The open store and the checked id, or the answer already sent. */
  async function prepare (request: FastifyRequest, reply: FastifyReply): Promise<{ db: Db, id: string } | null> {
    const { id } = request.params as { id: string }
    const unknown = Object.keys(request.query as Record<string, unknown>)[0]
    if (id.length > MAX_ID_CHARS) await reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `path parameter "id": at most ${MAX_ID_CHARS} characters` })
    else if (unknown !== undefined) await reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `query parameter "${unknown}": unknown (this route takes none)` })
    else if (!fastify.callStore.enabled) await notFound(reply, 'this server keeps no call history: set DATA_DIR (embedded store) or DATABASE_URL (PostgreSQL)')
    else {
      const db = fastify.callStore.db()
      if (db !== null) return { db, id }
      await reply.code(503).header('retry-after', '5').send({ statusCode: 503, error: 'Service Unavailable', message: 'the call store is not open (yet): see the server log' })
    }
    return null
  }

  fastify.get('/api/calls/:id/recording', opts, async (request, reply) => {
    const p = await prepare(request, reply)
    if (p === null) return reply
    const audio = await statAudio(p.db, p.id, 'recording')
    if (audio === null) return await notFound(reply, `no recording of call ${p.id} (RECORDING=on records calls from then on)`)
    reply.header('accept-ranges', 'bytes').header('cache-control', 'private, no-store')
      .header('content-disposition', `inline; filename="call-${p.id.replace(/[^A-Za-z0-9_-]/g, '_')}.mp3"`)
    const range = parseRange(request.headers.range, audio.size)
    if (range === 'unsatisfiable') {
      return await reply.code(416).header('content-range', `bytes */${audio.size}`).send({ statusCode: 416, error: 'Range Not Satisfiable', message: `the recording has ${audio.size} bytes` })
    }
    const [start, end] = range ?? [0, audio.size - 1]
    if (range !== null) reply.code(206).header('content-range', `bytes ${start}-${end}/${audio.size}`)
    // Chunk by chunk from the store: a seek reads only the chunks it asks for.
    return await reply.type(audio.mime).header('content-length', end - start + 1).send(Readable.from(readAudio(p.db, p.id, 'recording', start, end)))
  })

  fastify.delete('/api/calls/:id', opts, async (request, reply) => {
    const p = await prepare(request, reply)
    if (p === null) return reply
    const live = fastify.bridge.sessions.get(p.id)
    if (live !== undefined && !live.ended) {
      return await reply.code(409).send({ statusCode: 409, error: 'Conflict', message: `call ${p.id} is in progress: hang it up first, then delete it` })
    }
    // What the writer still holds for this call lands first, so that nothing of it is written after the delete.
    await fastify.callStore.writer.flush()
    fastify.recording.recordings?.forget(p.id)
    const deleted = await deleteCall(p.db, p.id)
    if (!deleted) return await notFound(reply, `no call ${p.id} in the store`)
    // Without content: no words, no numbers, not even the whole id.
    request.log.info({ call: maskId(p.id) }, 'call deleted on request (transcript, audio, numbers)')
    return await reply.code(204).send()
  })
}
