import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** How long a console login lasts: the cookie's Max-Age and the expiry signed into its value. */
export const SESSION_SECONDS = 7 * 24 * 3600
const PURPOSE = 'console-session-v2'

function mac (key: string, body: string): Buffer {
  return createHmac('sha256', key).update(`${PURPOSE}.${body}`).digest()
}

/**
 * A console session: a random id and its expiry, signed with CONSOLE_KEY.
 * Nothing of the key is in it, every login gets its own value, and a session
 * is valid on every machine that has the same key. Changing CONSOLE_KEY
 * (and restarting) revokes every session at once.
 */
export function issueSession (key: string, nowMs = Date.now()): string {
  const body = `${randomBytes(18).toString('base64url')}.${Math.floor(nowMs / 1000) + SESSION_SECONDS}`
  return `${body}.${mac(key, body).toString('base64url')}`
}

/** Signed with this key and not expired. */
export function sessionValid (key: string, value: string | undefined, nowMs = Date.now()): boolean {
  if (key === '' || value === undefined) return false
  const parts = value.split('.')
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]{24}$/.test(parts[0]!) || !/^\d{1,12}$/.test(parts[1]!)) return false
  const given = Buffer.from(parts[2]!, 'base64url')
  const want = mac(key, `${parts[0]}.${parts[1]}`)
  if (given.length !== want.length || !timingSafeEqual(given, want)) return false
  return Number(parts[1]) * 1000 > nowMs
}
