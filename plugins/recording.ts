import fp from 'fastify-plugin'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import type { FastifyInstance } from 'fastify'
import type { CallSession } from '../lib/call/session.js'
import { Recordings } from '../lib/recording/recordings.js'

export interface RecordingHandle {
  /** RECORDING=on (and a call store to keep them in). */
  enabled: boolean
  /** null when recording is off. */
  recordings: Recordings | null
}

declare module 'fastify' {
  interface FastifyInstance {
    recording: RecordingHandle
  }
}

/** How long a shutdown waits for the recordings of the calls it ended; what is left is stored at the next start. */
const CLOSE_WAIT_MS = 20_000

/**
 * Call recording (RECORDING=on): every phone call's two sides, as the caller
 * heard them, into the call store as MP3. The notice callers hear first is
 * part of the answer NCCO (routes/ncco.ts). The softphone (the owner trying
 * the AI in a browser) is not recorded.
 */
async function recordingPlugin (fastify: FastifyInstance): Promise<void> {
  const cfg = fastify.config
  const enabled = cfg.RECORDING === 'on' && fastify.callStore.enabled
  if (!enabled) {
    fastify.decorate('recording', { enabled: false, recordings: null })
    return
  }
  const log = fastify.log.child({ component: 'recording' })
  // Beside the embedded database when there is one (a restart finds what a crash left); else a folder of this process.
  const spoolDir = cfg.DATA_DIR !== '' ? join(cfg.DATA_DIR, 'recording-spool') : join(tmpdir(), `call-recording-spool-${process.pid}`)
  const recordings = new Recordings({ spoolDir, rate: cfg.VONAGE_AUDIO_RATE, leadMs: cfg.PLAYBACK_LEAD_MS, db: () => fastify.callStore.db(), log })
  fastify.bridge.onSession.add((session: CallSession) => {
    if (session.call.direction === 'softphone') return
    recordings.watch(session)
  })
  void fastify.callStore.opened.then((db) => {
    if (db === null) return
    const recovered = recordings.recover()
    if (recovered > 0) log.info({ recovered }, 'recordings left by the previous run: storing them now')
  })
  fastify.decorate('recording', { enabled, recordings })
  fastify.addHook('onClose', async () => {
    // The calls are ended by the bridge's own onClose; their recordings are stored before the store closes.
    for (const s of fastify.bridge.sessions.values()) s.end('shutdown')
    await recordings.close(CLOSE_WAIT_MS)
  })
}

export default fp(recordingPlugin, { name: 'recording', dependencies: ['config', 'bridge', 'call-store'] })
