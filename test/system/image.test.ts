/**
 * The image as it ships, without a Docker engine: the files the Dockerfile's
 * final stage copies (read from its COPY lines, so a line missing there is
 * missing here), assembled in an empty folder and started with the CMD's flags.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, relative, resolve } from 'node:path'
import { once } from 'node:events'
import { freePort } from '../fakes/server-process.js'
import { dockerFlags } from '../fakes/start-flags.js'

interface CopyLine { from: string | null, sources: string[], dest: string }

/** The COPY instructions of the Dockerfile's last stage, and its WORKDIR. */
function finalStageCopies (dockerfile: string): { workdir: string, copies: CopyLine[], buildWorkdir: string } {
  const lines = dockerfile.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  const froms = lines.flatMap((l, i) => /^FROM\s/i.test(l) ? [i] : [])
  const last = froms.at(-1)
  assert.ok(last !== undefined && froms.length >= 2, 'the Dockerfile has a build stage and a final stage')
  const workdirIn = (part: string[]): string => part.filter(l => /^WORKDIR\s/i.test(l)).map(l => l.split(/\s+/)[1]!).at(-1) ?? '/'
  const copies: CopyLine[] = []
  for (const l of lines.slice(last)) {
    if (!/^COPY\s/i.test(l)) continue
    const words = l.split(/\s+/).slice(1)
    let from: string | null = null
    const rest: string[] = []
    for (const w of words) {
      if (w.startsWith('--from=')) from = w.slice('--from='.length)
      else if (!w.startsWith('--')) rest.push(w)
    }
    assert.ok(rest.length >= 2, `COPY needs a source and a destination: ${l}`)
    copies.push({ from, sources: rest.slice(0, -1), dest: rest.at(-1)! })
  }
  return { workdir: workdirIn(lines.slice(last)), copies, buildWorkdir: workdirIn(lines.slice(froms[0], last)) }
}

/** Expands a COPY source the way Docker does for the simple patterns we use (`*`). */
function expand (root: string, pattern: string): string[] {
  if (!pattern.includes('*')) return existsSync(join(root, pattern)) ? [pattern] : []
  const re = new RegExp('^' + basename(pattern).split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
  const dir = join(root, pattern, '..')
  return readdirSync(dir).filter(f => re.test(f)).map(f => relative(root, join(dir, f)))
}

/**
 * Assembles the final stage into `into`. `--from=build` paths under the build
 * stage's WORKDIR are this checkout after `npm run build` (npm test builds first);
 * node_modules is linked rather than copied (it is the one large tree, and the
 * server only reads it).
 */
function assemble (into: string): string[] {
  const root = resolve('.')
  const { copies, buildWorkdir } = finalStageCopies(readFileSync(join(root, 'Dockerfile'), 'utf8'))
  const placed: string[] = []
  for (const c of copies) {
    const sources = c.from === null
      ? c.sources.flatMap(s => expand(root, s))
      : c.sources.map(s => relative(buildWorkdir, s))
    for (const s of sources) {
      const src = join(root, s)
      assert.ok(existsSync(src), `COPY source ${s} exists (${c.from === null ? 'build context' : 'build stage'})`)
      const toDir = c.dest.endsWith('/') || sources.length > 1
      const dest = join(into, toDir ? join(c.dest, basename(s)) : c.dest)
      mkdirSync(join(dest, '..'), { recursive: true })
      if (basename(s) === 'node_modules') symlinkSync(src, dest, 'dir')
      else cpSync(src, dest, { recursive: true })
      placed.push(relative(into, dest))
    }
  }
  return placed
}

function filesUnder (dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? filesUnder(p, base) : [relative(base, p)]
  })
}

test('the image: the final stage\'s files start with the CMD\'s flags and /health answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-image-'))
  const placed = assemble(dir)
  for (const need of ['dist', 'node_modules', 'package.json', 'assets', 'public', 'system-message.txt']) {
    assert.ok(placed.includes(need), `the final stage copies ${need} (copied: ${placed.join(', ')})`)
  }
  const port = await freePort()
  const child = spawn(process.execPath, [...dockerFlags(), 'dist/server.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', OPENAI_API_KEY: 'sk-test-image-0123456789', HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: '0', MODEL_CHECK: 'off', ENV_FILE: join(dir, '.env') },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(child, 'exit')
  t.after(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  // Wait for the server's own word that it listens (or its exit), not for a time.
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (out.includes('Server listening')) { child.stdout.off('data', check); child.stderr.off('data', check); resolve() }
    }
    child.stdout.on('data', check)
    child.stderr.on('data', check)
    child.once('exit', code => reject(new Error(`the server exited with ${String(code)} before listening:\n${out}`)))
  })
  const res = await fetch(`http://127.0.0.1:${port}/health`)
  assert.equal(res.status, 200)
  assert.equal((await res.json() as { status: string }).status, 'ok')
  child.kill('SIGTERM')
  const [code] = await exited as [number | null]
  assert.equal(code, 0, out)
})

test('the image ships the server only: no dist/test, no dist/scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-image-'))
  assemble(dir)
  const dist = filesUnder(join(dir, 'dist'))
  assert.ok(dist.includes('server.js'))
  assert.deepEqual(dist.filter(f => f.startsWith('test/') || f.startsWith('scripts/')), [])
})

test('the image\'s entrypoint is one the final stage copies, is valid sh, and drops to the node user before running the CMD', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8')
  const entry = /^ENTRYPOINT\s+\["([^"]+)"\]\s*$/m.exec(dockerfile)?.[1]
  assert.ok(entry !== undefined, 'the Dockerfile has an exec-form ENTRYPOINT')
  const dir = mkdtempSync(join(tmpdir(), 'bridge-image-'))
  const placed = assemble(dir)
  assert.ok(placed.includes(entry.replace(/^\//, '')), `the final stage copies ${entry}`)
  const script = join(dir, entry)
  assert.equal(spawnSync('sh', ['-n', script]).status, 0, 'sh -n accepts the entrypoint')
  assert.ok(statSync(script).mode & 0o111, 'the entrypoint is executable')
  assert.match(readFileSync(script, 'utf8'), /^exec setpriv --reuid=node --regid=node --init-groups -- "\$@"$/m, 'the CMD runs as node, through exec (SIGTERM reaches node)')
})
