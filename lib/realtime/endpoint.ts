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

/** The WebSocket form of an http(s) base URL, with `path` appended to its path. */
function wsUrl (httpUrl: string, path: string, query: Record<string, string>): string {
  const u = new URL(httpUrl)
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:'
  u.pathname = u.pathname.replace(/\/+$/, '') + path
  u.search = new URLSearchParams(query).toString()
  return u.toString()
}

export function realtimeEndpoint (s: EndpointSettings): RealtimeEndpoint {
  if (s.AZURE_OPENAI_ENDPOINT !== '') {
    const headers = { 'api-key': s.OPENAI_API_KEY }
    if (s.OPENAI_API_VERSION !== '') {
      // Deprecated preview form, kept for deployments that have not moved to GA.
      return { url: wsUrl(s.AZURE_OPENAI_ENDPOINT, '/openai/realtime', { 'api-version': s.OPENAI_API_VERSION, deployment: s.OPENAI_MODEL }), headers, provider: 'azure-preview' }
    }
    return { url: wsUrl(s.AZURE_OPENAI_ENDPOINT, '/openai/v1/realtime', { model: s.OPENAI_MODEL }), headers, provider: 'azure' }
  }
  // GA only: no OpenAI-Beta header, which would now get close code 4000.
  return { url: wsUrl(s.OPENAI_BASE_URL, '/realtime', { model: s.OPENAI_MODEL }), headers: { Authorization: `Bearer ${s.OPENAI_API_KEY}` }, provider: 'openai' }
}
