/** One voicemail to text with POST {OPENAI_BASE_URL}/audio/transcriptions (multipart: file, model, language). */

export const TRANSCRIBE_TIMEOUT_MS = 60_000

export interface TranscribeOptions {
  /** …/v1 of OpenAI, or https://RES.openai.azure.com/openai/v1 */
  baseUrl: string
  /** Bearer (OpenAI) or api-key (Azure OpenAI). */
  auth: Record<string, string>
  model: string
  /** ISO-639-1, e.g. ja; '' = let the model detect it. */
  language: string
  audio: Uint8Array
  mime: string
  timeoutMs?: number
}

export async function transcribe (o: TranscribeOptions): Promise<string> {
  const form = new FormData()
  const ext = o.mime === 'audio/wav' ? 'wav' : o.mime === 'audio/ogg' ? 'ogg' : 'mp3'
  form.append('file', new Blob([o.audio], { type: o.mime }), `voicemail.${ext}`)
  form.append('model', o.model)
  if (o.language !== '') form.append('language', o.language)
  form.append('response_format', 'json')
  const res = await fetch(`${o.baseUrl.replace(/\/+$/, '')}/audio/transcriptions`, {
    method: 'POST',
    headers: o.auth,
    body: form,
    signal: AbortSignal.timeout(o.timeoutMs ?? TRANSCRIBE_TIMEOUT_MS)
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`transcription answered HTTP ${res.status}: ${text.slice(0, 200)}`)
  const body = JSON.parse(text) as { text?: unknown }
  if (typeof body.text !== 'string') throw new Error('transcription answer has no text')
  return body.text.trim()
}

/** Where transcriptions go and how they are authenticated: OpenAI, or Azure OpenAI's GA v1 API when AZURE_OPENAI_ENDPOINT is set. */
export function transcriptionEndpoint (s: { OPENAI_BASE_URL: string, AZURE_OPENAI_ENDPOINT: string, OPENAI_API_KEY: string }): { baseUrl: string, auth: Record<string, string> } {
  if (s.AZURE_OPENAI_ENDPOINT !== '') return { baseUrl: `${s.AZURE_OPENAI_ENDPOINT.replace(/\/+$/, '')}/openai/v1`, auth: { 'api-key': s.OPENAI_API_KEY } }
  return { baseUrl: s.OPENAI_BASE_URL, auth: { authorization: `Bearer ${s.OPENAI_API_KEY}` } }
}
