import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build } from '../../helpers/build.js'
import { APP_ID, privateKey } from '../../helpers/keys.js'
import { bearerFor, TEST_SIGNATURE_SECRET, vonageHeaders } from '../../helpers/vonage-sign.js'
import { WarmTransfer } from '../../../lib/transfer/warm-transfer.js'

const SECRET = 'sig-secret-0123456789abcdef0123456789'

/**
 * A stranger who knows the host must not join a caller by posting "1" to a
 * staff-leg URL: the request must be signed by Vonage AND name a transfer in
 * progress (its unguessable token) AND come from that transfer's staff leg.
 */
test('staff-leg webhooks: unsigned refused, unknown token or another leg refused, only the signed staff leg decides', async (t) => {
  const { app } = await build(t, { VONAGE_SIGNATURE_SECRET: SECRET, VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: privateKey })
  const transfer = new WarmTransfer('caller-leg', '+81312345678', '+*******5678', 'briefing')
  transfer.staffUuid = 'staff-leg'
  app.transfers.byToken.set(transfer.token, transfer)
  t.after(() => app.transfers.byToken.delete(transfer.token))
  const post = async (path: string, body: Record<string, unknown>, signed: boolean) => {
    const payload = JSON.stringify(body)
    return await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', ...(signed ? { authorization: bearerFor(payload, SECRET, { application_id: APP_ID }) } : {}) }, payload })
  }
  const press1 = { uuid: 'staff-leg', dtmf: { digits: '1', timed_out: false } }
  const input = `/transfer/${transfer.token}/input`

  assert.equal((await post(input, press1, false)).statusCode, 503, 'unsigned, even with the right token')
  assert.equal((await post(`/transfer/${'A'.repeat(32)}/input`, press1, true)).statusCode, 404, 'a guessed token')
  assert.equal((await post(input, { ...press1, uuid: 'someone-else' }, true)).statusCode, 404, 'another leg')
  assert.equal((await post(`/transfer/${transfer.token}/event`, { uuid: 'staff-leg', status: 'machine' }, false)).statusCode, 503)
  assert.equal(transfer.decision, null, 'nothing above decided anything')

  const res = await post(input, press1, true)
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().at(-1).name, transfer.room)
  assert.deepEqual(transfer.decision, { state: 'accepted', detail: 'key-1' })
})

test('on Fly, a staff-leg webhook that reached another machine is replayed to the one holding the transfer', async (t) => {
  const { app } = await build(t, { FLY_MACHINE_ID: '3d8d9e1b2c4f87', VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: privateKey })
  const res = await app.inject({ method: 'POST', url: '/transfer/abc/input?m=1234abcd5678ef', payload: { uuid: 'x', dtmf: { digits: '1' } } })
  assert.equal(res.statusCode, 409)
  assert.equal(res.headers['fly-replay'], 'instance=1234abcd5678ef')
  // Here, the webhook is checked like any other Vonage webhook first (no signature secret: refused), then its transfer.
  const here = await app.inject({ method: 'POST', url: '/transfer/abc/input?m=3d8d9e1b2c4f87', payload: { uuid: 'x', dtmf: { digits: '1' } } })
  assert.equal(here.statusCode, 403, 'served here: unsigned, refused')
  const signed = await build(t, { FLY_MACHINE_ID: '3d8d9e1b2c4f87', VONAGE_APPLICATION_ID: APP_ID, VONAGE_PRIVATE_KEY: privateKey, VONAGE_SIGNATURE_SECRET: TEST_SIGNATURE_SECRET })
  const payload = JSON.stringify({ uuid: 'x', dtmf: { digits: '1' } })
  const known = await signed.app.inject({ method: 'POST', url: '/transfer/abc/input?m=3d8d9e1b2c4f87', headers: vonageHeaders(payload), payload })
  assert.equal(known.statusCode, 404, 'served here, signed: no such transfer')
})
