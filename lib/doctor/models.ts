/**
 * What OpenAI says about a model: GET {OPENAI_BASE_URL}/models/{id}, whose
 * optional `shutdown_date` (YYYY-MM-DD) announces its end (OpenAI's deprecations page).
 */
export type ModelLookup =
  | { kind: 'ok', id: string, shutdownDate: string | null }
  | { kind: 'unauthorized', status: number, message: string }
  | { kind: 'not-found', status: number, message: string }
  | { kind: 'failed', status: number | null, message: string }

const LOOKUP_TIMEOUT_MS = 10_000

export async function lookUpModel (baseUrl: string, apiKey: string, id: string, timeoutMs = LOOKUP_TIMEOUT_MS): Promise<ModelLookup> {
  const url = `${baseUrl.replace(/\/+$/, '')}/models/${encodeURIComponent(id)}`
  let res: Response
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name
    return { kind: 'failed', status: null, message: `${new URL(url).host}: ${cause}` }
  }
  const text = await res.text()
  let body: { id?: unknown, shutdown_date?: unknown, error?: { message?: unknown } } = {}
  try { body = JSON.parse(text) as typeof body } catch {}
  const message = typeof body.error?.message === 'string' ? body.error.message : `HTTP ${res.status}`
  if (res.status === 401 || res.status === 403) return { kind: 'unauthorized', status: res.status, message }
  if (res.status === 404) return { kind: 'not-found', status: res.status, message }
  if (!res.ok) return { kind: 'failed', status: res.status, message }
  const shutdownDate = typeof body.shutdown_date === 'string' && body.shutdown_date !== '' ? body.shutdown_date : null
  return { kind: 'ok', id: typeof body.id === 'string' ? body.id : id, shutdownDate }
}

/**
 * The models the server uses: the Realtime model and the transcription model
 * when one is set (GPT-Live: its model and its delegate), then the after-call
 * summary's when summaries are on. Each of them can be retired by OpenAI.
 */
export function configuredModels (c: { OPENAI_MODEL: string, OPENAI_TRANSCRIPTION_MODEL: string, OPENAI_ENGINE?: string, OPENAI_LIVE_MODEL?: string, OPENAI_LIVE_DELEGATE_MODEL?: string, SUMMARY_MODEL?: string }): Array<{ setting: string, id: string }> {
  const out: Array<{ setting: string, id: string }> = []
  if (c.OPENAI_ENGINE === 'live') {
    out.push({ setting: 'OPENAI_LIVE_MODEL', id: c.OPENAI_LIVE_MODEL ?? '' }, { setting: 'OPENAI_LIVE_DELEGATE_MODEL', id: c.OPENAI_LIVE_DELEGATE_MODEL ?? '' })
  } else {
    out.push({ setting: 'OPENAI_MODEL', id: c.OPENAI_MODEL })
    if (c.OPENAI_TRANSCRIPTION_MODEL !== '') out.push({ setting: 'OPENAI_TRANSCRIPTION_MODEL', id: c.OPENAI_TRANSCRIPTION_MODEL })
  }
  if (c.SUMMARY_MODEL !== undefined && c.SUMMARY_MODEL !== '') out.push({ setting: 'SUMMARY_MODEL', id: c.SUMMARY_MODEL })
  return out
}

/** The warning for a model with an announced end, Japanese then English. */
export function shutdownWarning (setting: string, id: string, date: string): string {
  return `${setting}=${id} は ${date} に提供終了予定です。後継モデルに切り替えてください / ${setting}=${id} shuts down on ${date} (OpenAI's deprecations page): switch to its replacement before then`
}
