import { test } from 'node:test'
import assert from 'node:assert/strict'
import { requestSummary, responsesEndpoint, summaryRequest, SummaryError } from '../../../lib/summary/client.js'
import { SUMMARY_JSON_SCHEMA } from '../../../lib/summary/schema.js'
import { startFakeOpenAIRest, strictSchemaProblems, DEFAULT_SUMMARY } from '../../fakes/openai-rest.js'
import { textCost } from '../../../lib/records/prices.js'

const input = { turns: [{ role: 'caller' as const, text: '予約したいです', atMs: 100 }], direction: 'inbound', startedAt: '2026-12-03T05:00:00Z', durationMs: 20_000, endedHow: 'hung up' }

test('the schema is valid for strict Structured Outputs (every object closed, every property required)', () => {
  assert.deepEqual(strictSchemaProblems(SUMMARY_JSON_SCHEMA), [])
  const body = summaryRequest('gpt-5.6-luna', input) as any
  assert.deepEqual(body.text.format.type, 'json_schema')
  assert.equal(body.text.format.strict, true)
  assert.equal(body.store, false)
})

test('Azure: its v1 Responses endpoint with the api-key header; OpenAI: Bearer at OPENAI_BASE_URL', () => {
  assert.deepEqual(responsesEndpoint({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'https://api.openai.com/v1/', AZURE_OPENAI_ENDPOINT: '' }), { url: 'https://api.openai.com/v1/responses', headers: { authorization: 'Bearer k' } })
  assert.deepEqual(responsesEndpoint({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'https://api.openai.com/v1', AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/' }), { url: 'https://res.openai.azure.com/openai/v1/responses', headers: { 'api-key': 'k' } })
})

test('the summary from a Responses object (message after a reasoning item), with its usage priced; failures are SummaryErrors', async (t) => {
  const fake = await startFakeOpenAIRest(t, { apiKey: 'sk-good-0123456789' })
  const settings = { OPENAI_API_KEY: 'sk-good-0123456789', OPENAI_BASE_URL: fake.baseUrl, AZURE_OPENAI_ENDPOINT: '' }
  const s = await requestSummary(settings, 'gpt-5.6-luna', input, AbortSignal.timeout(5000))
  assert.equal(s.request, DEFAULT_SUMMARY.request)
  assert.deepEqual(s.reservation, { date: '2026-12-04', time: '19:00', partySize: 4, name: '田中' })
  assert.ok(s.usage.inputTokens > 0 && s.usage.outputTokens > 0)
  assert.equal(s.costUsd, textCost('gpt-5.6-luna', s.usage))
  assert.deepEqual(fake.invalid, [])

  // Azure's path and header reach the same fake.
  const azure = await requestSummary({ ...settings, AZURE_OPENAI_ENDPOINT: fake.baseUrl.replace(/\/v1$/, '') }, 'my-deployment', input, AbortSignal.timeout(5000))
  assert.equal(azure.model, 'my-deployment')
  assert.equal(fake.requests.at(-1)!.headers['api-key'], 'sk-good-0123456789')

  fake.responsesFailWith = 500
  await assert.rejects(requestSummary(settings, 'gpt-5.6-luna', input, AbortSignal.timeout(5000)), (e: unknown) => e instanceof SummaryError && e.status === 500)
  fake.responsesFailWith = null
  fake.summary = () => ({ request: 'x' })
  await assert.rejects(requestSummary(settings, 'gpt-5.6-luna', input, AbortSignal.timeout(5000)), /does not follow the summary schema/)
  await assert.rejects(requestSummary({ ...settings, OPENAI_API_KEY: 'sk-wrong-0123456789' }, 'gpt-5.6-luna', input, AbortSignal.timeout(5000)), /HTTP 401/)
  fake.routes.set('POST /responses', () => ({ status: 200, body: { status: 'completed', output: [{ type: 'message', content: [{ type: 'refusal', refusal: 'no' }] }] } }))
  await assert.rejects(requestSummary(settings, 'gpt-5.6-luna', input, AbortSignal.timeout(5000)), /refused/)
  fake.routes.set('POST /responses', () => ({ status: 200, body: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [] } }))
  await assert.rejects(requestSummary(settings, 'gpt-5.6-luna', input, AbortSignal.timeout(5000)), /incomplete \(max_output_tokens\)/)
})
