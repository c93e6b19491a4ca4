import type { RawConfig } from '../config/schema.js'

/** 「サービス向上のため、この通話は録音されます。」: the announcement callers in Japan expect before a recorded call. */
export const DEFAULT_RECORDING_NOTICE = 'サービス向上のため、この通話は録音されます。'

export const recordingSettings = {
  RECORDING: { type: 'string', enum: ['off', 'on'], default: 'off', description: 'record calls (both sides, two channels, MP3) into the call store: off or on; when on, callers hear RECORDING_NOTICE first' },
  RECORDING_NOTICE: { type: 'string', default: DEFAULT_RECORDING_NOTICE, description: 'what Vonage says before the AI answers when RECORDING=on (before GREETING_TEXT)' },
  RECORDING_RETENTION_DAYS: { type: 'integer', minimum: 1, maximum: 36500, default: 90, description: 'days a call\'s recording is kept before it is purged (the call\'s text follows CALL_RETENTION_DAYS)' }
} as const

/** What JSON schema cannot say: a recording needs a store to live in, and callers must be told. */
export function checkRecordingSettings (raw: RawConfig): string[] {
  if (raw.RECORDING !== 'on') return []
  const problems: string[] = []
  if (raw.DATA_DIR === '' && raw.DATABASE_URL === '') {
    problems.push('RECORDING=on needs a call store to keep recordings in — set DATA_DIR (e.g. ./data) or DATABASE_URL, or set RECORDING=off')
  }
  if (raw.RECORDING_NOTICE.trim() === '') {
    problems.push(`RECORDING_NOTICE is empty while RECORDING=on — callers must be told the call is recorded; write e.g. RECORDING_NOTICE=${DEFAULT_RECORDING_NOTICE}`)
  }
  return problems
}
