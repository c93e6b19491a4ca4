import type { TestContext } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openDb, type Db } from '../../../lib/records/store/db.js'

export const PG_URL = process.env.DATABASE_TEST_URL ?? ''

/** One store per test: the embedded database in its own folder, or PostgreSQL in its own schema. */
export interface Backend {
  name: string
  skip: string | false
  /** A new, empty store; `reopen` opens the same one again (a restart). */
  open: (t: TestContext) => Promise<{ db: Db, reopen: () => Promise<Db> }>
}

/** A data folder for an embedded database (made at first open), removed after the test. */
export async function embeddedDataDir (t: TestContext): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'store-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A schema of its own in the test PostgreSQL, dropped after the test. */
export function pgSchema (t: TestContext): string {
  const schema = `t_${randomBytes(6).toString('hex')}`
  t.after(async () => {
    const c = new pg.Client({ connectionString: PG_URL })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
  })
  return schema
}

export const backends: Backend[] = [
  {
    name: 'embedded (SQLite)',
    skip: false,
    async open (t) {
      const dir = await embeddedDataDir(t)
      const opened: Db[] = []
      const o = async (): Promise<Db> => { const db = await openDb({ url: '', dataDir: dir }); opened.push(db); return db }
      t.after(async () => { for (const d of opened) await d.close() })
      return { db: await o(), reopen: o }
    }
  },
  {
    name: 'PostgreSQL',
    skip: PG_URL === '' ? 'DATABASE_TEST_URL is not set (.ci/run starts a PostgreSQL and sets it)' : false,
    async open (t) {
      const schema = pgSchema(t)
      const opened: Db[] = []
      const o = async (): Promise<Db> => { const db = await openDb({ url: PG_URL, dataDir: '', schema }); opened.push(db); return db }
      t.after(async () => { for (const d of opened) await d.close() })
      return { db: await o(), reopen: o }
    }
  }
]
