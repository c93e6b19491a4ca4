/** Where the Realtime WebSocket is and how to authenticate to it (GA protocol only). */
export interface RealtimeEndpoint {
  url: string
  headers: Record<string, string>
  provider: 'openai' | 'azure' | 'azure-preview'
}

export interface EndpointSettings {
  OPENAI_API_KEY: string
  OPENAI_MODEL: string
  OPENAI_BASE_URL: string
  AZURE_OPENAI_ENDPOINT: string
  OPENAI_API_VERSION: string
}

function toWs (httpUrl: string): URL {
  const u = new URL(httpUrl)
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:'
  u.pathname = u.pathname.replace(/\/+$/, '')
  return u
}

export function realtimeEndpoint (s: EndpointSettings): RealtimeEndpoint {
  if (s.AZURE_OPENAI_ENDPOINT !== '') {
    const u = toWs(s.AZURE_OPENAI_ENDPOINT)
    if (s.OPENAI_API_VERSION !== '') {
      // Deprecated preview form, kept for deployments that have not moved to GA.
      u.pathname = `${u.pathname}/openai/realtime`
      u.search = new URLSearchParams({ 'api-version': s.OPENAI_API_VERSION, deployment: s.OPENAI_MODEL }).toString()
      return { url: u.toString(), headers: { 'api-key': s.OPENAI_API_KEY }, provider: 'azure-preview' }
    }
    u.pathname = `${u.pathname}/openai/v1/realtime`
    u.search = new URLSearchParams({ model: s.OPENAI_MODEL }).toString()
    return { url: u.toString(), headers: { 'api-key': s.OPENAI_API_KEY }, provider: 'azure' }
  }
  const u = toWs(s.OPENAI_BASE_URL)
  u.pathname = `${u.pathname}/realtime`
  u.search = new URLSearchParams({ model: s.OPENAI_MODEL }).toString()
  // GA only: no OpenAI-Beta header, which would now get close code 4000.
  return { url: u.toString(), headers: { Authorization: `Bearer ${s.OPENAI_API_KEY}` }, provider: 'openai' }
}
