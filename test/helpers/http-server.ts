import type { Server } from 'node:http'

/** Stops a fake's HTTP server: its keep-alive connections first (close() alone would wait for them), then the listener. */
export async function closeServer (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
}
