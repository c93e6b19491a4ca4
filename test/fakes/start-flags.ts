import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * The node flags `npm start` runs the server with (package.json's start
 * script), so tests and the benchmark run the server as it ships.
 */
export function startFlags (): string[] {
  const pkg = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { scripts: { start: string } }
  const words = pkg.scripts.start.trim().split(/\s+/)
  if (words[0] !== 'node' || words.at(-1) !== 'dist/server.js') throw new Error(`package.json start is not "node [flags] dist/server.js": ${pkg.scripts.start}`)
  return words.slice(1, -1)
}

/** The flags of the Dockerfile's CMD ["node", …flags, "dist/server.js"]. */
export function dockerFlags (): string[] {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(resolve('Dockerfile'), 'utf8'))?.[1]
  if (cmd === undefined) throw new Error('Dockerfile has no exec-form CMD')
  const words = JSON.parse(cmd) as string[]
  if (words[0] !== 'node' || words.at(-1) !== 'dist/server.js') throw new Error(`Dockerfile CMD is not ["node", …, "dist/server.js"]: ${cmd}`)
  return words.slice(1, -1)
}
