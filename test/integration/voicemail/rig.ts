import type { TestContext } from 'node:test'
import { callRig, type CallRig } from '../../helpers/call-rig.js'
import { startFakeVonage, type FakeVonage } from '../../fakes/vonage-rest.js'
import { fakeTranscriptions, type FakeTranscriptions } from '../../fakes/openai-transcriptions.js'
import { APP_ID, privateKey, publicKey } from '../../helpers/keys.js'
import { embeddedDataDir } from '../records/store-backends.js'
import { baseEnv } from '../../helpers/build.js'

export const CALLER = '819012345678'
export const MESSAGE = '山田です。明日の予約を変更したいので、折り返しお電話ください。'
export const KEY = 'console-key-0123456789abcdef'

export interface VoicemailRig extends CallRig {
  vonage: FakeVonage
  stt: FakeTranscriptions
}

export async function voicemailRig (t: TestContext, env: Record<string, string | number> = {}, refuse?: number): Promise<VoicemailRig> {
  const vonage = await startFakeVonage({ publicKey, applicationId: APP_ID })
  t.after(() => vonage.close())
  const stt = fakeTranscriptions({ apiKey: baseEnv.OPENAI_API_KEY, text: MESSAGE, models: ['gpt-transcribe'] })
  const rig = await callRig(t, {
    VONAGE_APPLICATION_ID: APP_ID,
    VONAGE_PRIVATE_KEY: privateKey,
    VONAGE_API_HOST: vonage.url,
    DATA_DIR: await embeddedDataDir(t),
    CONSOLE_KEY: KEY,
    ...env
  }, { http: stt.handle, ...(refuse !== undefined ? { refuse } : {}) })
  await rig.app.callStore.opened
  return { ...rig, vonage, stt }
}
