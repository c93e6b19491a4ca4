import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import type { TestContext } from 'node:test'

export async function freePort (): Promise<number> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  srv.close()
  return port
}

export interface ServerProcess {
  url: string
  port: number
  child: ChildProcess
  output: () => string
  /** SIGTERM, then the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/**
 * Runs the built server (`node dist/server.js`, what `npm start` runs after its
 * build) as its own process, in an empty folder so no .env leaks in, and waits
 * until it listens.
 */
export async function startServer (t: TestContext | undefined, env: Record<string, string>, opts: { minimalEnv?: boolean } = {}): Promise<ServerProcess> {
  const port = await freePort()
  const cwd = mkdtempSync(join(tmpdir(), 'bridge-'))
  const child = spawn(process.execPath, [resolve('dist/server.js')], {
    cwd,
    env: { ...(opts.minimalEnv === true ? { PATH: process.env.PATH } : process.env), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', SYSTEM_MESSAGE_PATH: resolve('system-message.txt'), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const deadline = Date.now() + 15_000
  while (!out.includes('Server listening')) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`)
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`server did not listen in 15 s:\n${out}`) }
    await new Promise(r => setTimeout(r, 20))
  }
  const server: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal)
      return await exited
    }
  }
  t?.after(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited } })
  return server
}
