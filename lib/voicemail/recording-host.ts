/**
 * Which recording URLs we fetch with the application's JWT. A recording event
 * names its own URL; a forged one must not make us send the JWT (and ask)
 * anywhere else. Allowed: the exact origin of VONAGE_API_HOST, and, when that
 * is Vonage's own API (https on vonage.com / nexmo.com), Vonage's API hosts
 * (api.nexmo.com, api-us.vonage.com, api-ap-3.vonage.com, …), since Vonage
 * gives recording URLs on the region that handled the call.
 */
const VONAGE_API_HOSTNAME = /^api(-[a-z0-9]+)*\.(vonage|nexmo)\.com$/

function vonageApi (u: URL): boolean {
  return u.protocol === 'https:' && u.port === '' && VONAGE_API_HOSTNAME.test(u.hostname)
}

export function recordingUrlAllowed (recordingUrl: string, apiHost: string): boolean {
  let u: URL
  let api: URL
  try {
    u = new URL(recordingUrl)
    api = new URL(apiHost)
  } catch {
    return false
  }
  if (u.username !== '' || u.password !== '') return false
  if (u.origin === api.origin) return true
  return vonageApi(api) && vonageApi(u)
}
