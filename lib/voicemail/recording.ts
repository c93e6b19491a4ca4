/** Fetches a Vonage recording (the record action's recording_url) with the application's JWT. */

/** A voicemail of VOICEMAIL_MAX_SECONDS (≤ 600 s) in MP3 is well under this; anything bigger is not a voicemail. */
export const MAX_RECORDING_BYTES = 20 * 1024 * 1024
export const FETCH_TIMEOUT_MS = 30_000

export class RecordingFetchError extends Error {}

export async function fetchRecording (url: string, bearer: string, timeoutMs = FETCH_TIMEOUT_MS): Promise<{ bytes: Buffer, mime: string }> {
  const res = await fetch(url, {
    headers: { authorization: bearer, accept: 'audio/mpeg, */*' },
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs)
  })
  if (!res.ok) {
    await res.body?.cancel()
    throw new RecordingFetchError(`recording download answered HTTP ${res.status}`)
  }
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > MAX_RECORDING_BYTES) {
    await res.body?.cancel()
    throw new RecordingFetchError(`recording is ${declared} bytes, over ${MAX_RECORDING_BYTES}`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).length
    if (size > MAX_RECORDING_BYTES) throw new RecordingFetchError(`recording is over ${MAX_RECORDING_BYTES} bytes`)
    chunks.push(Buffer.from(chunk as Uint8Array))
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim()
  return { bytes: Buffer.concat(chunks), mime: type.startsWith('audio/') ? type : 'audio/mpeg' }
}
