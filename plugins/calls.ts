import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { CallRegistry } from '../lib/call/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    calls: CallRegistry
  }
}

async function callsPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('calls', new CallRegistry(fastify.config.MAX_CONCURRENT_CALLS))
}

export default fp(callsPlugin, { name: 'calls', dependencies: ['config'] })
