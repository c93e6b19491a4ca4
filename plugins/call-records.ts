import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { CallSession, CallStats } from '../lib/call/session.js'
import { registerSecrets } from '../lib/log/logger.js'
import { webhookKey } from '../lib/security/hmac.js'
import { CallRecorder, buildCallRecord, isKeypadDigit, type CallRecord, type Prices } from '../lib/records/record.js'
import { RecordSender } from '../lib/records/sender.js'
import { pricesFor } from '../lib/records/prices.js'

declare module 'fastify' {
  interface FastifyInstance {
    callRecords: {
      /** Background delivery to CALL_RECORD_WEBHOOK_URL; null when it is not set. */
      sender: RecordSender | null
      prices: Prices
      /**
       * Steps run after a call's record is built and before it goes to the webhook,
       * in order (e.g. the summary, which adds `record.summary`). Each may change the record.
       */
      afterCall: Array<(record: CallRecord, session: CallSession) => Promise<void>>
    }
  }
}

/**
 * Transcripts and call records. Each caller and assistant turn is logged with
 * the call id as it is transcribed (LOG_TRANSCRIPTS); when a call ends its
 * record (ids, masked numbers, outcome, transcript, barge-ins, token usage and
 * estimated cost) goes to the log and, in the background, to
 * CALL_RECORD_WEBHOOK_URL.
 */
async function callRecordsPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  registerSecrets([cfg.CALL_RECORD_WEBHOOK_SECRET])
  // Per model (lib/records/prices.ts), each overridden by its PRICE_* setting.
  const { tokens: prices, transcription } = pricesFor(cfg)
  let sender: RecordSender | null = null
  if (cfg.CALL_RECORD_WEBHOOK_URL !== '') {
    if (cfg.CALL_RECORD_WEBHOOK_SECRET === '') {
      fastify.log.warn('CALL_RECORD_WEBHOOK_SECRET is not set: call records are signed with a derived key your webhook cannot check — set it, and give the webhook the same value')
    }
    sender = new RecordSender({
      url: cfg.CALL_RECORD_WEBHOOK_URL,
      key: webhookKey(cfg.CALL_RECORD_WEBHOOK_SECRET, cfg.MEDIA_TOKEN_SECRET, cfg.OPENAI_API_KEY, 'call-record'),
      retries: cfg.CALL_RECORD_WEBHOOK_RETRIES,
      timeoutMs: cfg.CALL_RECORD_WEBHOOK_TIMEOUT_MS,
      log: fastify.log.child({ component: 'call-records' })
    })
  }
  const afterCall: Array<(record: CallRecord, session: CallSession) => Promise<void>> = []
  const finishing = new Set<Promise<void>>()
  fastify.decorate('callRecords', { sender, prices, afterCall })

  /** The after-call steps (a failing one is logged and skipped), then the webhook. */
  async function finish (record: CallRecord, session: CallSession, log: typeof fastify.log): Promise<void> {
    for (const step of afterCall) {
      try {
        await step(record, session)
      } catch (err) {
        log.error({ err }, 'after-call step failed')
      }
    }
    sender?.send(record.callId, record)
  }

  fastify.bridge.onSession.add((session: CallSession) => {
    const log = fastify.log.child({ callId: session.id })
    const recorder = new CallRecorder()
    session.on('turn', ({ role, itemId }) => { recorder.placed(itemId, role) })
    session.on('transcript', ({ role, itemId, text }) => {
      const turn = recorder.heard(itemId, role, text)
      if (turn !== null && cfg.LOG_TRANSCRIPTS) log.info({ role: turn.role, text: turn.text, atMs: turn.atMs }, 'transcript')
    })
    session.on('dtmf', (digit: string) => { if (isKeypadDigit(digit)) recorder.dtmfCount++ })
    session.on('barge-in', (cut: { itemId?: string } | null) => {
      if (typeof cut?.itemId === 'string') recorder.interrupted(cut.itemId)
    })
    session.once('end', (stats: CallStats) => {
      try {
        const notes = session.notes
        recorder.cachedAudio = stats.usage.inputCachedAudioTokens
        recorder.cachedText = stats.usage.inputCachedTextTokens
        const record = buildCallRecord({ stats, call: session.call, recorder, outcome: notes.outcome, outcomeDetail: notes.outcomeDetail, tools: notes.tools, transfers: notes.transfers, prices, transcription })
        const logged = cfg.LOG_TRANSCRIPTS ? record : { ...record, transcript: undefined }
        log.info({ record: logged }, 'call record')
        const done = finish(record, session, log).finally(() => finishing.delete(done))
        finishing.add(done)
      } catch (err) {
        log.error({ err }, 'could not build the call record')
      }
    })
  })

  fastify.addHook('onClose', async () => {
    // Calls still up get their records before the sender stops (ending them is idempotent).
    for (const s of fastify.bridge.sessions.values()) s.end('shutdown')
    // Their summaries (bounded by SUMMARY_TIMEOUT_MS) come before the records are sent.
    await Promise.allSettled([...finishing])
    await sender?.close()
  })
}

export default fp(callRecordsPlugin, { name: 'call-records', dependencies: ['config', 'bridge'] })
