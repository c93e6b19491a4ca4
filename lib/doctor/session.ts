import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import type { FastifyInstance } from 'fastify'
import { realtimeEndpoint, type EndpointSettings } from '../realtime/endpoint.js'
import { callSessionSettings, sessionUpdate } from '../realtime/session-update.js'
import type { SessionUpdateEvent } from '../realtime/client-events.js'

/**
 * The session.update a call sends, built by the function the bridge uses from
 * the same settings, persona and tools (plugins/bridge.ts), for a
 * test inbound call with no numbers.
 */
export function doctorSessionUpdate (app: FastifyInstance): SessionUpdateEvent {
  return sessionUpdate(callSessionSettings(app.config, app.persona.text, app.bridge.tools), { direction: 'inbound' })
}

export type SessionCheck =
  | { ok: true, ms: number }
  | { ok: false, message: string, fixJa: string, fixEn: string }

/**
 * Opens one Realtime session, sends `update` and waits for session.updated.
 * No response.create: the model says nothing, so the check costs nothing.
 */
export async function openTestSession (settings: EndpointSettings, update: SessionUpdateEvent, timeoutMs: number): Promise<SessionCheck> {
  const endpoint = realtimeEndpoint(settings)
  const started = performance.now()
  return await new Promise<SessionCheck>(resolve => {
    const ws = new WebSocket(endpoint.url, { headers: endpoint.headers, handshakeTimeout: timeoutMs })
    let done = false
    const finish = (r: SessionCheck): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      ws.removeAllListeners('close')
      ws.on('error', () => {})
      ws.close()
      resolve(r)
    }
    const timer = setTimeout(() => finish({ ok: false, message: `no session.updated within ${timeoutMs} ms`, fixJa: 'OPENAI_BASE_URL とネットワークを確認してください', fixEn: 'check OPENAI_BASE_URL and the network' }), timeoutMs)
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0
      if (status === 401 || status === 403) finish({ ok: false, message: `handshake refused (${status})`, fixJa: 'OPENAI_API_KEY を確認してください', fixEn: 'check OPENAI_API_KEY' })
      else if (status === 404) finish({ ok: false, message: `no Realtime endpoint or model (${status})`, fixJa: 'OPENAI_MODEL（Azure ではデプロイ名）と OPENAI_BASE_URL を確認してください', fixEn: 'check OPENAI_MODEL (Azure: the deployment name) and OPENAI_BASE_URL' })
      else finish({ ok: false, message: `handshake refused (${status})`, fixJa: 'OpenAI の状態と設定を確認してください', fixEn: 'check OpenAI\'s status and the settings' })
    })
    ws.on('error', err => {
      const code = (err as NodeJS.ErrnoException).code ?? err.message
      finish({ ok: false, message: `cannot reach ${new URL(endpoint.url).host} (${code})`, fixJa: 'ネットワークと OPENAI_BASE_URL を確認してください', fixEn: 'check the network and OPENAI_BASE_URL' })
    })
    ws.on('close', (code, reason) => finish({ ok: false, message: `closed before session.updated (${code} ${reason.toString()})`, fixJa: '設定を確認してください', fixEn: 'check the settings' }))
    ws.on('open', () => { ws.send(JSON.stringify(update)) })
    ws.on('message', (data) => {
      let e: { type?: string, error?: { message?: string, param?: string } }
      try { e = JSON.parse(data.toString()) as typeof e } catch { return }
      if (e.type === 'session.updated') finish({ ok: true, ms: Math.round(performance.now() - started) })
      else if (e.type === 'error') {
        const param = e.error?.param !== undefined ? ` (${e.error.param})` : ''
        finish({ ok: false, message: `the model refused session.update: ${e.error?.message ?? 'error'}${param}`, fixJa: '声（OPENAI_VOICE）やモデル、TOOLS_FILE など、メッセージが示す設定を直してください', fixEn: 'fix the setting the message points at (OPENAI_VOICE, the models, TOOLS_FILE, ...)' })
      }
    })
  })
}
