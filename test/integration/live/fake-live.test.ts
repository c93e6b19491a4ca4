import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import WebSocket from 'ws'
import { startFakeLive } from '../../fakes/live-server.js'
import { waitFor } from '../../fakes/realtime-server.js'

/** The fake is as strict as the real GPT-Live about order, so the bridge's tests can fail. */
test('the fake GPT-Live refuses what the real one refuses: anything before session.start, audio before session.started, unknown types, a partial batch, a query string', async (t) => {
  const live = await startFakeLive()
  t.after(() => live.close())
  const url = `${live.baseUrl.replace('http', 'ws')}/live/sessions`
  const ws = new WebSocket(url, { headers: { Authorization: 'Bearer k' } })
  t.after(() => ws.terminate())
  const got: Array<{ type: string, error?: { code: string } }> = []
  ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString())))
  await once(ws, 'open')
  const audio = Buffer.alloc(640).toString('base64')
  ws.send(JSON.stringify({ type: 'session.input_audio.append', audio }))
  await waitFor(() => got.some(e => e.error?.code === 'session_not_started'), 2000, 'audio before session.start refused')
  ws.send(JSON.stringify({ type: 'session.start', session: { model: 'gpt-live-1', audio: { format: { type: 'audio/pcm', rate: 16000 } } } }))
  ws.send(JSON.stringify({ type: 'session.input_audio.append', audio }))
  await waitFor(() => got.filter(e => e.error?.code === 'session_not_started').length === 2, 2000, 'audio before session.started refused')
  await waitFor(() => got.some(e => e.type === 'session.started'), 2000, 'session.started')
  ws.send(JSON.stringify({ type: 'response.cancel' }))
  await waitFor(() => got.some(e => e.error?.code === 'unknown_event_type'), 2000, 'an unknown type refused')
  const c = live.connections[0]!
  const { callId } = live.callFunction(c, 'end_call', {})
  live.callFunction(c, 'transfer_call', {})
  ws.send(JSON.stringify({ type: 'response.item.create', item: { type: 'function_call_output', call_id: callId, output: '{}' } }))
  ws.send(JSON.stringify({ type: 'response.create' }))
  await waitFor(() => got.some(e => e.error?.code === 'tool_outputs_missing'), 2000, 'a partial batch refused')
  ws.send(JSON.stringify({ type: 'session.close' }))
  await waitFor(() => got.some(e => e.type === 'session.closed'), 2000, 'session.closed')

  const withQuery = new WebSocket(`${url}?model=gpt-live-1`)
  withQuery.on('error', () => {})
  const [, res] = await once(withQuery, 'unexpected-response') as [unknown, { statusCode: number, resume: () => void }]
  assert.equal(res.statusCode, 404)
  res.resume()
})
