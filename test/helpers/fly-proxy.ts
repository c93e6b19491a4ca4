import http from 'node:http'
import type { Duplex } from 'node:stream'
import { once } from 'node:events'
import { closeServer } from './http-server.js'

/**
 * A test-only stand-in for Fly's proxy, honouring `fly-replay` as Fly
 * documents it (https://fly.io/docs/networking/dynamic-request-routing/):
 * when a machine's response carries `fly-replay: instance=<id>`, the original
 * request (WebSocket upgrades included) is delivered again to that machine,
 * with `fly-replay-src: instance=<sender>;region=<r>;t=<µs>` added, and the
 * client never sees the replay response. Which machine gets a request first
 * is the test's choice (`route`), as Fly's load balancing would be.
 */
export interface Replay { path: string, from: string, to: string, upgrade: boolean }

export interface FlyProxy {
  port: number
  /** Machine id → port; fill in once the machines listen. */
  machines: Map<string, number>
  replays: Replay[]
  close: () => Promise<void>
}

const REGION = 'nrt'

function replayTarget (header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined) return null
  for (const field of value.split(';')) {
    const [k, v] = field.trim().split('=')
    if (k === 'instance' && v !== undefined && v !== '') return v
  }
  return null
}

function srcHeader (from: string): string {
  return `instance=${from};region=${REGION};t=${Date.now() * 1000}`
}

export async function startFlyProxy (route: (req: http.IncomingMessage) => string): Promise<FlyProxy> {
  const machines = new Map<string, number>()
  const replays: Replay[] = []
  const sockets = new Set<Duplex>()

  function portOf (id: string): number {
    const port = machines.get(id)
    if (port === undefined) throw new Error(`fly-proxy: no machine ${id}`)
    return port
  }

  function forward (req: http.IncomingMessage, body: Buffer, machine: string, extra: Record<string, string>): http.ClientRequest {
    return http.request({ host: '127.0.0.1', port: portOf(machine), method: req.method, path: req.url, agent: false, headers: { ...req.headers, ...extra } })
  }

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    req.on('end', () => {
      const body = Buffer.concat(parts)
      const send = (machine: string, extra: Record<string, string>): void => {
        const up = forward(req, body, machine, extra)
        up.on('response', (upRes) => {
          const target = replayTarget(upRes.headers['fly-replay'])
          if (target !== null && extra['fly-replay-src'] === undefined) {
            upRes.resume()
            replays.push({ path: req.url ?? '', from: machine, to: target, upgrade: false })
            send(target, { 'fly-replay-src': srcHeader(machine) })
            return
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers)
          upRes.pipe(res)
        })
        up.on('error', () => { res.writeHead(502).end() })
        up.end(body)
      }
      send(route(req), {})
    })
  })

  server.on('upgrade', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    const send = (machine: string, extra: Record<string, string>): void => {
      const up = forward(req, Buffer.alloc(0), machine, extra)
      up.on('upgrade', (upRes, upSocket, upHead) => {
        sockets.add(upSocket)
        upSocket.on('close', () => sockets.delete(upSocket))
        const lines = [`HTTP/1.1 101 ${upRes.statusMessage ?? 'Switching Protocols'}`]
        for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`)
        client.write(lines.join('\r\n') + '\r\n\r\n')
        if (upHead.length > 0) client.write(upHead)
        if (head.length > 0) upSocket.write(head)
        upSocket.pipe(client)
        client.pipe(upSocket)
        upSocket.on('error', () => client.destroy())
        client.on('error', () => upSocket.destroy())
      })
      up.on('response', (upRes) => {
        const target = replayTarget(upRes.headers['fly-replay'])
        if (target !== null && extra['fly-replay-src'] === undefined) {
          upRes.resume()
          replays.push({ path: req.url ?? '', from: machine, to: target, upgrade: true })
          send(target, { 'fly-replay-src': srcHeader(machine) })
          return
        }
        const parts: Buffer[] = []
        upRes.on('data', (d: Buffer) => parts.push(d))
        upRes.on('end', () => {
          const bodyOut = Buffer.concat(parts)
          client.end(`HTTP/1.1 ${upRes.statusCode ?? 502} ${upRes.statusMessage ?? ''}\r\ncontent-type: ${upRes.headers['content-type'] ?? 'text/plain'}\r\ncontent-length: ${bodyOut.length}\r\nconnection: close\r\n\r\n${bodyOut.toString('utf8')}`)
        })
      })
      up.on('error', () => client.destroy())
      up.end()
    }
    send(route(req), {})
  })

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as { port: number }).port,
    machines,
    replays,
    close: async () => {
      for (const s of sockets) s.destroy()
      await closeServer(server)
    }
  }
}
