import type { RawConfig } from '../config/schema.js'

/**
 * Settings of the exposure guards (issue #21). Both defaults are the closed
 * ones: unsigned webhooks are refused, and the metrics port answers on this
 * machine only.
 */
export const securitySettings = {
  ALLOW_UNSIGNED_WEBHOOKS: { type: 'boolean', default: false, description: 'true = accept Vonage webhooks without a signature while VONAGE_SIGNATURE_SECRET is unset (experiments only: anyone who knows the URLs can start paid model sessions); false = refuse them' },
  METRICS_HOST: { type: 'string', default: '127.0.0.1', description: 'address the metrics port (METRICS_PORT) listens on: 127.0.0.1 = this machine only; fly-local-6pn or :: on Fly.io (its scraper comes over the private network); 0.0.0.0 = every interface, unauthenticated' }
} as const

const IP_OR_NAME = /^[a-z0-9.:[\]-]+$/i

export function checkSecuritySettings (raw: RawConfig): string[] {
  const problems: string[] = []
  const host = raw.METRICS_HOST
  if (host === '' || !IP_OR_NAME.test(host)) problems.push(`METRICS_HOST is malformed ("${host}") — expected an address such as 127.0.0.1 (this machine only), :: or fly-local-6pn (Fly.io's private network)`)
  return problems
}

/** Whether an address to listen on is reachable from other machines (anything but loopback). */
export function isPublicBind (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return !(h === 'localhost' || h === '::1' || /^127\./.test(h))
}
