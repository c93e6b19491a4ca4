import cluster, { type Worker } from 'node:cluster'
import { createServer, type Socket } from 'node:net'
import { existsSync, readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { configSchema, envFilePath } from './config.js'

/**
 * WEB_CONCURRENCY > 1: a primary process owns the port and hands each new
 * connection to one of N workers, each running the whole app.
 *
 * A call lives in one process: the answer webhook opens the model's socket
 * there ("prewarm"), and Vonage's media socket must reach the same worker or
 * that socket is wasted. So the primary reads the request line of each new
 * connection: a `/media?token=…` upgrade goes to the worker that announced the
 * token's call, anything else round-robin. (Should a media socket still land
 * elsewhere — a proxy reusing a connection — that worker rebuilds the session
 * from the token as any instance can, and the primary tells the first one to
 * drop its unused one.) Call events (/event "completed") reach the call's
 * worker the same way, through the primary.
 *
 * MAX_CONCURRENT_CALLS stays the total: each worker admits its share.
 */

type ToPrimary =
  | { t: 'bridge:ready' }
  | { t: 'bridge:own', c: string }
  | { t: 'bridge:disown', c: string }
  | { t: 'bridge:end', c: string, reason: EndCallReason }

type ToWorker =
  | { t: 'bridge:conn', head: string }
  | { t: 'bridge:end', c: string, reason: EndCallReason }
  | { t: 'bridge:moved', c: string }
  | { t: 'bridge:shutdown' }

type EndCallReason = 'caller-hangup' | 'ended'

/** A setting as the app will see it: the environment first, then .env. */
function setting (name: string): string | undefined {
  if (process.env[name] !== undefined) return process.env[name]
  try {
    const file = envFilePath()
    if (existsSync(file)) return parseEnv(readFileSync(file, 'utf8'))[name]
  } catch { /* the app reports a broken .env itself */ }
  return undefined
}

/** Worker processes wanted (WEB_CONCURRENCY); 1 when unset or invalid (the app then reports it). */
export function webConcurrency (): number {
  const raw = setting('WEB_CONCURRENCY')
  const n = raw === undefined ? 1 : Number(raw)
  return Number.isInteger(n) && n >= 1 && n <= configSchema.properties.WEB_CONCURRENCY.maximum ? n : 1
}

/** Where and how loudly the primary runs: the same settings the app reads, checked loosely (the workers check them properly). */
export function primarySettings (): { port: number, host: string, logLevel: string } {
  const port = Number(setting('PORT') ?? configSchema.properties.PORT.default)
  const level = setting('LOG_LEVEL') ?? configSchema.properties.LOG_LEVEL.default
  return {
    port: Number.isInteger(port) && port >= 1 && port <= 65535 ? port : configSchema.properties.PORT.default,
    host: setting('HOST') ?? configSchema.properties.HOST.default,
    logLevel: (configSchema.properties.LOG_LEVEL.enum as readonly string[]).includes(level) ? level : 'info'
  }
}

/** The call id inside a media URL's token (base64url JSON before the dot), unverified: only to route. */
export function mediaCallId (head: Buffer): string | null {
  const line = head.toString('latin1', 0, Math.min(head.length, 8192)).split('\r\n', 1)[0] ?? ''
  const m = /^GET (\/media\?[^ ]*) HTTP\//.exec(line)
  if (m === null) return null
  try {
    const token = new URL(m[1]!, 'http://x').searchParams.get('token') ?? ''
    const payload = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { c?: unknown }
    return typeof payload.c === 'string' ? payload.c : null
  } catch {
    return null
  }
}

export interface PrimaryOptions {
  workers: number
  port: number
  host: string
  log: Logger
}

export async function runPrimary (o: PrimaryOptions): Promise<void> {
  const { log } = o
  const owners = new Map<string, Worker>()
  const ready = new Set<Worker>()
  let next = 0
  let shuttingDown = false
  let listening = false

  // The total call limit, split so that the workers together admit no more.
  const maxRaw = setting('MAX_CONCURRENT_CALLS')
  const max = maxRaw === undefined ? configSchema.properties.MAX_CONCURRENT_CALLS.default : Number(maxRaw)
  const workers = Number.isInteger(max) && max >= 1 ? Math.min(o.workers, max) : o.workers
  const share = (i: number): string | undefined =>
    Number.isInteger(max) && max >= 1 ? String(Math.floor(max / workers) + (i < max % workers ? 1 : 0)) : maxRaw

  const send = (w: Worker, m: ToWorker, handle?: Socket): void => {
    if (!w.isConnected()) { handle?.destroy(); return }
    if (handle === undefined) w.send(m)
    else w.send(m, handle, (err: Error | null) => { if (err !== null) handle.destroy() })
  }

  const fork = (i: number): void => {
    const env: Record<string, string> = { BRIDGE_WORKER_INDEX: String(i) }
    const s = share(i)
    if (s !== undefined) env.MAX_CONCURRENT_CALLS = s
    const w = cluster.fork(env)
    const startedAt = Date.now()
    w.on('message', (m: ToPrimary) => {
      switch (m?.t) {
        case 'bridge:ready':
          ready.add(w)
          if (!listening && ready.size === workers) void listen()
          break
        case 'bridge:own': {
          const prev = owners.get(m.c)
          if (prev !== undefined && prev !== w) send(prev, { t: 'bridge:moved', c: m.c })
          owners.set(m.c, w)
          break
        }
        case 'bridge:disown':
          if (owners.get(m.c) === w) owners.delete(m.c)
          break
        case 'bridge:end': {
          const owner = owners.get(m.c)
          if (owner !== undefined && owner !== w) send(owner, { t: 'bridge:end', c: m.c, reason: m.reason })
          break
        }
      }
    })
    w.on('exit', (code, signal) => {
      ready.delete(w)
      for (const [c, owner] of owners) if (owner === w) owners.delete(c)
      if (shuttingDown) {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          log.info('all workers have finished: exiting')
          server.close()
          process.exit(0)
        }
        return
      }
      if (!listening || Date.now() - startedAt < 5000) {
        // A worker that cannot start (bad configuration) will not start on a retry either.
        log.error({ worker: i, code, signal }, 'a worker exited while starting: stopping')
        process.exitCode = code ?? 1
        shutdown('SIGTERM')
        return
      }
      log.error({ worker: i, code, signal, callsLost: 'its calls in progress' }, 'a worker died: starting a new one')
      fork(i)
    })
  }

  const pick = (head: Buffer): Worker | undefined => {
    const call = mediaCallId(head)
    const owner = call === null ? undefined : owners.get(call)
    if (owner !== undefined && ready.has(owner)) return owner
    const live = [...ready]
    if (live.length === 0) return undefined
    return live[next++ % live.length]
  }

  // Reads a new connection up to the end of its request line, then hands it over with those bytes.
  const route = (socket: Socket): void => {
    let head: Buffer = Buffer.alloc(0)
    const done = (): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.pause()
      // No more reads here: anything past `head` must reach the worker, not this process.
      ;(socket as unknown as { _handle?: { readStop?: () => void } })._handle?.readStop?.()
      const w = pick(head)
      if (w === undefined) { socket.destroy(); return }
      send(w, { t: 'bridge:conn', head: head.toString('base64') }, socket)
    }
    const onData = (d: Buffer): void => {
      head = head.length === 0 ? d : Buffer.concat([head, d])
      if (head.includes('\r\n') || head.length >= 8192) done()
    }
    const timer = setTimeout(done, 2000)
    socket.on('data', onData)
    socket.on('error', () => socket.destroy())
    socket.resume()
  }

  const server = createServer({ pauseOnConnect: true }, route)

  async function listen (): Promise<void> {
    listening = true
    server.listen(o.port, o.host)
    await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject) })
      .catch((err: Error) => { log.error({ err }, 'cannot listen'); process.exitCode = 1; shutdown('SIGTERM') })
    const a = server.address()
    if (a !== null && typeof a === 'object') log.info({ workers, pid: process.pid }, `Server listening at http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`)
  }

  function shutdown (signal: NodeJS.Signals): void {
    if (shuttingDown) {
      log.error({ signal }, 'second signal: stopping the workers now')
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL')
      process.exit(1)
    }
    shuttingDown = true
    log.info({ signal, workers: ready.size }, 'shutting down: the workers drain their calls')
    // New connections still reach the draining workers, which answer new calls with the closing message.
    for (const w of Object.values(cluster.workers ?? {})) if (w !== undefined) send(w, { t: 'bridge:shutdown' })
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit()
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)

  log.info({ workers, maxConcurrentCalls: maxRaw ?? max }, 'starting workers')
  for (let i = 0; i < workers; i++) fork(i)
}

/**
 * In a worker: serve the connections the primary hands over, tell it which
 * calls live here, and pass on call events for calls that live elsewhere.
 * `close` starts the graceful shutdown (the same as a SIGTERM would).
 */
export function attachWorker (app: FastifyInstance, close: () => void): void {
  const bridge = app.bridge
  const toPrimary = (m: ToPrimary): void => { if (process.connected) process.send!(m) }

  bridge.onSession.add(session => {
    toPrimary({ t: 'bridge:own', c: session.id })
    session.once('end', () => toPrimary({ t: 'bridge:disown', c: session.id }))
  })
  const endLocal = bridge.endCall
  bridge.endCall = (id, reason) => {
    if (bridge.sessions.has(id)) endLocal(id, reason)
    else toPrimary({ t: 'bridge:end', c: id, reason })
  }

  process.on('message', (m: ToWorker, handle?: unknown) => {
    switch (m?.t) {
      case 'bridge:conn': {
        const socket = handle as Socket | undefined
        if (socket === undefined) return
        app.server.emit('connection', socket)
        socket.emit('data', Buffer.from(m.head, 'base64'))
        socket.resume()
        break
      }
      case 'bridge:end':
        endLocal(m.c, m.reason)
        break
      case 'bridge:moved': {
        const s = bridge.sessions.get(m.c)
        // Only a session still waiting for its media socket is a spare.
        if (s !== undefined && !s.mediaAttached) {
          app.log.info({ callId: m.c }, 'the call\'s media socket reached another worker: closing this one\'s unused model socket')
          s.end('ended')
        }
        break
      }
      case 'bridge:shutdown':
        close()
        break
    }
  })
  toPrimary({ t: 'bridge:ready' })
}
