import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Who may use the browser softphone. Every softphone call opens a paid model
 * session, so a server reachable from the internet must not hand them out to
 * strangers; a newcomer on their own machine should not need a key either.
 */
export type SoftphoneMode = 'auto' | 'true' | 'false'

export interface RequestFacts {
  /** Address of the TCP peer (the socket's, never X-Forwarded-For). */
  peer: string | undefined
  /** The Host header as sent. */
  host: string | undefined
  headers: Record<string, string | string[] | undefined>
  /** HTTP version of the request, e.g. '1.1' (request.raw.httpVersion). */
  httpVersion: string
}

export type Access =
  | { ok: true, via: 'enabled' | 'local' | 'key' }
  | { ok: false, status: 401 | 404, message: string }

/** Headers that tunnels, CDNs and reverse proxies add: such a request came from elsewhere, whatever its socket says. */
const FORWARDING_HEADERS = new Set([
  'via', 'forwarded', 'x-real-ip', 'x-client-ip', 'x-cluster-client-ip', 'x-original-forwarded-for', 'x-envoy-external-address',
  'cf-connecting-ip', 'cf-ray', 'true-client-ip', 'fly-client-ip', 'fly-request-id', 'x-azure-clientip', 'fastly-client-ip', 'akamai-origin-hop'
])

/** Any forwarding header, including every X-Forwarded-* (For, Host, Proto, Port, Server, Prefix, ...). */
export function hasProxyHeader (headers: Record<string, string | string[] | undefined>): boolean {
  for (const name of Object.keys(headers)) {
    if (headers[name] === undefined) continue
    const n = name.toLowerCase()
    if (FORWARDING_HEADERS.has(n) || n.startsWith('x-forwarded-') || n.startsWith('x-ngrok')) return true
  }
  return false
}

export function isLoopbackAddress (address: string | undefined): boolean {
  if (address === undefined) return false
  const a = address.toLowerCase().replace(/^::ffff:/, '')
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)
}

/** `localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
export function isLoopbackHost (host: string | undefined): boolean {
  if (host === undefined) return false
  const h = host.toLowerCase()
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d+$/, '')
  return name === 'localhost' || isLoopbackAddress(name)
}

/**
 * A request typed into a browser on this machine: loopback peer, a loopback
 * name in Host, and no proxy in between. A tunnel (ngrok, cloudflared, a
 * local reverse proxy) connects from loopback too, but adds forwarding headers
 * and/or passes on its public host name; a DNS-rebinding page carries its
 * own name in Host. nginx's plain `proxy_pass` adds no header but speaks
 * HTTP/1.0 upstream, which no current browser does. A proxy that hides all of
 * these cannot be told apart: behind one, set SOFTPHONE_KEY (docs/security.md).
 */
export function isLocalRequest (r: RequestFacts): boolean {
  if (!isLoopbackAddress(r.peer) || !isLoopbackHost(r.host)) return false
  // Browsers speak HTTP/1.1 or later; HTTP/1.0 on loopback is a proxy (nginx's default proxy_pass).
  if (r.httpVersion !== '1.1' && r.httpVersion !== '2.0') return false
  return !hasProxyHeader(r.headers)
}

/**
 * The one rule of the keyless "this machine" mode, for the softphone and the
 * console alike: it exists only while no key at all is set (CONSOLE_KEY,
 * SOFTPHONE_KEY), and then only for a request isLocalRequest() accepts. Once
 * the owner sets a key, a same-host proxy that adds no header (and so looks
 * like a browser on this machine) gets nothing without the key.
 */
export function keylessLocal (r: RequestFacts, anyKeySet: boolean): boolean {
  return !anyKeySet && isLocalRequest(r)
}

/** The facts of a Fastify request: the socket's own peer (request.ip follows X-Forwarded-For, which anyone can write). */
export function requestFacts (r: { raw: { socket: { remoteAddress?: string }, httpVersion: string }, headers: Record<string, string | string[] | undefined> }): RequestFacts {
  const host = r.headers.host
  return { peer: r.raw.socket.remoteAddress, host: typeof host === 'string' ? host : undefined, headers: r.headers, httpVersion: r.raw.httpVersion }
}

/** Constant-time comparison; hashing first makes the lengths equal. */
export function keyMatches (given: string | undefined, expected: string): boolean {
  if (expected === '' || given === undefined || given === '') return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export interface AccessPolicy {
  mode: SoftphoneMode
  /** SOFTPHONE_KEY; '' = none configured. */
  key: string
}

const HOW_TO_ENABLE = 'Without a key it is open only to a browser on the server\'s own machine (http://localhost:<PORT>/softphone, no proxy or tunnel in between). ' +
  'To use it from elsewhere set SOFTPHONE_KEY to a long random string (e.g. `openssl rand -hex 16`) and open /softphone?key=<that string>; ' +
  'SOFTPHONE_ENABLED=true (and no SOFTPHONE_KEY) opens it to anyone who can reach the server.'

/**
 * The decision for one request. `given` is the key the request carries, if
 * any; `undefined` for the page's static files, which hold nothing secret and
 * are only hidden when the softphone is off for this request.
 */
export function softphoneAccess (p: AccessPolicy, local: boolean, given: string | undefined): Access {
  if (p.mode === 'false') return { ok: false, status: 404, message: 'The browser softphone is turned off on this server (SOFTPHONE_ENABLED=false). Set SOFTPHONE_ENABLED=auto to turn it on. ' + HOW_TO_ENABLE }
  // A set key is always required, whatever the mode and wherever the request seems to come from.
  if (p.key !== '') {
    if (keyMatches(given, p.key)) return { ok: true, via: 'key' }
    return { ok: false, status: 401, message: 'The browser softphone needs the key from this server\'s SOFTPHONE_KEY: open /softphone?key=<SOFTPHONE_KEY> (the page sends it on as the X-Softphone-Key header).' }
  }
  if (p.mode === 'true') return { ok: true, via: 'enabled' }
  if (local) return { ok: true, via: 'local' }
  return { ok: false, status: 404, message: 'The browser softphone is off for this request: no SOFTPHONE_KEY is set, and without one it opens only to a browser on this machine (and not at all once CONSOLE_KEY is set). ' + HOW_TO_ENABLE }
}

/** Whether a browser's Origin header names the host the request came to (a same-site page, not another site's). */
export function sameHost (origin: string, host: string): boolean {
  try {
    const o = new URL(origin)
    return o.host === new URL(`${o.protocol}//${host}`).host
  } catch {
    return false
  }
}
