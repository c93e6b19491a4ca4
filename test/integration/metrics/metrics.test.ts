import { test } from 'node:test'
import assert from 'node:assert/strict'
import { callRig, callerSpeech16k } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { freePort } from '../../fakes/server-process.js'
import type { CallSession, CallStats } from '../../../lib/call/session.js'

/** Prometheus text → { 'name{labels}': value }. */
function parse (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

test('a live call through the fakes shows in a scrape of METRICS_PORT', async (t) => {
  const metricsPort = await freePort()
  const rig = await callRig(t, { METRICS_PORT: String(metricsPort) })
  const ended = new Promise<CallStats>(resolve => {
    rig.app.bridge.onSession.add((s: CallSession) => { s.once('end', resolve) })
  })
  const ncco = await rig.answer({ uuid: 'leg-metrics' })
  const conn = await rig.fake.nextConnection()
  const client = await rig.dial(ncco)
  await waitFor(() => client.frames.length >= 20, 5000, 'greeting')

  const during = parse(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())
  assert.equal(during.get('bridge_active_calls'), 1)

  void client.stream(callerSpeech16k) // the caller talks over the greeting: one barge-in
  rig.fake.speechStarted(conn)
  await waitFor(() => client.texts.some(m => m.msg.action === 'clear'), 2000, 'clear')
  await client.close()
  const stats = await ended

  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
  const body = await res.text()
  const m = parse(body)
  assert.equal(m.get('bridge_active_calls'), 0)
  assert.equal(m.get('bridge_calls_total{direction="inbound",outcome="completed"}'), 1, body)
  assert.equal(m.get('bridge_barge_ins_total'), 1)
  assert.equal(m.get('bridge_time_to_first_audio_seconds_count'), 1)
  assert.ok((m.get('bridge_time_to_first_audio_seconds_sum') ?? 0) > 0)
  assert.equal(m.get('bridge_call_duration_seconds_count{direction="inbound"}'), 1)
  assert.ok(Math.abs((m.get('bridge_call_duration_seconds_sum{direction="inbound"}') ?? 0) - stats.durationMs / 1000) < 0.001)
  assert.equal(m.get('bridge_dropped_frames_total'), stats.droppedFrames)
  // Node's own process metrics (collectDefaultMetrics).
  assert.ok(m.has('process_cpu_user_seconds_total'))
  assert.ok([...m.keys()].some(k => k.startsWith('nodejs_eventloop_lag_seconds')))
  // Anything but GET /metrics is not found.
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/`)).status, 404)
})

test('the public port has no /metrics', async (t) => {
  const metricsPort = await freePort()
  const rig = await callRig(t, { METRICS_PORT: String(metricsPort) })
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 200, 'metrics are up on their own port')
  const res = await fetch(`http://127.0.0.1:${rig.port}/metrics`)
  assert.equal(res.status, 404)
  assert.doesNotMatch(await res.text(), /bridge_active_calls|process_cpu/)
})

test('METRICS_PORT=0 opens nothing', async (t) => {
  const listening = (): number => process.getActiveResourcesInfo().filter(r => r === 'TCPServerWrap').length
  const withMetrics = await freePort()
  const before = listening()
  await callRig(t, { METRICS_PORT: String(withMetrics) })
  const between = listening()
  const off = await callRig(t, { METRICS_PORT: '0' })
  assert.equal(off.app.metrics, null)
  // The same rig (app + fake Realtime server) opens one listening socket fewer: the metrics server's.
  assert.equal((between - before) - (listening() - between), 1)
})
