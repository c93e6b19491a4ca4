import http from 'node:http'
import { randomBytes } from 'node:crypto'

export interface UpgradeResult {
  /** 101 when the server upgraded (the socket is then closed at once), else the refusal's status. */
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One WebSocket upgrade attempt on loopback, reporting a refusal's status, headers and body as sent. */
export async function tryUpgrade (port: number, path: string, headers: Record<string, string> = {}): Promise<UpgradeResult> {
  return await new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...headers
      }
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' })
    })
    req.on('response', (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }))
    })
    req.on('error', reject)
    req.end()
  })
}
