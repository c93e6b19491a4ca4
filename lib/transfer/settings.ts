import type { RawConfig } from '../config/schema.js'

/** Warm transfer (issue #23): how long the staff phone rings. */
export const transferSettings = {
  TRANSFER_RING_SECONDS: { type: 'integer', minimum: 5, maximum: 120, default: 20, description: 'how long the staff phone rings on a transfer before the assistant takes the caller back and takes a message, in seconds (5-120)' }
} as const

export function checkTransferSettings (_raw: RawConfig): string[] {
  return []
}
