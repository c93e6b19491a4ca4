import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Voice } from '@vonage/voice'
import type { CallSession } from '../lib/call/session.js'
import type { CallContext } from '../lib/realtime/session-update.js'
import { maskNumber } from '../lib/log/logger.js'
import { classifyVonageError } from '../lib/vonage/errors.js'
import { closedInstructions } from '../lib/hours/business-hours.js'
import { briefingText, callerJoinNcco, staffNcco, INPUT_TIMEOUT_SECONDS } from '../lib/transfer/ncco.js'
import { WarmTransfer, type Decision } from '../lib/transfer/warm-transfer.js'
import type { TransferResult } from '../lib/tools/types.js'

export interface Transfers {
  /** Transfers in progress, by the token in their webhook URLs. */
  byToken: Map<string, WarmTransfer>
  /**
   * Rings `number` for the caller of `session` and resolves once the staff
   * has decided (or could not be reached). On acceptance the caller's leg is
   * moved into the staff's conversation (the tool then hands the call over).
   */
  ring: (session: CallSession, number: string, o: { briefing: string, reason: string }, log: FastifyBaseLogger) => Promise<TransferResult>
  /** Hangs up a staff leg (a machine answered, the caller left, the ring outlived its time). */
  hangUpStaff: (t: WarmTransfer, log: FastifyBaseLogger) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    transfers: Transfers
  }
}

/** While the staff phone rings the caller hears a word from the assistant this often, never long silence. */
const HOLD_PROMPT_MS = 10_000
export const HOLD_INSTRUCTIONS = 'いま担当者を呼び出しています。「ただいま担当者を呼び出しております。もう少々お待ちください。」とだけ言ってください。 / ' +
  'The staff phone is ringing: say only "I am calling the staff member now; one more moment, please."'
/** Past ringing, the briefing and the key press, a transfer no webhook has settled is given up. */
const SETTLE_MARGIN_SECONDS = 45

const vonageNumber = (n: string): string => n.replace(/[^\d]/g, '')

async function transferPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const voice: Voice | null = fastify.vonage.voice
  const byToken = new Map<string, WarmTransfer>()

  /** The number the staff sees: ours (the number dialled, or our caller id), else VONAGE_OUTBOUND_FROM. */
  function callerIdFor (call: CallContext): string {
    const ours = call.direction === 'inbound' ? call.to : call.direction === 'outbound' ? call.from : undefined
    return ours !== undefined && ours !== '' ? ours : cfg.VONAGE_OUTBOUND_FROM
  }

  function callerLast4 (call: CallContext): string {
    const theirs = call.direction === 'outbound' ? call.to : call.from
    const digits = (theirs ?? '').replace(/\D/g, '')
    return digits.length >= 4 ? digits.slice(-4) : ''
  }

  async function hangUpStaff (t: WarmTransfer, log: FastifyBaseLogger): Promise<void> {
    if (voice === null || t.staffUuid === null) return
    try {
      await voice.hangupCall(t.staffUuid)
    } catch (err) {
      const f = await classifyVonageError(err)
      log.warn({ failure: f ?? { kind: 'unexpected' }, ...(f === null ? { err } : {}) }, 'transfer: could not hang up the staff leg')
    }
  }

  function failure (reason: string): TransferResult {
    return { ok: false, outcome: 'failed', reason }
  }

  async function ring (session: CallSession, number: string, o: { briefing: string, reason: string }, log: FastifyBaseLogger): Promise<TransferResult> {
    if (session.call.direction === 'softphone') return failure('this is a browser test call, which cannot be transferred')
    if (voice === null) return failure('transfers are not configured')
    if (cfg.publicHost === '') return failure('SERVER_URL is not set, so the staff phone\'s answers could not reach this server')
    if (session.ended) return failure('the call has already ended')
    if ((session.notes.transfers ?? []).some(x => x.state === 'ringing' || x.state === 'answered')) return { ok: false, outcome: 'in-progress', reason: 'a staff phone is already ringing for this call' }
    // Checked again here: the call may have begun in hours and run past closing.
    const hours = fastify.hours
    const status = hours.status()
    if (!status.open) {
      log.info({ why: status.why }, 'transfer refused: outside business hours')
      return { ok: false, outcome: 'closed', reason: closedInstructions('ただいま営業時間外です', hours.words()) }
    }
    const briefing = briefingText(o.briefing, o.reason, callerLast4(session.call))
    const t = new WarmTransfer(session.id, number, maskNumber(number), briefing)
    const notes = session.notes
    notes.transfers = [...(notes.transfers ?? []), t.note]
    byToken.set(t.token, t)
    t.onChange = (note) => { if (!session.ended) session.emit('transfer', note) }
    session.emit('transfer', t.note)
    const base = `https://${cfg.publicHost}/transfer/${t.token}`
    // On Fly, the staff leg's webhooks name this machine, which holds the caller and the transfer.
    const m = fastify.mediaTokens.machineId !== '' ? `?m=${encodeURIComponent(fastify.mediaTokens.machineId)}` : ''
    const from = callerIdFor(session.call)
    const onEnd = (): void => {
      if (t.decide({ state: 'cancelled', detail: 'caller-hung-up' })) {
        log.info('transfer: the caller left while the staff phone rang: hanging it up')
        void hangUpStaff(t, log)
      }
    }
    // Before the record and the store read the notes at the end of the call.
    session.prependOnceListener('end', onEnd)
    const settle = setTimeout(() => {
      if (t.decide({ state: 'no-answer', detail: 'no-webhook' })) {
        log.warn('transfer: no answer from the staff leg in time: giving up')
        void hangUpStaff(t, log)
      }
    }, (cfg.TRANSFER_RING_SECONDS + INPUT_TIMEOUT_SECONDS + SETTLE_MARGIN_SECONDS) * 1000)
    settle.unref()
    const hold = setInterval(() => {
      session.whenPlayed().then(() => {
        if (t.decision === null && !session.ended && session.gate.requestAside(HOLD_INSTRUCTIONS)) log.info('transfer: still ringing, a word to the caller')
      }, () => {})
    }, HOLD_PROMPT_MS)
    hold.unref()
    try {
      log.info({ destination: maskNumber(number), ringSeconds: cfg.TRANSFER_RING_SECONDS }, 'transfer: ringing the staff phone, the caller stays with the assistant')
      try {
        const call = await voice.createOutboundCall({
          to: [{ type: 'phone', number: vonageNumber(number) }],
          ...(from !== '' ? { from: { type: 'phone', number: vonageNumber(from) } } : {}),
          ncco: staffNcco(briefing, `${base}/input${m}`, cfg.GREETING_LANGUAGE),
          eventUrl: [`${base}/event${m}`],
          eventMethod: 'POST',
          ringingTimer: cfg.TRANSFER_RING_SECONDS,
          // A voicemail that picks up is reported (status machine) and hung up by us, never briefed.
          machineDetection: 'continue'
        } as unknown as Parameters<Voice['createOutboundCall']>[0])
        if (t.staffUuid === null) t.staffUuid = call.uuid
      } catch (err) {
        const f = await classifyVonageError(err)
        log.warn({ destination: maskNumber(number), failure: f ?? { kind: 'unexpected' }, ...(f === null ? { err } : {}) }, 'transfer: the staff phone could not be rung: telling the model')
        const reason = f === null ? 'an unexpected error' : f.kind === 'timeout' ? 'Vonage did not answer in time' : f.kind === 'unreachable' ? 'Vonage could not be reached' : `Vonage refused it, HTTP ${f.status}`
        t.decide({ state: 'failed', detail: f?.kind ?? 'unexpected' })
        return failure(reason)
      }
      const d = await t.decided
      log.info({ state: d.state, detail: d.detail }, 'transfer: the staff decided')
      if (d.state !== 'accepted') return notTaken(d)
      return await handOver(session, t, log)
    } finally {
      clearTimeout(settle)
      clearInterval(hold)
      session.off('end', onEnd)
      byToken.delete(t.token)
    }
  }

  function notTaken (d: Decision): TransferResult {
    if (d.state === 'failed') return failure(d.detail)
    return { ok: false, outcome: d.state === 'declined' ? 'declined' : d.state === 'cancelled' ? 'cancelled' : 'no-answer', reason: d.detail }
  }

  /** The staff is in the room: move the caller there and let the model go. */
  async function handOver (session: CallSession, t: WarmTransfer, log: FastifyBaseLogger): Promise<TransferResult> {
    if (session.ended) {
      await hangUpStaff(t, log)
      return { ok: false, outcome: 'cancelled', reason: 'the caller left' }
    }
    try {
      await voice!.transferCallWithNCCO(session.id, callerJoinNcco(t.room) as unknown as Parameters<Voice['transferCallWithNCCO']>[1])
    } catch (err) {
      const f = await classifyVonageError(err)
      log.warn({ failure: f ?? { kind: 'unexpected' }, ...(f === null ? { err } : {}) }, 'transfer: the caller could not be moved to the staff: hanging up the staff leg')
      t.note.state = 'failed'
      t.note.detail = 'caller-not-moved'
      await hangUpStaff(t, log)
      return failure(f === null ? 'an unexpected error' : f.kind === 'rejected' ? `Vonage refused it, HTTP ${f.status}` : 'Vonage could not be reached')
    }
    const notes = session.notes
    notes.outcome = 'transferred'
    notes.outcomeDetail = { destination: t.note.to, takenBy: t.note.to, transfer: 'warm' }
    // The tool closes the model's session once its use is recorded (ToolContext.handOver).
    log.info({ destination: t.note.to }, 'transfer: the staff took the call: the caller is put through')
    return { ok: true }
  }

  fastify.decorate('transfers', { byToken, ring, hangUpStaff })
}

export default fp(transferPlugin, { name: 'transfer', dependencies: ['config', 'vonage', 'bridge', 'hours', 'media-tokens'] })
