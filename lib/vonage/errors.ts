import { scrubSecrets } from '../log/logger.js'

/**
 * What went wrong talking to Vonage, reduced to what is safe to show a client.
 * The SDK's errors carry the whole request, Authorization header (our JWT)
 * included, so they are never logged or returned as they are.
 */
export type VonageFailure =
  | { kind: 'timeout' }
  | { kind: 'rejected', status: number, title: string, detail: string }
  | { kind: 'unreachable', code: string }

interface ResponseLike { status: number, statusText?: string, text: () => Promise<string> }

function isResponseLike (value: unknown): value is ResponseLike {
  return value !== null && typeof value === 'object' &&
    typeof (value as ResponseLike).status === 'number' && typeof (value as ResponseLike).text === 'function'
}

function clean (value: unknown, max = 300): string {
  return typeof value === 'string' ? scrubSecrets(value).slice(0, max) : ''
}

/** Reads the error body, but not for ever: the SDK's own timeout no longer covers it. */
async function readBody (response: ResponseLike, ms = 2000): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      response.text(),
      new Promise<string>(resolve => { timer = setTimeout(() => resolve(''), ms) })
    ])
  } catch {
    return ''
  } finally {
    clearTimeout(timer)
  }
}

/** null when `err` is not a Vonage/network failure (a bug of ours, left to the 500 handler). */
export async function classifyVonageError (err: unknown): Promise<VonageFailure | null> {
  if (err === null || typeof err !== 'object') return null
  const e = err as { name?: unknown, code?: unknown, type?: unknown, response?: unknown }
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return { kind: 'timeout' }
  if (isResponseLike(e.response)) {
    const { status } = e.response
    let title = ''
    let detail = ''
    const text = await readBody(e.response)
    try {
      const body = JSON.parse(text) as Record<string, unknown>
      title = clean(body.title ?? body.error_title)
      detail = clean(body.detail)
    } catch {}
    return { kind: 'rejected', status, title: title !== '' ? title : clean(e.response.statusText ?? ''), detail }
  }
  if (e.name === 'FetchError' || typeof e.code === 'string') {
    return { kind: 'unreachable', code: typeof e.code === 'string' ? e.code : 'network error' }
  }
  return null
}
