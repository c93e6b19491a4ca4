import type { TestContext } from 'node:test'
import { EventEmitter } from 'node:events'
import type { EngineEventMap, SpeechEngine } from '../../lib/realtime/engine.js'
import { readFileSync } from 'node:fs'
import { build, type Built } from './build.js'
import { startFakeRealtime, waitFor, type FakeConnection, type FakeRealtime, type FakeRealtimeOptions } from '../fakes/realtime-server.js'
import type { CallSession } from '../../lib/call/session.js'
import { VonageMediaClient, type MediaClientOptions } from '../fakes/vonage-media-client.js'
import { readWavPcm16 } from '../../lib/audio/wav.js'

export const callerPcm16k = readWavPcm16(readFileSync(new URL('../fixtures/audio/caller-ja-16k.wav', import.meta.url))).samples
/**
 * A real interruption: 1.5 s of caller-ja-16k.wav from its first frame (voiced
 * from the start). The bridge decides what interrupts (lib/call/turn-wiring.ts),
 * so a bare speech_started no longer cuts the assistant: the caller's audio
 * must go on past BARGE_IN_MIN_MS.
 */
export const callerSpeech16k = callerPcm16k.subarray(0, 16000 * 1.5)
export const assistantPcm24k = readWavPcm16(readFileSync(new URL('../fixtures/audio/assistant-ja-24k.wav', import.meta.url))).samples

export interface CallRig extends Built {
  fake: FakeRealtime
  port: number
  /** Answers like Vonage does (POST JSON), returns the NCCO. */
  answer: (body?: Record<string, unknown>, path?: string) => Promise<Array<Record<string, any>>>
  /** Opens the NCCO's WebSocket like Vonage does. */
  dial: (ncco: Array<Record<string, any>>, o?: MediaClientOptions) => Promise<VonageMediaClient>
}

/** The app listening on loopback with a fake Realtime API behind it. */
export async function callRig (t: TestContext, env: Record<string, string | number | boolean> = {}, fakeOpts: FakeRealtimeOptions = {}): Promise<CallRig> {
  const fake = await startFakeRealtime({ answer: assistantPcm24k.subarray(0, 24000 * 2), ...fakeOpts })
  t.after(() => fake.close())
  const built = await build(t, { OPENAI_BASE_URL: fake.baseUrl, ...env })
  await built.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (built.app.server.address() as { port: number }).port
  let n = 0
  return {
    ...built,
    fake,
    port,
    answer: async (body = {}, path = '/incoming-call') => {
      const res = await built.app.inject({ method: 'POST', url: path, payload: { uuid: `call-${++n}-${Date.now()}`, conversation_uuid: 'CON-1', from: '818012345678', to: '815031023332', ...body } })
      if (res.statusCode !== 200) throw new Error(`answer webhook: ${res.statusCode} ${res.body}`)
      return res.json()
    },
    dial: async (ncco, o = {}) => {
      const connect = ncco.find(a => a.action === 'connect')
      if (connect === undefined) throw new Error('NCCO has no connect action')
      const uri = String(connect.endpoint[0].uri).replace(/^wss:\/\/[^/]+/, `ws://127.0.0.1:${port}`)
      const rate = Number(/rate=(\d+)/.exec(String(connect.endpoint[0]['content-type']))?.[1]) as 8000 | 16000 | 24000
      const client = await VonageMediaClient.connect(uri, { rate, ...o })
      t.after(() => client.close())
      return client
    }
  }
}

/**
 * A SpeechEngine that records what the session asks of it and says only what
 * a test makes it say (emit): for session-level tests without a socket.
 */
export class StubEngine extends EventEmitter<EngineEventMap> implements SpeechEngine {
  readonly inputRate = 24000 as const
  readonly outputRate = 24000 as const
  readonly canTruncate = true
  readonly calls: Array<{ method: string, args: unknown[] }> = []
  appended = 0
  closed = false

  connect (): void { this.calls.push({ method: 'connect', args: [] }) }
  appendAudio (pcm: Uint8Array): void { this.appended += pcm.length }
  startResponse (opts?: { instructions?: string, noTools?: boolean }): boolean { this.calls.push({ method: 'startResponse', args: [opts] }); return !this.closed }
  cancelResponse (): void { this.calls.push({ method: 'cancelResponse', args: [] }) }
  truncate (itemId: string, heardMs: number): void { this.calls.push({ method: 'truncate', args: [itemId, heardMs] }) }
  discardInput (itemId: string): void { this.calls.push({ method: 'discardInput', args: [itemId] }) }
  addUserText (text: string): boolean { this.calls.push({ method: 'addUserText', args: [text] }); return !this.closed }
  sendToolResult (callId: string, output: string, respond: boolean): boolean { this.calls.push({ method: 'sendToolResult', args: [callId, output, respond] }); return !this.closed }
  close (): void { this.closed = true }
}

/** A media socket that keeps what is sent to it (a Vonage that reads everything at once). */
export class StubMedia {
  readonly sent: Array<Buffer | string> = []
  closed: [number | undefined, string | undefined] | null = null
  bufferedAmount = 0
  send (data: Buffer | string): void { this.sent.push(typeof data === 'string' ? data : Buffer.from(data)) }
  close (code?: number, reason?: string): void { this.closed = [code, reason] }
  get frames (): Buffer[] { return this.sent.filter((d): d is Buffer => typeof d !== 'string') }
}

/**
 * An explicit "nothing more is coming" signal instead of a sleep: once the
 * session has no response in flight, a marker (response.cancel, which the
 * fake ignores) is sent through the same socket; anything the session sent
 * before it reaches the fake first.
 */
export async function settled (session: CallSession, conn: FakeConnection, ms = 5000): Promise<void> {
  await waitFor(() => !session.gate.active, ms, 'no response in flight')
  const markers = conn.events.filter(e => e.type === 'response.cancel').length
  session.engine.cancelResponse()
  await waitFor(() => conn.events.filter(e => e.type === 'response.cancel').length > markers, ms, 'the marker at the fake')
}

/** The same for the media side: a text the session sends after everything before it. */
export async function mediaSettled (session: CallSession, client: VonageMediaClient, ms = 5000): Promise<void> {
  const marker = `marker-${Math.random()}`
  session.sendText(JSON.stringify({ marker }))
  await waitFor(() => client.texts.some(m => m.msg.marker === marker), ms, 'the marker at the media client')
}
