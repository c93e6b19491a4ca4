import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { consoleLink } from '../lib/notify/message.js'
import { voicemailText, type VoicemailStored } from '../lib/voicemail/message.js'
import { budgetReachedText, type BudgetReached } from '../lib/budget/message.js'

/**
 * What the owner is told besides a call's summary: a message a caller left when
 * the AI could not answer, and the day's budget running out. The voicemail and
 * budget rooms only say that it happened; the notifier sends it once per channel.
 */
async function ownerAlertsPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const log = fastify.log.child({ component: 'owner-alerts' })

  fastify.voicemail.on('stored', (v: VoicemailStored) => {
    const text = voicemailText(v, cfg.TIMEZONE, consoleLink(cfg.publicHost, v.callId) ?? '')
    fastify.notifier.send({ callId: v.callId, kind: 'voicemail', subject: v.from === '' ? '【留守番電話】メッセージがあります' : '【留守番電話】{number} からメッセージがあります', text, number: v.from === '' ? undefined : v.from })
      .catch((err: unknown) => log.error({ err, callId: v.callId }, 'could not queue the voicemail notification'))
  })

  fastify.budget.on('reached', (e: BudgetReached) => {
    // One message a day: the day is its identity in the outbox, as a call id is for a call.
    fastify.notifier.send({ callId: `budget-${e.day}`, kind: 'budget', subject: '【AI電話】本日の利用上限に達しました', text: budgetReachedText(e) })
      .catch((err: unknown) => log.error({ err, day: e.day }, 'could not queue the budget notification'))
  })
}

export default fp(ownerAlertsPlugin, { name: 'owner-alerts', dependencies: ['config', 'notify', 'voicemail', 'budget'] })
