import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ToolRegistry } from '../../../lib/tools/registry.js'
import { runToolCall } from '../../../lib/tools/run.js'
import { loadToolsFile, ToolsFileError } from '../../../lib/tools/webhook-tools.js'
import { BUILT_IN_TOOL_NAMES } from '../../../lib/tools/index.js'
import { ToolError, type ToolContext, type ToolDefinition } from '../../../lib/tools/types.js'
import { signBody, verifyBodySignature } from '../../../lib/security/hmac.js'
import { ConfigError } from '../../../lib/config/schema.js'
import { build } from '../../helpers/build.js'
import { conversationRig, startFakeWebhook, settled } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'

const noopLog = { info () {}, warn () {}, error () {}, debug () {} }

function ctxStub (): Omit<ToolContext, 'signal'> {
  return {
    call: { id: 'leg-1', direction: 'inbound', from: '818012345678', to: '815031023332' },
    toolCallId: 'call_1',
    log: noopLog,
    responseDone: async () => null,
    played: async () => {},
    noReply: () => {},
    endCall: () => {},
    transfer: async () => ({ ok: false, outcome: 'failed', reason: 'stub' }),
    handOver: () => {}
  }
}

const echo: ToolDefinition<{ text: string }> = {
  name: 'echo',
  description: 'Repeats text.',
  parameters: { type: 'object', properties: { text: { type: 'string', maxLength: 10 } }, required: ['text'], additionalProperties: false },
  handler: async (args) => ({ said: args.text })
}

function tempFile (name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tools-test-'))
  const file = join(dir, name)
  writeFileSync(file, content)
  return file
}

test('registry: GA function definitions in the shared array; bad names, schemas and duplicates refused', () => {
  const specs: unknown[] = []
  const registry = new ToolRegistry(specs)
  registry.add(echo)
  assert.deepEqual(specs, [{ type: 'function', name: 'echo', description: 'Repeats text.', parameters: echo.parameters }])
  assert.throws(() => registry.add(echo), /defined twice/)
  assert.throws(() => registry.add({ ...echo, name: 'has space' }), /name must be/)
  assert.throws(() => registry.add({ ...echo, name: 'x', description: ' ' }), /description/)
  assert.throws(() => registry.add({ ...echo, name: 'y', parameters: { type: 'array' } as never }), /"type": "object"/)
  assert.throws(() => registry.add({ ...echo, name: 'z', parameters: { type: 'object', properties: { a: { type: 'strin' } } } }), /not a valid JSON Schema/)
  assert.equal(specs.length, 1, 'refused tools are not offered')
})

test('runToolCall: output, unknown tool, bad JSON, schema violations, handler errors, oversized output', async () => {
  const registry = new ToolRegistry()
  registry.add(echo)
  registry.add({ ...echo, name: 'boom', handler: async () => { throw new Error('db down, key sk-abcdefghijklmnop') } })
  registry.add({ ...echo, name: 'refuse', handler: async () => { throw new ToolError('not_found', 'No such order.') } })
  registry.add({ ...echo, name: 'huge', handler: async () => 'x'.repeat(20_000) })
  const run = async (name: string, args: string) => await runToolCall(registry, name, args, ctxStub(), { timeoutMs: 1000 })

  const ok = await run('echo', '{"text":"hi"}')
  assert.deepEqual({ ok: ok.ok, output: JSON.parse(ok.output) }, { ok: true, output: { said: 'hi' } })

  const unknown = await run('nope', '{}')
  assert.equal(unknown.error?.code, 'unknown_tool')
  assert.match(JSON.parse(unknown.output).message, /no tool named "nope".*echo/i)

  const badJson = await run('echo', '{"text": "hi"')
  assert.equal(badJson.error?.code, 'invalid_arguments')
  assert.match(badJson.output, /not valid JSON/)

  const wrongType = await run('echo', '{"text": 5}')
  assert.equal(wrongType.error?.code, 'invalid_arguments')
  assert.match(wrongType.output, /arguments\/text must be string/)
  assert.match((await run('echo', '{}')).output, /must have required property 'text'/)
  assert.match((await run('echo', '{"text":"a","extra":1}')).output, /additional properties/)
  assert.match((await run('echo', '[]')).output, /must be object/)

  const boom = await run('boom', '{"text":"a"}')
  assert.equal(boom.error?.code, 'tool_failed')
  assert.ok(!boom.output.includes('sk-abcdefghijklmnop'), 'secrets are scrubbed from errors the model sees')
  assert.deepEqual((await run('refuse', '{"text":"a"}')).error, { code: 'not_found', message: 'No such order.' })
  assert.equal((await run('huge', '{"text":"a"}')).error?.code, 'output_too_large')
})

test('runToolCall: a handler past its timeout is answered "timeout" and its signal aborted', async () => {
  const registry = new ToolRegistry()
  let signal: AbortSignal | undefined
  registry.add({ ...echo, name: 'slow', handler: async (_a, ctx) => { signal = ctx.signal; return await new Promise(() => {}) } })
  registry.add({ ...echo, name: 'slow_own', timeoutMs: 30, handler: async () => await new Promise(() => {}) })
  const started = performance.now()
  const r = await runToolCall(registry, 'slow', '{"text":"a"}', ctxStub(), { timeoutMs: 50 })
  assert.equal(r.error?.code, 'timeout')
  assert.match(r.output, /within 50 ms/)
  assert.equal(signal?.aborted, true)
  assert.ok(performance.now() - started < 2000)
  assert.match((await runToolCall(registry, 'slow_own', '{"text":"a"}', ctxStub(), { timeoutMs: 60_000 })).output, /within 30 ms/, 'a tool\'s own timeout wins')
})

test('tools.json: the shipped example loads; every problem names the file and the place', () => {
  const example = loadToolsFile('./tools.example.json', BUILT_IN_TOOL_NAMES)
  assert.deepEqual(example?.map(t => t.name), ['lookup_order', 'book_callback'])
  assert.equal(loadToolsFile('./does-not-exist.json'), null)

  const problems = (content: string): string[] => {
    const file = tempFile('tools.json', content)
    try {
      loadToolsFile(file, BUILT_IN_TOOL_NAMES)
    } catch (err) {
      assert.ok(err instanceof ToolsFileError)
      assert.equal(err.file, file)
      assert.ok(err.message.startsWith(file))
      return err.problems
    }
    assert.fail('no error')
  }
  assert.match(problems('{"tools": [')[0]!, /not valid JSON/)
  assert.match(problems('[]')[0]!, /must be object/)
  assert.match(problems('{}')[0]!, /the file lacks "tools"/)
  const p = { type: 'object', properties: {} }
  assert.deepEqual(problems(JSON.stringify({ tools: [{ name: 'a b', description: 'x', parameters: p }] })), ['tools[0] ("a b").name must be 1-64 letters, digits, _ or -'])
  assert.deepEqual(problems(JSON.stringify({ tools: [{ name: 'a', parameters: p }] })), ['tools[0] ("a") lacks "description"'])
  assert.deepEqual(problems(JSON.stringify({ tools: [{ name: 'a', description: 'x', parameters: { type: 'string' } }] })), ['tools[0] ("a").parameters.type must be "object" (the arguments are always a JSON object)'])
  assert.match(problems(JSON.stringify({ tools: [{ name: 'a', description: 'x', parameters: p, url: 'http://x' }] }))[0]!, /unknown field "url"/)
  assert.deepEqual(problems(JSON.stringify({ tools: [{ name: 'end_call', description: 'x', parameters: p }] })), ['tools[0] ("end_call"): "end_call" is a built-in tool; choose another name'])
  assert.deepEqual(problems(JSON.stringify({ tools: [{ name: 'a', description: 'x', parameters: p }, { name: 'a', description: 'y', parameters: p }] })), ['tools[1] ("a"): the name is used twice'])
  assert.match(problems(JSON.stringify({ tools: [{ name: 'a', description: 'x', parameters: { type: 'object', properties: { n: { type: 'numbr' } } } }] }))[0]!, /tools\[0\] \("a"\)\.parameters is not a valid JSON Schema/)
})

test('startup: TOOLS_WEBHOOK_URL with a missing or invalid TOOLS_FILE stops the server with a clear error', async (t) => {
  await assert.rejects(build(t, { TOOLS_WEBHOOK_URL: 'http://127.0.0.1:9/hook', TOOLS_FILE: './nope/tools.json' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.match(err.problems[0]!, /TOOLS_WEBHOOK_URL is set but TOOLS_FILE \("\.\/nope\/tools\.json"\) does not exist/)
    return true
  })
  const bad = tempFile('tools.json', JSON.stringify({ tools: [{ name: 'x', description: '', parameters: { type: 'object' } }] }))
  await assert.rejects(build(t, { TOOLS_WEBHOOK_URL: 'http://127.0.0.1:9/hook', TOOLS_FILE: bad }), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.deepEqual(err.problems, [`TOOLS_FILE (${bad}): tools[0] ("x").description must not be empty`])
    return true
  })
  await assert.rejects(build(t, { TOOLS_WEBHOOK_URL: 'ftp://tools' }), /TOOLS_WEBHOOK_URL is malformed/)
  // Without a webhook, a broken file is only a warning.
  const { logs } = await build(t, { TOOLS_FILE: bad })
  assert.ok(logs.some(l => l.level === 40 && String(l.msg).includes('TOOLS_FILE is invalid')))
})

test('X-Signature: HMAC-SHA256 of the exact raw body', () => {
  const key = Buffer.from('s3cret-s3cret')
  const body = '{"a":1}'
  const header = signBody(body, key)
  assert.equal(header, `sha256=${createHmac('sha256', 's3cret-s3cret').update(body).digest('hex')}`)
  assert.ok(verifyBodySignature(header, body, key))
  assert.ok(!verifyBodySignature(header, '{"a": 1}', key))
  assert.ok(!verifyBodySignature(header, body, Buffer.from('other')))
  assert.ok(!verifyBodySignature(undefined, body, key))
})

test('a tools.json tool round trip: signed POST to the webhook, its JSON reply back to the model, then response.create', async (t) => {
  const hook = await startFakeWebhook(t)
  hook.reply = () => ({ status: 200, body: { status: 'shipped', eta: '2026-12-01' } })
  const secret = 'tools-webhook-secret-0123'
  const rig = await conversationRig(t, { TOOLS_WEBHOOK_URL: hook.url, TOOLS_WEBHOOK_SECRET: secret, TOOLS_FILE: './tools.example.json' })
  const update = rig.conn.events.find(e => e.type === 'session.update')!.session as { tools: Array<{ type: string, name: string }>, tool_choice: string }
  assert.deepEqual(update.tools.map(x => `${x.type}:${x.name}`), ['function:end_call', 'function:lookup_order', 'function:book_callback'], 'no transfer_call without a destination')
  assert.equal(update.tool_choice, 'auto')

  const before = rig.responseCreates().length
  const { callId } = await rig.fake.functionCall(rig.conn, { name: 'lookup_order', arguments: '{"order_id":"A-12345"}' })
  await waitFor(() => rig.outputs().length === 1 && rig.responseCreates().length === before + 1, 3000, 'output and response.create')

  assert.equal(hook.received.length, 1)
  const req = hook.received[0]!
  assert.equal(req.headers['x-signature'], `sha256=${createHmac('sha256', secret).update(req.raw).digest('hex')}`)
  assert.equal(req.headers['content-type'], 'application/json')
  assert.deepEqual(req.body.call, { id: rig.uuid, direction: 'inbound', from: '818012345678', to: '815031023332' })
  assert.equal(req.body.name, 'lookup_order')
  assert.deepEqual(req.body.arguments, { order_id: 'A-12345' })
  assert.equal(req.body.call_id, callId)
  assert.ok(Math.abs(req.body.timestamp - Date.now() / 1000) < 60)

  const [out] = rig.outputs()
  assert.equal(out!.callId, callId)
  assert.deepEqual(out!.parsed, { status: 'shipped', eta: '2026-12-01' })
  assert.ok(rig.responseCreates().at(-1)! > out!.index, 'response.create follows the output')
  // The model answers, and the caller hears it.
  const frames = rig.media.frames.length
  await waitFor(() => rig.media.frames.length >= frames + 15, 3000, 'the answer after the tool')
  assert.deepEqual(rig.conn.invalid, [])
  assert.deepEqual(rig.fake.selfInvalid, [])
  assert.ok(!rig.logs.some(l => l.msg === 'realtime error event'))
  assert.ok(rig.logs.some(l => l.msg === 'tool call done' && l.tool === 'lookup_order' && l.callId === rig.uuid))
})

test('unknown tools, malformed and schema-violating arguments are answered to the model; the call goes on', async (t) => {
  const hook = await startFakeWebhook(t)
  const rig = await conversationRig(t, { TOOLS_WEBHOOK_URL: hook.url, TOOLS_WEBHOOK_SECRET: 'x-secret-123456', TOOLS_FILE: './tools.example.json' })
  const cases: Array<[string, string, RegExp]> = [
    ['get_weather', '{"city":"Tokyo"}', /unknown_tool/],
    ['lookup_order', '{"order_id": "A-1', /invalid_arguments.*not valid JSON/],
    ['lookup_order', '{"order_id": 12345}', /invalid_arguments.*order_id must be string/],
    ['lookup_order', '{"order_id": "no spaces allowed"}', /invalid_arguments.*must match pattern/]
  ]
  for (const [name, args, expected] of cases) {
    const n = rig.outputs().length
    const creates = rig.responseCreates().length
    const { callId } = await rig.fake.functionCall(rig.conn, { name, arguments: args })
    await waitFor(() => rig.outputs().length === n + 1 && rig.responseCreates().length === creates + 1, 3000, `answer to ${name} ${args}`)
    const out = rig.outputs()[n]!
    assert.equal(out.callId, callId)
    assert.equal(out.parsed.ok, false)
    assert.match(out.output, expected)
    // Let the model's reply finish before the next call.
    await waitFor(() => rig.logs.filter(l => l.msg === 'tool call failed: the model is told').length === n + 1, 1000)
  }
  assert.equal(hook.received.length, 0, 'nothing invalid reached the webhook')
  assert.equal(rig.app.bridge.sessions.get(rig.uuid)?.ended, false, 'the call is still up')
  const failures = rig.logs.filter(l => l.msg === 'tool call failed: the model is told')
  assert.deepEqual(failures.map(l => l.error), ['unknown_tool', 'invalid_arguments', 'invalid_arguments', 'invalid_arguments'])
  assert.ok(failures.every(l => l.level === 40 && l.callId === rig.uuid))
  assert.deepEqual(rig.conn.invalid, [])
  assert.ok(!rig.logs.some(l => l.msg === 'realtime error event'))
})

test('a tool outliving TOOLS_TIMEOUT_MS: the model is told, the handler aborted, the call goes on', async (t) => {
  const hook = await startFakeWebhook(t)
  hook.reply = () => ({ status: 200, body: { late: true }, delayMs: 3000 })
  const rig = await conversationRig(t, { TOOLS_WEBHOOK_URL: hook.url, TOOLS_WEBHOOK_SECRET: 'x-secret-123456', TOOLS_FILE: './tools.example.json', TOOLS_TIMEOUT_MS: 300 })
  const started = performance.now()
  // book_callback has no timeoutMs of its own: TOOLS_TIMEOUT_MS applies.
  await rig.fake.functionCall(rig.conn, { name: 'book_callback', arguments: '{"date":"2026-12-01","slot":"morning"}' })
  await waitFor(() => rig.outputs().length === 1, 3000, 'the timeout answer')
  const elapsed = performance.now() - started
  assert.ok(elapsed >= 250 && elapsed < 2500, `answered after ${Math.round(elapsed)} ms`)
  assert.equal(rig.outputs()[0]!.parsed.error, 'timeout')
  assert.equal(hook.received.length, 1)
  await waitFor(() => rig.responseCreates().length >= 2, 2000, 'response.create after the timeout')
  assert.equal(rig.app.bridge.sessions.get(rig.uuid)?.ended, false)

  // A built-in module registered at run time times out the same way, and its signal is aborted.
  let signal: AbortSignal | undefined
  rig.app.toolRegistry.add({ name: 'stuck', description: 'never returns', parameters: { type: 'object' }, timeoutMs: 100, handler: async (_a, ctx) => { signal = ctx.signal; return await new Promise(() => {}) } })
  await rig.fake.functionCall(rig.conn, { name: 'stuck', arguments: '{}' })
  await waitFor(() => rig.outputs().length === 2, 3000, 'the second timeout')
  assert.equal(rig.outputs()[1]!.parsed.error, 'timeout')
  assert.equal(signal?.aborted, true)
  assert.deepEqual(rig.conn.invalid, [])
})

test('tool outputs that arrive mid-response wait for response.done: no conversation_already_has_active_response', async (t) => {
  const hook = await startFakeWebhook(t)
  hook.reply = () => ({ status: 200, body: { status: 'shipped' }, delayMs: 100 })
  const rig = await conversationRig(t, { TOOLS_WEBHOOK_URL: hook.url, TOOLS_WEBHOOK_SECRET: 'x-secret-123456', TOOLS_FILE: './tools.example.json' }, { burst: false, paceFactor: 1 })
  const creates = rig.responseCreates().length
  // Two calls in quick succession (answered together), then the caller's turn starts a 1 s response (server VAD) before the webhook replies.
  await rig.fake.functionCall(rig.conn, { name: 'lookup_order', arguments: '{"order_id":"A-1"}', callId: 'call_a' })
  await rig.fake.functionCall(rig.conn, { name: 'lookup_order', arguments: '{"order_id":"A-2"}', callId: 'call_b' })
  const vad = rig.fake.respond(rig.conn, new Int16Array(24000).fill(500))
  await waitFor(() => rig.outputs().length === 2, 3000, 'both outputs')
  assert.equal(rig.responseCreates().length, creates, 'no response.create while the VAD response runs')
  await vad
  await waitFor(() => rig.responseCreates().length === creates + 1, 3000, 'one response.create after response.done')
  await settled(rig.app.bridge.sessions.get(rig.uuid)!, rig.conn)
  assert.equal(rig.responseCreates().length, creates + 1, 'both outputs answered by one response')
  assert.ok(!rig.logs.some(l => l.msg === 'realtime error event'), 'the fake refused no response.create')
  assert.deepEqual(rig.conn.invalid, [])
})
