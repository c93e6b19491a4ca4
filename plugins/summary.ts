import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { CallSession } from '../lib/call/session.js'
import type { CallRecord } from '../lib/records/record.js'
import { maskNumber } from '../lib/log/logger.js'
import { requestSummary, SummaryError, type SummaryInput } from '../lib/summary/client.js'
import type { AfterCallSummary } from '../lib/summary/schema.js'
import { saveSummary } from '../lib/summary/store.js'
import { callMessage, consoleLink, transferNotReached } from '../lib/notify/message.js'

const ENDED_HOW: Record<string, string> = {
  completed: '会話のあと相手が切った',
  'ended-by-ai': 'AI が通話を終えた',
  transferred: '担当者に転送した',
  'upstream-failure': 'AI の接続が切れた',
  'no-media': '音声が届かなかった',
  'media-failure': '音声が途切れた',
  shutdown: 'サーバー停止で切れた'
}

/** How the call ended, for the summary model: a person asked for and not reached is the owner's cue to call back. */
function endedHow (record: CallRecord): string {
  const how = ENDED_HOW[record.outcome] ?? record.outcome
  const notReached = transferNotReached(record.transfers)
  return notReached === null ? how : `${how}。担当者への転送を試みたが、つながらなかった（${notReached}）`
}

/**
 * After each call: the Japanese summary (SUMMARY_MODEL, Responses API), kept
 * with the call and added to its record before the webhook, then the owner's
 * notification (plugins/notify.ts) with the caller's number from the live call.
 */
async function summaryPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const log = fastify.log.child({ component: 'summary' })
  const inFlight = new Set<Promise<unknown>>()

  async function summarize (record: CallRecord): Promise<AfterCallSummary | null> {
    const turns = record.transcript ?? []
    if (cfg.SUMMARY_MODEL === '' || !turns.some(t => t.role === 'caller')) return null
    const input: SummaryInput = { turns, direction: record.direction, startedAt: record.startedAt, durationMs: record.durationMs, endedHow: endedHow(record) }
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), cfg.SUMMARY_TIMEOUT_MS)
    const started = performance.now()
    try {
      const s = await requestSummary(cfg, cfg.SUMMARY_MODEL, input, controller.signal)
      // The record and the store keep the number as they keep the call's (masked unless STORE_FULL_NUMBERS).
      const summary: AfterCallSummary = { ...s, callerNumber: record.direction === 'outbound' ? record.to : record.from }
      log.info({ callId: record.callId, ms: Math.round(performance.now() - started), usage: s.usage, costUsd: s.costUsd, ...(cfg.LOG_TRANSCRIPTS ? { summary } : {}) }, 'call summary')
      return summary
    } catch (err) {
      // The message only: a SummaryError never holds the caller's words, other errors might.
      const error = err instanceof SummaryError ? err.message : controller.signal.aborted ? `timeout after ${cfg.SUMMARY_TIMEOUT_MS} ms` : `network error: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name}`
      log.warn({ callId: record.callId, error, model: cfg.SUMMARY_MODEL }, 'after-call summary failed: the record and the notification go without it')
      return null
    } finally {
      clearTimeout(timer)
    }
  }

  async function store (record: CallRecord, session: CallSession, summary: AfterCallSummary): Promise<void> {
    if (!fastify.callStore.enabled) return
    // The store may still be opening (the embedded one takes seconds after a start).
    const db = await fastify.callStore.opened ?? fastify.callStore.db()
    if (db === null) return
    // The call's row and its end must be written first (they wait in the writer's queue).
    await fastify.callStore.writer.flush()
    const full = record.direction === 'outbound' ? session.call.to : session.call.from
    await saveSummary(db, record.callId, cfg.STORE_FULL_NUMBERS && full !== undefined && full !== '' ? { ...summary, callerNumber: full } : summary)
  }

  async function notify (record: CallRecord, session: CallSession, summary: AfterCallSummary | null): Promise<void> {
    if (!fastify.notifier.enabled || record.direction === 'softphone') return
    const callerWords = (record.transcript ?? []).filter(t => t.role === 'caller')
    if (callerWords.length === 0 && record.durationMs < cfg.NOTIFY_MIN_SECONDS * 1000) return
    const number = (record.direction === 'outbound' ? session.call.to : session.call.from) ?? ''
    const { subject, text } = callMessage({
      callId: record.callId,
      direction: record.direction,
      startedAt: record.startedAt,
      durationMs: record.durationMs,
      summary,
      firstWords: callerWords[0]?.text ?? null,
      link: consoleLink(cfg.publicHost, record.callId),
      timeZone: cfg.TIMEZONE,
      transfers: record.transfers
    })
    await fastify.notifier.send({ callId: record.callId, kind: 'call', subject, text, number: number === '' ? undefined : number })
  }

  fastify.callRecords.afterCall.push(async (record, session) => {
    const work = (async () => {
      const summary = await summarize(record)
      if (summary !== null) {
        record.summary = summary
        await store(record, session, summary).catch((err: unknown) => log.error({ err, callId: record.callId }, 'could not store the summary'))
      }
      await notify(record, session, summary).catch((err: unknown) => log.error({ err, callId: record.callId, from: maskNumber(session.call.from) }, 'could not queue the notification'))
    })()
    inFlight.add(work)
    try { await work } finally { inFlight.delete(work) }
  })

  fastify.addHook('onClose', async () => { await Promise.allSettled([...inFlight]) })
}

export default fp(summaryPlugin, { name: 'summary', dependencies: ['config', 'bridge', 'call-records', 'call-store', 'notify'] })
