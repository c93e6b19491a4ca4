import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** A test fixture's path, from scripts/ (tsx) or dist/scripts/ (built) alike. */
export function fixture (name: string): string {
  for (const rel of ['../../test/fixtures/audio/', '../../../test/fixtures/audio/']) {
    const p = fileURLToPath(new URL(rel + name, import.meta.url))
    if (existsSync(p)) return p
  }
  throw new Error(`fixture ${name} not found`)
}
