import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * OpenAI's POST /v1/audio/transcriptions, mounted on the fake OpenAI host
 * (startFakeRealtime's `http` option: one base URL serves both, like
 * api.openai.com). It parses the multipart form as the real API does (file,
 * model, language), checks the key, the model and that the file is audio,
 * and answers {text}.
 */
export interface TranscriptionRequest {
  model: string
  language: string
  fileName: string
  fileType: string
  fileBytes: Buffer
}

export interface FakeTranscriptions {
  /** For startFakeRealtime({ http }). */
  handle: (req: IncomingMessage, res: ServerResponse) => boolean
  requests: TranscriptionRequest[]
  /** What it answers; a test may change it. */
  text: string
  /** Models it knows (others get 400 like the real API's unknown model). */
  models: Set<string>
  /** Answer the next requests with this HTTP status (an outage). */
  failNext: (status: number, times?: number) => void
}

export function fakeTranscriptions (o: { apiKey: string, text: string, models: string[] }): FakeTranscriptions {
  const requests: TranscriptionRequest[] = []
  let failures: number[] = []
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }
  async function serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (req.headers.authorization !== `Bearer ${o.apiKey}`) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } })
    const failure = failures.shift()
    if (failure !== undefined) return json(res, failure, { error: { message: 'scripted failure', type: 'server_error' } })
    let form: FormData
    try {
      // undici's multipart parser reads the same wire format the real API reads.
      form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: Buffer.concat(chunks) }).formData()
    } catch {
      return json(res, 400, { error: { message: 'body is not multipart/form-data', type: 'invalid_request_error' } })
    }
    const file = form.get('file')
    const model = form.get('model')
    if (!(file instanceof Blob) || file.size === 0) return json(res, 400, { error: { message: "'file' is required", param: 'file', type: 'invalid_request_error' } })
    if (typeof model !== 'string' || !fake.models.has(model)) return json(res, 400, { error: { message: `unknown model ${String(model)}`, param: 'model', type: 'invalid_request_error' } })
    const name = (file as File).name ?? ''
    if (!/\.(mp3|wav|ogg|m4a|webm|flac)$/.test(name)) return json(res, 400, { error: { message: 'Invalid file format', param: 'file', type: 'invalid_request_error' } })
    requests.push({ model, language: String(form.get('language') ?? ''), fileName: name, fileType: file.type, fileBytes: Buffer.from(await file.arrayBuffer()) })
    json(res, 200, { text: fake.text, usage: { type: 'duration', seconds: 3 } })
  }
  const fake: FakeTranscriptions = {
    handle: (req, res) => {
      if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') return false
      serve(req, res).catch(() => json(res, 500, { error: { message: 'fake crashed', type: 'server_error' } }))
      return true
    },
    requests,
    text: o.text,
    models: new Set(o.models),
    failNext: (status, times = 1) => { failures = [...failures, ...Array<number>(times).fill(status)] }
  }
  return fake
}
