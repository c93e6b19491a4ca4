import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Db } from '../lib/records/store/db.js'
import { getCall, listCalls, overview, parseFilter, toCsv, MAX_EXPORT_ROWS } from '../lib/records/store/queries.js'
import { audioKinds } from '../lib/records/store/audio-store.js'

const MAX_ID_CHARS = 200
const MAX_OVERVIEW_DAYS = 365

/**
 * The call history as JSON (and CSV) for the console and for the owner's own
 * tools: `Authorization: Bearer <CONSOLE_KEY>`, the console's cookie, or a
 * browser on this machine. Bad query parameters get 400 naming the parameter.
 */
export default async function apiRoutes (fastify: FastifyInstance): Promise<void> {
  const gate = fastify.consoleGate
  const opts = { onRequest: [gate.limit, gate.guard] }

  async function store (reply: FastifyReply): Promise<Db | null> {
    const db = fastify.callStore.db()
    if (db !== null) return db
    if (!fastify.callStore.enabled) {
      await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'this server keeps no call history: set DATA_DIR (embedded store) or DATABASE_URL (PostgreSQL)' })
    } else {
      await reply.code(503).header('retry-after', '5').send({ statusCode: 503, error: 'Service Unavailable', message: 'the call store is not open (yet): see the server log' })
    }
    return null
  }

  async function badRequest (reply: FastifyReply, message: string): Promise<FastifyReply> {
    return await reply.code(400).send({ statusCode: 400, error: 'Bad Request', message })
  }

  fastify.get('/api/calls', opts, async (request, reply) => {
    const f = parseFilter(request.query)
    if (!f.ok) return await badRequest(reply, f.message)
    const db = await store(reply)
    if (db === null) return reply
    const page = await listCalls(db, f.value)
    // Which calls have a recording (or a voicemail): the list shows a mark, one query for the page.
    const kinds = await audioKinds(db, page.calls.map(c => c.id))
    return { ...page, calls: page.calls.map(c => ({ ...c, audio: kinds.get(c.id) ?? [] })) }
  })

  for (const format of ['csv', 'json'] as const) {
    fastify.get(`/api/calls.${format}`, opts, async (request, reply) => {
      const f = parseFilter(request.query, { maxLimit: MAX_EXPORT_ROWS })
      if (!f.ok) return await badRequest(reply, f.message)
      const db = await store(reply)
      if (db === null) return reply
      const given = (request.query as { limit?: string }).limit
      const page = await listCalls(db, { ...f.value, limit: given === undefined || given === '' ? MAX_EXPORT_ROWS : f.value.limit })
      const name = `calls-${new Date().toISOString().slice(0, 10)}.${format}`
      reply.header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store')
      if (format === 'json') return await reply.type('application/json; charset=utf-8').send(JSON.stringify(page.calls))
      // The byte-order mark makes spreadsheet programs read the Japanese as UTF-8.
      return await reply.type('text/csv; charset=utf-8').send('\uFEFF' + toCsv(page.calls))
    })
  }

  fastify.get('/api/calls/:id', opts, async (request, reply) => {
    const { id } = request.params as { id: string }
    if (id.length > MAX_ID_CHARS) return await badRequest(reply, `path parameter "id": at most ${MAX_ID_CHARS} characters`)
    const query = request.query as Record<string, unknown>
    const unknown = Object.keys(query)[0]
    if (unknown !== undefined) return await badRequest(reply, `query parameter "${unknown}": unknown (this route takes none)`)
    const db = await store(reply)
    if (db === null) return reply
    const call = await getCall(db, id)
    if (call === null) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no call ${id} in the store` })
    return { ...call, notifications: await fastify.notifier.statusFor(id), audio: (await audioKinds(db, [id])).get(id) ?? [] }
  })

  fastify.get('/api/overview', opts, async (request, reply) => {
    const q = request.query as Record<string, unknown>
    let days = 30
    let offset = 0
    for (const [name, raw] of Object.entries(q)) {
      if (name === 'days') {
        if (typeof raw !== 'string' || !/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_OVERVIEW_DAYS) return await badRequest(reply, `query parameter "days": expected a whole number from 1 to ${MAX_OVERVIEW_DAYS}`)
        days = Number(raw)
      } else if (name === 'tzOffset') {
        if (typeof raw !== 'string' || !/^-?\d{1,3}$/.test(raw) || Math.abs(Number(raw)) > 840) return await badRequest(reply, 'query parameter "tzOffset": expected minutes east of UTC, from -840 to 840 (540 = Japan)')
        offset = Number(raw)
      } else {
        return await badRequest(reply, `query parameter "${name}": unknown (known: days, tzOffset)`)
      }
    }
    const db = await store(reply)
    if (db === null) return reply
    const o = await overview(db, days, offset)
    // The owner must see a channel that stopped working, not only the calls' detail pages.
    const failed = await fastify.notifier.failedSince(new Date(Date.now() - days * 86_400_000).toISOString(), 10)
    return { ...o, notificationsFailed: failed }
  })

  fastify.get('/api/store', opts, async () => {
    const s = fastify.callStore
    const db = s.db()
    return { enabled: s.enabled, open: db !== null, kind: db?.kind ?? null, queued: s.writer.queued, ...s.writer.counters, live: s.live.calls.size }
  })
}
