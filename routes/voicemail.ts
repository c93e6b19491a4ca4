import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { readAudio, statAudio } from '../lib/records/store/audio-store.js'
import { parseRange } from '../lib/voicemail/range.js'
import { countVoicemails } from '../lib/voicemail/store.js'
import { localDay } from '../lib/budget/day.js'

const MAX_ID_CHARS = 200

/**
 * The console's voicemail player (GET /api/calls/:id/voicemail, with Range,
 * so a player can seek) and today's spend against the budget. Same gate as
 * /api/calls: the console key, its cookie, or a browser on this machine.
 */
export default async function voicemailRoutes (fastify: FastifyInstance): Promise<void> {
  const gate = fastify.consoleGate
  const opts = { onRequest: [gate.limit, gate.guard] }

  fastify.get('/api/calls/:id/voicemail', opts, async (request, reply) => {
    const { id } = request.params as { id: string }
    if (id.length > MAX_ID_CHARS) return await reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `path parameter "id": at most ${MAX_ID_CHARS} characters` })
    const db = fastify.callStore.db()
    if (db === null) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'this server keeps no call history (or its store is not open yet)' })
    const audio = await statAudio(db, id, 'voicemail')
    if (audio === null) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `call ${id} has no voicemail` })
    const range = parseRange(request.headers.range, audio.size)
    reply.header('accept-ranges', 'bytes').header('cache-control', 'private, no-store').type(audio.mime)
    if (range.kind === 'unsatisfiable') return await reply.code(416).header('content-range', `bytes */${audio.size}`).send()
    if (range.kind === 'all') {
      reply.header('content-length', audio.size)
      return await reply.send(Readable.from(readAudio(db, id, 'voicemail')))
    }
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${audio.size}`).header('content-length', range.end - range.start + 1)
    return await reply.send(Readable.from(readAudio(db, id, 'voicemail', range.start, range.end)))
  })

  fastify.get('/api/budget', opts, async () => {
    const budget = fastify.budget
    const s = await budget.status()
    const db = fastify.callStore.db()
    const voicemailsToday = db === null ? null : await countVoicemails(db, localDay(budget.timeZone).startUtc)
    return { ...s, timeZone: budget.timeZone, voicemailsToday }
  })
}
