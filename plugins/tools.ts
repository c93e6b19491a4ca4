import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Voice } from '@vonage/voice'
import type { CallSession } from '../lib/call/session.js'
import { ConfigError } from '../lib/config/schema.js'
import { registerSecrets } from '../lib/log/logger.js'
import { webhookKey } from '../lib/security/hmac.js'
import { isClosing } from '../lib/call/notes.js'
import { classifyVonageError } from '../lib/vonage/errors.js'
import { ToolRegistry } from '../lib/tools/registry.js'
import { errorOutput, runToolCall, type ToolCallResult } from '../lib/tools/run.js'
import { builtInTools, BUILT_IN_TOOL_NAMES } from '../lib/tools/index.js'
import { parseNumberList } from '../lib/tools/transfer-call.js'
import { loadToolsFile, webhookTool, ToolsFileError, type CustomToolSpec } from '../lib/tools/webhook-tools.js'
import type { ToolContext } from '../lib/tools/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The model's tools; add() also offers the tool to every new session. */
    toolRegistry: ToolRegistry
  }
}

/** How long end_call waits for the goodbye response to be generated. */
const GOODBYE_MAX_MS = 15_000
/** How long a tool may wait for audio already sent to play out. */
const PLAYBACK_MAX_MS = 60_000
/** Tool runs at once per call; the model rarely needs more than one or two. */
const MAX_RUNNING = 4
const MAX_TOOL_USES_RECORDED = 100

/** Resolves with `p`, or with undefined after `ms` (the timer does not hold the process). */
async function bounded<T> (p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<undefined>(resolve => { timer = setTimeout(() => resolve(undefined), ms); timer.unref() })])
  } finally {
    clearTimeout(timer)
  }
}

async function toolsPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  registerSecrets([cfg.TOOLS_WEBHOOK_SECRET])
  const voice: Voice | null = fastify.vonage.voice
  const registry = new ToolRegistry(fastify.bridge.tools)

  const allowlist = parseNumberList(cfg.VONAGE_TRANSFER_ALLOWLIST)
  const transferWanted = cfg.VONAGE_TRANSFER_NUMBER !== '' || allowlist.length > 0
  if (transferWanted && voice === null) {
    fastify.log.warn({ missing: fastify.vonage.missing }, 'a transfer destination is set but the Vonage API is not configured (VONAGE_APPLICATION_ID and the private key): transfer_call is not offered')
  }
  const transfer = transferWanted && voice !== null
    ? { defaultNumber: cfg.VONAGE_TRANSFER_NUMBER, allowlist, apiTimeoutMs: cfg.VONAGE_API_TIMEOUT_MS, ringSeconds: cfg.TRANSFER_RING_SECONDS }
    : null
  for (const tool of builtInTools({ transfer })) registry.add(tool)

  let specs: CustomToolSpec[] | null = null
  try {
    specs = loadToolsFile(cfg.TOOLS_FILE, BUILT_IN_TOOL_NAMES)
  } catch (err) {
    if (!(err instanceof ToolsFileError)) throw err
    const problems = err.problems.map(p => `TOOLS_FILE (${err.file}): ${p}`)
    if (cfg.TOOLS_WEBHOOK_URL !== '') throw new ConfigError(problems)
    fastify.log.warn({ problems }, 'TOOLS_FILE is invalid (ignored: TOOLS_WEBHOOK_URL is not set)')
  }
  if (cfg.TOOLS_WEBHOOK_URL !== '') {
    if (specs === null) {
      throw new ConfigError([`TOOLS_WEBHOOK_URL is set but TOOLS_FILE ("${cfg.TOOLS_FILE}") does not exist — declare the tools there (start from tools.example.json), or unset TOOLS_WEBHOOK_URL`])
    }
    if (cfg.TOOLS_WEBHOOK_SECRET === '') {
      fastify.log.warn('TOOLS_WEBHOOK_SECRET is not set: tool requests are signed with a derived key your webhook cannot check — set it, and give the webhook the same value')
    }
    const key = webhookKey(cfg.TOOLS_WEBHOOK_SECRET, cfg.MEDIA_TOKEN_SECRET, cfg.OPENAI_API_KEY, 'tools-webhook')
    for (const spec of specs) registry.add(webhookTool(spec, { url: cfg.TOOLS_WEBHOOK_URL, key }))
  } else if (specs !== null && specs.length > 0) {
    fastify.log.warn({ file: cfg.TOOLS_FILE, tools: specs.map(s => s.name) }, 'TOOLS_FILE declares tools but TOOLS_WEBHOOK_URL is not set: they are not offered to the model')
  }
  fastify.log.info({ tools: registry.names() }, 'tools offered to the model')
  fastify.decorate('toolRegistry', registry)

  async function hangUp (session: CallSession, log: FastifyInstance['log']): Promise<void> {
    if (session.call.direction !== 'softphone' && voice !== null) {
      try {
        await voice.hangupCall(session.id)
        log.info('call hung up after the goodbye')
      } catch (err) {
        const f = await classifyVonageError(err)
        log.warn({ failure: f ?? { kind: 'unexpected' }, ...(f === null ? { err } : {}) }, 'Vonage hangup failed: closing the call audio instead')
      }
    }
    // Closing the media socket ends our leg even when the REST call failed.
    session.end('ended')
  }

  async function endAfterGoodbye (session: CallSession, goodbye: Promise<unknown> | null, reason: string, log: FastifyInstance['log']): Promise<void> {
    const notes = session.notes
    notes.outcome = 'ended-by-ai'
    if (reason !== '') notes.outcomeDetail = { reason: reason.slice(0, 200) }
    log.info({ reason: reason.slice(0, 200), waitingForGoodbye: goodbye !== null }, 'end_call: hanging up once the goodbye has played')
    if (goodbye !== null) await bounded(goodbye, GOODBYE_MAX_MS)
    // Everything of the goodbye is queued by now (response.done follows its last delta).
    await bounded(session.whenPlayed(), PLAYBACK_MAX_MS)
    if (session.ended) return
    await hangUp(session, log)
  }

  function attach (session: CallSession): void {
    const log = fastify.log.child({ callId: session.id })
    const gate = session.gate
    const notes = session.notes
    const seen = new Set<string>()
    const callOver = new AbortController()
    let running = 0

    session.once('end', () => callOver.abort(new Error('call ended')))
    session.on('tool-call', (call) => {
      onFunctionCall(call).catch(err => log.error({ err }, 'tool dispatch failed'))
    })

    async function onFunctionCall (call: { callId: string, name: string, arguments: string, responseId: string }): Promise<void> {
      const { callId: toolCallId, name, arguments: argText, responseId } = call
      if (toolCallId === '' || seen.has(toolCallId)) return
      seen.add(toolCallId)
      const ctl: { silent: boolean, ending: string | null, handedOver: boolean } = { silent: false, ending: null, handedOver: false }
      const ctx: Omit<ToolContext, 'signal'> = {
        call: { ...session.call, id: session.id },
        toolCallId,
        log: log.child({ tool: name, toolCallId }),
        responseDone: async () => responseId === '' ? null : await gate.whenDone(responseId),
        played: async () => { await bounded(session.whenPlayed(), PLAYBACK_MAX_MS) },
        noReply: () => { ctl.silent = true },
        endCall: (reason) => { ctl.ending = reason },
        handOver: () => { ctl.handedOver = true },
        transfer: async (number, o) => await fastify.transfers.ring(session, number, o, log)
      }
      gate.hold()
      try {
        let result: ToolCallResult
        if (isClosing(notes)) {
          result = refused('call_ending', 'The call is already ending; no more tools can run.')
        } else if (running >= MAX_RUNNING) {
          result = refused('busy', `Only ${MAX_RUNNING} tools can run at once. Wait for their results, then try again.`)
        } else {
          running++
          try {
            result = await runToolCall(registry, name, argText, ctx, { timeoutMs: cfg.TOOLS_TIMEOUT_MS, signal: callOver.signal })
          } finally {
            running--
          }
        }
        if (notes.tools.length < MAX_TOOL_USES_RECORDED) notes.tools.push({ name: name.slice(0, 64), ok: result.ok, ms: result.ms, ...(result.error !== undefined ? { error: result.error.code } : {}) })
        if (result.ok) log.info({ tool: name, toolCallId, ms: result.ms }, 'tool call done')
        else log.warn({ tool: name.slice(0, 64), toolCallId, ms: result.ms, error: result.error?.code, message: result.error?.message }, 'tool call failed: the model is told')
        // Put through to a person: the model's part is over, once this tool's use is in the notes the record reads.
        if (ctl.handedOver) session.end('ended')
        if (session.ended) return
        session.engine.sendToolResult(toolCallId, result.output, false)
        // While the call is being ended or handed over, the model gets its answer but is not asked to speak again.
        const reply = (result.ok && ctl.silent) || isClosing(notes) ? null : gate.requestResponse()
        if (result.ok && ctl.ending !== null) {
          endAfterGoodbye(session, reply, ctl.ending, log).catch(err => log.error({ err }, 'end_call failed'))
        }
      } finally {
        gate.release()
      }
    }
  }

  fastify.bridge.onSession.add(attach)
}

function refused (code: string, message: string): ToolCallResult {
  return { ok: false, output: errorOutput(code, message), error: { code, message }, ms: 0 }
}

export default fp(toolsPlugin, { name: 'tools', dependencies: ['config', 'bridge', 'vonage', 'transfer'] })
