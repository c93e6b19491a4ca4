import { test } from 'node:test'
import assert from 'node:assert/strict'
import { callRig } from '../../helpers/call-rig.js'
import { waitFor } from '../../fakes/realtime-server.js'
import { deriveTokenKey } from '../../../lib/security/tokens.js'
import { encodeOutboundContext, OUTBOUND_CONTEXT_PURPOSE } from '../../../lib/vonage/outbound-context.js'

const INBOUND_GREETING = 'お電話ありがとうございます。AIアシスタントにおつなぎします。'

async function outboundAnswer (env: Record<string, string>, t: Parameters<typeof callRig>[0]) {
  const rig = await callRig(t, env)
  const key = deriveTokenKey(rig.app.config.MEDIA_TOKEN_SECRET, rig.app.config.OPENAI_API_KEY, OUTBOUND_CONTEXT_PURPOSE)
  const ctx = encodeOutboundContext({ reason: '予約日の確認' }, key, 600)
  const next = rig.fake.nextConnection()
  const ncco = await rig.answer({ uuid: `out-${Math.random()}`, from: '815031023332', to: '818012345678' }, `/answer?ctx=${ctx}`)
  const conn = await next
  await waitFor(() => conn.events.some(e => e.type === 'session.update'), 3000, 'session.update')
  const instructions = String((conn.events.find(e => e.type === 'session.update')!.session as { instructions: string }).instructions)
  return { rig, ncco, instructions }
}

test('an outbound call is not greeted with the inbound greeting, and the model is told we called them', async (t) => {
  const { rig, ncco, instructions } = await outboundAnswer({}, t)
  assert.equal(rig.app.config.GREETING_TEXT, INBOUND_GREETING)
  assert.deepEqual(ncco.map(a => a.action), ['connect'], 'no talk: the assistant speaks first')
  assert.ok(!JSON.stringify(ncco).includes('お電話ありがとうございます'))
  assert.match(instructions, /こちらから相手に電話をかけています。.*「お電話ありがとうございます」とは言わないでください。/)
  assert.match(instructions, /この電話の用件 \/ context: \{"reason":"予約日の確認"\}/)

  // The inbound greeting is untouched.
  const inbound = await rig.answer({ uuid: 'in-1' })
  assert.deepEqual(inbound[0], { action: 'talk', text: INBOUND_GREETING, language: 'ja-JP', premium: false })
})

test('OUTBOUND_GREETING_TEXT, when set, is what the person we call hears first', async (t) => {
  const { ncco, instructions } = await outboundAnswer({ OUTBOUND_GREETING_TEXT: 'こちらは山田歯科です。' }, t)
  assert.deepEqual(ncco[0], { action: 'talk', text: 'こちらは山田歯科です。', language: 'ja-JP', premium: false })
  assert.equal(ncco[1]!.action, 'connect')
  assert.doesNotMatch(instructions, /着信（相手からの電話）/)
})
