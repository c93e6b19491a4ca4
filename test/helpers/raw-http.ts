import { connect } from 'node:net'
import { once } from 'node:events'

export interface RawResponse { status: number, headers: string, body: string }

/**
 * One request written byte for byte on a fresh TCP socket (the HTTP version,
 * Host and every header exactly as given, as a same-host proxy sends them),
 * read until the server closes it or the response is complete.
 */
export async function rawHttp (port: number, o: { method?: string, path: string, version?: '1.0' | '1.1', host?: string, headers?: Record<string, string>, body?: string }): Promise<RawResponse> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const lines = [`${o.method ?? 'GET'} ${o.path} HTTP/${o.version ?? '1.1'}`, `Host: ${o.host ?? `127.0.0.1:${port}`}`, 'Connection: close']
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`)
  if (o.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(o.body)}`)
  socket.end(`${lines.join('\r\n')}\r\n\r\n${o.body ?? ''}`)
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => chunks.push(d))
  await once(socket, 'close')
  const text = Buffer.concat(chunks).toString('utf8')
  const split = text.indexOf('\r\n\r\n')
  const head = split === -1 ? text : text.slice(0, split)
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: split === -1 ? '' : text.slice(split + 4) }
}
