import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { registerSecrets } from '../lib/log/logger.js'
import { configuredChannels, notifySecrets } from '../lib/notify/channels/index.js'
import { Notifier } from '../lib/notify/notifier.js'
import { DbOutbox, MemoryOutbox, type Outbox } from '../lib/notify/outbox.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Tells the owner on every configured channel (LINE, Slack, email), once per
     * (callId, kind, channel): `notifier.send({ callId, kind: 'call' | 'voicemail' | 'budget', text, subject?, number? })`.
     */
    notifier: Notifier
  }
}

/**
 * The owner's notifications. Messages wait in an outbox in the call store
 * (memory when the store is off), so a restart resumes what was pending.
 */
async function notifyPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  registerSecrets(notifySecrets(cfg))
  const log = fastify.log.child({ component: 'notify' })
  let outbox: Promise<Outbox> | null = null
  const store = fastify.callStore
  const open = async (): Promise<Outbox> => {
    const db = store.enabled ? await store.opened : null
    if (db !== null) {
      const o = new DbOutbox(db)
      // Kept as long as the calls they are about.
      await o.purge(new Date(Date.now() - cfg.CALL_RETENTION_DAYS * 86_400_000).toISOString()).catch(() => {})
      return o
    }
    if (store.enabled) log.warn('the call store is not open: notifications are kept in memory only (a restart loses unsent ones)')
    return new MemoryOutbox()
  }
  const notifier = new Notifier({
    channels: configuredChannels(cfg),
    outbox: async () => await (outbox ??= open()),
    log,
    maxAttempts: cfg.NOTIFY_MAX_ATTEMPTS,
    baseDelayMs: cfg.NOTIFY_RETRY_BASE_MS,
    fullNumbers: cfg.NOTIFY_FULL_NUMBERS
  })
  fastify.decorate('notifier', notifier)
  if (notifier.enabled) {
    log.info({ channels: notifier.channels }, 'owner notifications on')
    fastify.addHook('onReady', async () => {
      // In the background: a store that takes seconds to open must not hold up the start.
      notifier.resume().then(n => { if (n > 0) log.info({ resumed: n }, 'notifications resumed from the outbox') },
        (err: unknown) => log.error({ err }, 'could not resume notifications'))
    })
  }
  fastify.addHook('onClose', async () => { await notifier.close() })
}

export default fp(notifyPlugin, { name: 'notify', dependencies: ['config', 'call-store'] })
