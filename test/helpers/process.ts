import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { pathToFileURL } from 'node:url'
import http from 'node:http'
import type { TestContext } from 'node:test'
import { freePort } from '../fakes/server-process.js'
import { VonageMediaClient } from '../fakes/vonage-media-client.js'
import { startFlags } from '../fakes/start-flags.js'
import { handshakeHeaders, vonageHeaders, TEST_SIGNATURE_SECRET } from './vonage-sign.js'

/** The built server as its own process (like test/fakes/server-process.ts), optionally with the introspection preload. */
export interface Proc {
  url: string
  port: number
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
  stats: () => Promise<ServerStats>
}

export interface ServerStats {
  heapUsed: number
  rss: number
  external: number
  arrayBuffers: number
  resources: Record<string, number>
  gc: boolean
}

export async function spawnServer (t: TestContext, env: Record<string, string>, o: { introspect?: boolean } = {}): Promise<Proc> {
  const port = await freePort()
  const cwd = mkdtempSync(join(tmpdir(), 'bridge-rel-'))
  const args = o.introspect === true
    ? [...startFlags(), '--expose-gc', '--import', import.meta.resolve('tsx'), '--import', pathToFileURL(resolve('test/fakes/introspect-preload.ts')).href, resolve('dist/server.js')]
    : [...startFlags(), resolve('dist/server.js')]
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, METRICS_PORT: '0', MODEL_CHECK: 'off', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', SYSTEM_MESSAGE_PATH: resolve('system-message.txt'), OPENAI_API_KEY: 'sk-test-0123456789abcdef', SERVER_URL: `127.0.0.1:${port}`, DATA_DIR: '', VONAGE_SIGNATURE_SECRET: TEST_SIGNATURE_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const deadline = Date.now() + 20_000
  for (;;) {
    if (out.includes('Server listening')) break
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`)
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`server did not listen in 20 s:\n${out}`) }
    // Quieter log levels do not say it: ask.
    if (await request(`http://127.0.0.1:${port}`, 'GET', '/health').then(r => r.status === 200, () => false)) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  t.after(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    exited,
    stats: async () => await new Promise<ServerStats>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no stats from the server')), 10_000)
      child.once('message', (m: { stats: ServerStats }) => { clearTimeout(timer); resolve(m.stats) })
      child.send({ cmd: 'stats' })
    })
  }
}

/** The server's log lines, parsed (pino JSON). */
export function logLines (out: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = []
  for (const l of out.split('\n')) {
    if (!l.startsWith('{')) continue
    try { lines.push(JSON.parse(l) as Record<string, unknown>) } catch {}
  }
  return lines
}

export interface HttpResult { status: number, body: string, json: any }

/** One HTTP request on a fresh connection (so a cluster's primary routes each one anew). */
export async function request (base: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  const u = new URL(path, base)
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: false, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        let json: unknown
        try { json = JSON.parse(text) } catch {}
        resolve({ status: res.statusCode ?? 0, body: text, json })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

let seq = 0
/** The answer webhook as Vonage sends it (POST JSON, signed with the spawned servers' secret); returns the NCCO. */
export async function answer (base: string, body: Record<string, unknown> = {}): Promise<Array<Record<string, any>>> {
  const json = JSON.stringify({ uuid: `rel-${process.pid}-${++seq}-${Date.now()}`, conversation_uuid: 'CON-rel', from: '818012345678', to: '815031023332', ...body })
  const res = await request(base, 'POST', '/incoming-call', json, vonageHeaders(json))
  if (res.status !== 200) throw new Error(`answer webhook: ${res.status} ${res.body}`)
  return res.json
}

/** Opens the NCCO's media WebSocket like Vonage, on loopback. */
export async function dial (port: number, ncco: Array<Record<string, any>>): Promise<VonageMediaClient> {
  const connect = ncco.find(a => a.action === 'connect')
  if (connect === undefined) throw new Error(`NCCO has no connect action: ${JSON.stringify(ncco)}`)
  const uri = String(connect.endpoint[0].uri).replace(/^wss:\/\/[^/]+/, `ws://127.0.0.1:${port}`)
  // authorization {type: 'vonage'}: Vonage signs the handshake too.
  const headers = connect.endpoint[0].authorization?.type === 'vonage' ? handshakeHeaders() : undefined
  return await VonageMediaClient.connect(uri, { rate: 16000, headers })
}
