import type { CallSession } from '../call/session.js'

/**
 * Waits, at the answer webhook, for the model session being prepared to open
 * ('ready') or to fail: a refusal known there is answered with the voicemail
 * NCCO at once. A slower outcome is 'pending': the call goes on, and a failure
 * later moves it to voicemail by a transfer.
 */
export async function waitPrepared (session: CallSession, ms: number): Promise<'ready' | 'failed' | 'pending'> {
  return await new Promise(resolve => {
    const done = (v: 'ready' | 'failed' | 'pending'): void => {
      clearTimeout(timer)
      session.off('ready', onReady)
      session.engine.off('failed', onFailed)
      resolve(v)
    }
    const onReady = (): void => done('ready')
    const onFailed = (): void => done('failed')
    const timer = setTimeout(() => done('pending'), ms)
    session.once('ready', onReady)
    session.engine.once('failed', onFailed)
  })
}
