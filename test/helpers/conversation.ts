import type { TestContext } from 'node:test'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { callRig, type CallRig } from './call-rig.js'
import { waitFor, type FakeConnection, type FakeRealtimeOptions } from '../fakes/realtime-server.js'
import { startFakeVonage, type FakeVonage } from '../fakes/vonage-rest.js'
import type { VonageMediaClient } from '../fakes/vonage-media-client.js'

/** The Vonage application of these tests: its key pair and id. */
export const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' }
})
export const APP_ID = '0b5c7e2a-5555-4666-8777-988899900011'

export interface ConversationRig extends CallRig {
  vonage: FakeVonage
  conn: FakeConnection
  media: VonageMediaClient
  uuid: string
  /** function_call_output items the bridge sent, in order, with their event index. */
  outputs: () => Array<{ index: number, callId: string, output: string, parsed: any }>
  /** Indexes (in conn.events) of the response.create events the bridge sent. */
  responseCreates: () => number[]
}

/**
 * An inbound call in progress: the app with the fake Realtime API (replying to
 * every response.create, one response at a time like the real one) and the
 * fake Vonage REST API, answered and dialled, its greeting played.
 */
export async function conversationRig (t: TestContext, env: Record<string, string | number | boolean> = {}, fakeOpts: FakeRealtimeOptions = {}): Promise<ConversationRig> {
  const vonage = await startFakeVonage({ publicKey, applicationId: APP_ID })
  t.after(() => vonage.close())
  const greeting = fakeOpts.answer?.length ?? 24000 * 0.4
  const rig = await callRig(t, {
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: privateKey,
    VONAGE_API_HOST: vonage.url,
    ...env
  }, { respondToAll: true, oneResponseAtATime: true, ...fakeOpts, answer: fakeOpts.answer ?? new Int16Array(24000 * 0.4).fill(1000) })
  const uuid = `leg-${randomUUID()}`
  const next = rig.fake.nextConnection()
  const ncco = await rig.answer({ uuid })
  const conn = await next
  const media = await rig.dial(ncco)
  const greetingFrames = Math.floor(greeting / 480)
  await waitFor(() => media.frames.length >= greetingFrames, 5000, 'the greeting')
  // ...and its response.done seen, so the tests' responses do not overlap it.
  const session = rig.app.bridge.sessions.get(uuid)
  if (session === undefined) throw new Error('no session for the call')
  await waitFor(() => !session.gate.active, 5000, 'the greeting\'s response.done')
  const outputs = (): ReturnType<ConversationRig['outputs']> => conn.events.flatMap((e, index) => {
    const item = e.item as { type?: string, call_id?: string, output?: string } | undefined
    if (e.type !== 'conversation.item.create' || item?.type !== 'function_call_output') return []
    let parsed: unknown
    try { parsed = JSON.parse(item.output ?? '') } catch { parsed = item.output }
    return [{ index, callId: String(item.call_id), output: String(item.output), parsed }]
  })
  const responseCreates = (): number[] => conn.events.flatMap((e, i) => e.type === 'response.create' ? [i] : [])
  return { ...rig, vonage, conn, media, uuid, outputs, responseCreates }
}

export interface Received {
  at: number
  headers: IncomingMessage['headers']
  raw: string
  body: any
}

export interface FakeWebhook {
  url: string
  received: Received[]
  /** Decides each reply; default 200 {"ok":true}. */
  reply: (r: Received, n: number) => { status: number, body?: unknown, delayMs?: number }
  close: () => Promise<void>
}

/** A local stand-in for the operator's webhook (tools or call records). */
export async function startFakeWebhook (t: TestContext): Promise<FakeWebhook> {
  const received: Received[] = []
  const timers = new Set<NodeJS.Timeout>()
  const hook: FakeWebhook = {
    url: '',
    received,
    reply: () => ({ status: 200, body: { ok: true } }),
    close: async () => {
      for (const tm of timers) clearTimeout(tm)
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try { body = JSON.parse(raw) } catch { body = raw }
      const r: Received = { at: performance.now(), headers: req.headers, raw, body }
      received.push(r)
      const { status, body: out, delayMs = 0 } = hook.reply(r, received.length)
      const answer = (): void => {
        if (res.destroyed) return
        const text = out === undefined ? '' : typeof out === 'string' ? out : JSON.stringify(out)
        res.writeHead(status, { 'content-type': 'application/json' }).end(text)
      }
      if (delayMs > 0) { const tm = setTimeout(answer, delayMs); timers.add(tm) } else answer()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  hook.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`
  t.after(() => hook.close())
  return hook
}
