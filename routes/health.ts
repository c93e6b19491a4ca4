import type { FastifyInstance } from 'fastify'

/** Liveness and a landing answer; neither touches Vonage or OpenAI. */
export default async function healthRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get('/health', { logLevel: 'warn' }, async () => ({
    status: 'ok',
    calls: fastify.calls.size,
    draining: fastify.calls.draining
  }))

  fastify.get('/', async () => ({
    name: 'vonage-openai-realtime-bridge',
    status: 'ok',
    answerUrl: '/incoming-call',
    eventUrl: '/event'
  }))
}
