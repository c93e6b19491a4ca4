import type { RealtimeEndpoint } from '../realtime/endpoint.js'

export interface LiveEndpointSettings {
  OPENAI_API_KEY: string
  OPENAI_BASE_URL: string
  AZURE_OPENAI_ENDPOINT: string
}

/** `path` under an http(s) base URL, as ws(s)://, with no query string: GPT-Live takes the model in session.start, never in the URL. */
function wsUrl (httpUrl: string, path: string): string {
  const u = new URL(httpUrl)
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:'
  u.pathname = u.pathname.replace(/\/+$/, '') + path
  u.search = ''
  u.hash = ''
  return u.toString()
}

/** Where a GPT-Live WebSocket session opens: `…/v1/live/sessions` with `Authorization: Bearer` (no OpenAI-Beta header). */
export function liveEndpoint (s: LiveEndpointSettings): RealtimeEndpoint {
  if (s.AZURE_OPENAI_ENDPOINT !== '') {
    return { url: wsUrl(s.AZURE_OPENAI_ENDPOINT, '/openai/v1/live/sessions'), headers: { 'api-key': s.OPENAI_API_KEY }, provider: 'azure' }
  }
  return { url: wsUrl(s.OPENAI_BASE_URL, '/live/sessions'), headers: { Authorization: `Bearer ${s.OPENAI_API_KEY}` }, provider: 'openai' }
}
