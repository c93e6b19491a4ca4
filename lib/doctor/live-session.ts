import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import type { FastifyInstance } from 'fastify'
import type { SessionStartEvent } from 'openai/resources/live/live'
import { liveEndpoint, type LiveEndpointSettings } from '../live/endpoint.js'
import { liveSessionSettings } from '../live/factory.js'
import { sessionClose, sessionStart } from '../live/client-events.js'
import type { SessionCheck } from './session.js'

/** The session.start a call sends (OPENAI_ENGINE=live), from the same settings, persona and tools, for a test inbound call. */
export function doctorSessionStart (app: FastifyInstance): SessionStartEvent {
  return sessionStart(liveSessionSettings(app.config, app.persona.text, app.bridge.tools), { direction: 'inbound' })
}

/**
 * Opens one GPT-Live session with the calls' session.start and waits for
 * session.started, then closes it at once (session.close): no audio is sent,
 * so the model never speaks and the session lasts a moment. A refusal is told
 * in words: what GPT-Live said and which setting to look at.
 */
export async function openLiveTestSession (settings: LiveEndpointSettings, start: SessionStartEvent, timeoutMs: number): Promise<SessionCheck> {
  const endpoint = liveEndpoint(settings)
  const began = performance.now()
  return await new Promise<SessionCheck>(resolve => {
    const ws = new WebSocket(endpoint.url, { headers: endpoint.headers, handshakeTimeout: timeoutMs })
    let done = false
    const finish = (r: SessionCheck): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      ws.removeAllListeners('close')
      ws.on('error', () => {})
      if (r.ok && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(sessionClose()))
      ws.close()
      resolve(r)
    }
    const timer = setTimeout(() => finish({ ok: false, message: `no session.started within ${timeoutMs} ms`, fixJa: 'OPENAI_BASE_URL とネットワークを確認してください', fixEn: 'check OPENAI_BASE_URL and the network' }), timeoutMs)
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0
      if (status === 401 || status === 403) finish({ ok: false, message: `handshake refused (${status})`, fixJa: 'OPENAI_API_KEY を確認してください', fixEn: 'check OPENAI_API_KEY' })
      else if (status === 404) finish({ ok: false, message: `no GPT-Live endpoint (${status})`, fixJa: 'OPENAI_BASE_URL を確認してください（GPT-Live は /v1/live/sessions）', fixEn: 'check OPENAI_BASE_URL (GPT-Live is at /v1/live/sessions)' })
      else if (status === 429) finish({ ok: false, message: `too many sessions (${status})`, fixJa: 'GPT-Live の同時セッション数の上限を確認してください', fixEn: 'check your organisation\'s concurrent GPT-Live session limit' })
      else finish({ ok: false, message: `handshake refused (${status})`, fixJa: 'OpenAI の状態と設定を確認してください', fixEn: 'check OpenAI\'s status and the settings' })
    })
    ws.on('error', err => {
      const code = (err as NodeJS.ErrnoException).code ?? err.message
      finish({ ok: false, message: `cannot reach ${new URL(endpoint.url).host} (${code})`, fixJa: 'ネットワークと OPENAI_BASE_URL を確認してください', fixEn: 'check the network and OPENAI_BASE_URL' })
    })
    ws.on('close', (code, reason) => finish({ ok: false, message: `closed before session.started (${code} ${reason.toString()})`, fixJa: '設定を確認してください', fixEn: 'check the settings' }))
    ws.on('open', () => { ws.send(JSON.stringify(start)) })
    ws.on('message', (data) => {
      let e: { type?: string, error?: { message?: string, param?: string, code?: string } }
      try { e = JSON.parse(data.toString()) as typeof e } catch { return }
      if (e.type === 'session.started') finish({ ok: true, ms: Math.round(performance.now() - began) })
      else if (e.type === 'error') {
        const param = e.error?.param !== undefined ? ` (${e.error.param})` : ''
        finish({
          ok: false,
          message: `GPT-Live refused session.start: ${e.error?.message ?? 'error'}${param}`,
          fixJa: 'メッセージが示す設定（OPENAI_LIVE_MODEL、OPENAI_VOICE、OPENAI_LIVE_DELEGATE_MODEL、TOOLS_FILE など）を直してください',
          fixEn: 'fix the setting the message points at (OPENAI_LIVE_MODEL, OPENAI_VOICE, OPENAI_LIVE_DELEGATE_MODEL, TOOLS_FILE, ...)'
        })
      }
    })
  })
}
