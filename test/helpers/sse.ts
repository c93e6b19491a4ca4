import type { IncomingMessage } from 'node:http'

export interface SseEvent { event: string, data: any }

/** The server-sent events of a response (the console's live view), parsed as they arrive: the array grows. */
export function collectSse (res: IncomingMessage): SseEvent[] {
  const events: SseEvent[] = []
  let buf = ''
  res.on('data', (d: Buffer) => {
    buf += d.toString()
    let i
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i)
      buf = buf.slice(i + 2)
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) })
    }
  })
  return events
}
