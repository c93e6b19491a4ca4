import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { startFlags } from './start-flags.js'
import { TEST_SIGNATURE_SECRET } from '../helpers/vonage-sign.js'

const LISTEN_TIMEOUT_MS = 15_000

export async function freePort (): Promise<number> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  srv.close()
  return port
}

/** Waits until no process of the group is left (npm may exit before the server it started). */
async function groupGone (pgid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(-pgid, 0)
    } catch {
      return
    }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`processes of group ${pgid} still running 10 s after the signal`)
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
 * Runs the built server (`node [flags] dist/server.js`, what `npm start` runs after its
 * build) as its own process, in an empty folder so no .env leaks in, and waits
 * until it listens.
 */
export async function startServer (t: TestContext | undefined, env: Record<string, string>, opts: { minimalEnv?: boolean, npmStart?: boolean } = {}): Promise<ServerProcess> {
  const port = await freePort()
  const empty = mkdtempSync(join(tmpdir(), 'bridge-'))
  // `npm start` runs in the project folder; ENV_FILE keeps a developer's own .env out of the test.
  const [command, args, cwd] = opts.npmStart === true
    ? ['npm', ['start', '--silent', '--ignore-scripts'], resolve('.')] // the build already ran (npm test builds first)
    : [process.execPath, [...startFlags(), resolve('dist/server.js')], empty]
  const child = spawn(command, args, {
    cwd,
    env: { ...(opts.minimalEnv === true ? { PATH: process.env.PATH } : process.env), ENV_FILE: join(empty, '.env'), METRICS_PORT: '0', MODEL_CHECK: 'off', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', SYSTEM_MESSAGE_PATH: resolve('system-message.txt'), DATA_DIR: '', VONAGE_SIGNATURE_SECRET: TEST_SIGNATURE_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // npm does not pass SIGTERM on to the server; a terminal's Ctrl-C signals the whole group, and so do we.
    detached: opts.npmStart === true
  })
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (opts.npmStart === true && child.pid !== undefined) process.kill(-child.pid, sig)
      else child.kill(sig)
    } catch { /* already gone */ }
  }
  const running = (): boolean => child.exitCode === null && child.signalCode === null
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  // Listening is announced in the log: wait for that line (or the exit), not for time to pass.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal('SIGKILL'); done(new Error(`server did not listen in ${LISTEN_TIMEOUT_MS} ms:\n${out}`)) }, LISTEN_TIMEOUT_MS)
    const onData = (): void => { if (out.includes('Server listening')) done() }
    const onExit = (code: number | null): void => done(new Error(`server exited with ${code}:\n${out}`))
    function done (err?: Error): void {
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      child.stderr!.off('data', onData)
      child.off('exit', onExit)
      if (err === undefined) resolve()
      else reject(err)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', onExit)
  })
  const server: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    stop: async (sig = 'SIGTERM') => {
      if (running()) signal(sig)
      const code = await exited
      if (opts.npmStart === true) await groupGone(child.pid!)
      return code
    }
  }
  t?.after(async () => { if (running()) { signal('SIGKILL'); await exited } })
  return server
}
