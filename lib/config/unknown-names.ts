import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { configSchema } from './schema.js'

/** Names the server reads that are not settings of the schema, or that the platform sets. */
const OTHER_KNOWN = new Set(['ENV_FILE', 'NODE_ENV', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'])
const PLATFORM_PREFIXES = ['FLY_', 'npm_']

export interface UnknownName {
  name: string
  /** Where it was found: the .env file's path, or 'environment'. */
  source: string
  /** The known setting it is probably a misspelling of, or null. */
  suggestion: string | null
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), so
 * OPENAI_VOCIE is one step from OPENAI_VOICE.
 */
export function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

export function knownNames (): string[] {
  return Object.keys(configSchema.properties)
}

/** The known setting `name` is most likely a misspelling of: close in spelling, or the same but for case. */
export function closestSetting (name: string, known: string[] = knownNames()): string | null {
  const upper = name.toUpperCase()
  let best: string | null = null
  let bestD = Infinity
  for (const k of known) {
    if (k === upper) return k
    // Short names leave little room: one slip for them, two for longer ones.
    const allowed = k.length >= 8 ? 2 : 1
    const d = editDistance(upper, k)
    if (d <= allowed && d < bestD) { best = k; bestD = d }
  }
  return best
}

/**
 * Names in the .env file that are no setting (every one: the file is ours), and
 * names in the environment that look like a misspelt setting (only those: the
 * environment holds PATH, HOME and the like).
 */
export function unknownNames (o: { dotenvPath?: string | false, env?: NodeJS.ProcessEnv | false }): UnknownName[] {
  const known = knownNames()
  const knownSet = new Set(known)
  const isOther = (n: string): boolean => OTHER_KNOWN.has(n) || PLATFORM_PREFIXES.some(p => n.startsWith(p))
  const out: UnknownName[] = []
  const seen = new Set<string>()
  if (o.dotenvPath !== undefined && o.dotenvPath !== false) {
    let text: string | null = null
    try { text = readFileSync(o.dotenvPath, 'utf8') } catch { /* no .env: nothing to check */ }
    if (text !== null) {
      for (const name of Object.keys(parseEnv(text))) {
        if (knownSet.has(name) || isOther(name)) continue
        seen.add(name)
        out.push({ name, source: o.dotenvPath, suggestion: closestSetting(name, known) })
      }
    }
  }
  if (o.env !== undefined && o.env !== false) {
    for (const name of Object.keys(o.env)) {
      if (knownSet.has(name) || isOther(name) || seen.has(name)) continue
      const suggestion = closestSetting(name, known)
      if (suggestion !== null) out.push({ name, source: 'environment', suggestion })
    }
  }
  return out
}

/** One line, Japanese then English, saying what to do about an unknown name. */
export function describeUnknown (u: UnknownName): string {
  const where = u.source === 'environment' ? '環境変数 / environment' : u.source
  return u.suggestion !== null
    ? `${u.name} (${where}) は設定名ではありません。${u.suggestion} のつもりなら名前を直してください / ${u.name} is not a setting — did you mean ${u.suggestion}? Rename it, or it is ignored`
    : `${u.name} (${where}) は設定名ではなく、無視されます（.env.example に一覧があります）/ ${u.name} is not a setting and is ignored (see .env.example for the list)`
}
