import { test } from 'node:test'
import assert from 'node:assert/strict'
import { recordingUrlAllowed } from '../../../lib/voicemail/recording-host.js'

test('recording URLs are fetched only from the Vonage API host', () => {
  const api = 'https://api.nexmo.com'
  assert.equal(recordingUrlAllowed('https://api.nexmo.com/v1/files/aaaa-bbbb', api), true)
  assert.equal(recordingUrlAllowed('https://api-us.vonage.com/v1/files/aaaa', api), true, 'Vonage\'s regional API hosts')
  assert.equal(recordingUrlAllowed('https://api-ap-3.vonage.com/v1/files/aaaa', api), true)
  for (const bad of [
    'https://evil.example/v1/files/a',
    'http://api.nexmo.com/v1/files/a',
    'https://api.nexmo.com.evil.example/v1/files/a',
    'https://api.nexmo.com:8443/v1/files/a',
    'https://user:pw@api.nexmo.com/v1/files/a',
    'https://dashboard.nexmo.com/v1/files/a',
    'https://apiXnexmo.com/a',
    'not a url',
    ''
  ]) assert.equal(recordingUrlAllowed(bad, api), false, bad)
})

test('a VONAGE_API_HOST of our own (a proxy, a test fake) allows its exact origin only', () => {
  const api = 'http://127.0.0.1:4010'
  assert.equal(recordingUrlAllowed('http://127.0.0.1:4010/v1/files/a', api), true)
  assert.equal(recordingUrlAllowed('http://127.0.0.1:4011/v1/files/a', api), false)
  assert.equal(recordingUrlAllowed('https://api.nexmo.com/v1/files/a', api), false, 'no Vonage host when the API host is not Vonage\'s')
})

test('transcriptions go to OpenAI with a Bearer key, or to Azure OpenAI\'s v1 API with api-key', async () => {
  const { transcriptionEndpoint } = await import('../../../lib/voicemail/transcribe.js')
  assert.deepEqual(transcriptionEndpoint({ OPENAI_BASE_URL: 'https://api.openai.com/v1', AZURE_OPENAI_ENDPOINT: '', OPENAI_API_KEY: 'sk-x' }),
    { baseUrl: 'https://api.openai.com/v1', auth: { authorization: 'Bearer sk-x' } })
  assert.deepEqual(transcriptionEndpoint({ OPENAI_BASE_URL: 'https://api.openai.com/v1', AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/', OPENAI_API_KEY: 'az' }),
    { baseUrl: 'https://res.openai.azure.com/openai/v1', auth: { 'api-key': 'az' } })
})
