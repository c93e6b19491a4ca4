import pg from 'pg'

/**
 * The small shim that lets the embedded SQLite and a real PostgreSQL run the
 * store's SQL as written once: PostgreSQL's `$1` placeholders, and rows that
 * come back in one shape from both — times as ISO-8601 text, JSON as text,
 * booleans as 0/1, counts as numbers (what the portable schema stores).
 */

/** `$1` → `?1` (SQLite's numbered form, so a number used twice binds once); string literals are left alone. */
export function sqliteSql (sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|\$(\d+)/g, (m, n: string | undefined) => n === undefined ? m : `?${n}`)
}

/** A parameter as SQLite stores it: booleans as 0/1, times as ISO-8601 text, undefined as NULL. */
export function sqliteParam (v: unknown): unknown {
  if (v === undefined || v === null) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  if (v instanceof Date) return v.toISOString()
  return v
}

const OID = { bool: 16, int8: 20, json: 114, numeric: 1700, timestamp: 1114, timestamptz: 1184, jsonb: 3802 } as const

/**
 * pg's parsers for one pool (not pg's global ones): the columns migration 1
 * made on PostgreSQL (timestamptz, jsonb, boolean) and count(*)'s bigint read
 * back as the SQLite side reads its text/integer columns.
 */
export const pgTypes = {
  getTypeParser (oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    switch (oid) {
      case OID.timestamptz:
      case OID.timestamp: {
        const parseDate = pg.types.getTypeParser(oid, 'text') as (v: string) => Date
        return v => parseDate(v).toISOString()
      }
      case OID.json:
      case OID.jsonb:
        return v => v
      case OID.bool:
        return v => v === 't' ? 1 : 0
      case OID.int8:
      case OID.numeric:
        return v => Number(v)
      default:
        return pg.types.getTypeParser(oid, format ?? 'text')
    }
  }
}
