import type { Db } from '../records/store/db.js'
import type { AfterCallSummary } from './schema.js'

/** Saves the summary with its call; its cost joins the call's (the day's spend counts it). */
export async function saveSummary (db: Db, callId: string, s: AfterCallSummary): Promise<void> {
  await db.query('UPDATE calls SET summary = $2, callback_wanted = $3, cost_usd = COALESCE(cost_usd, 0) + $4 WHERE id = $1',
    [callId, JSON.stringify(s), s.callback.wanted ? 1 : 0, s.costUsd])
}

export function parseSummary (v: unknown): AfterCallSummary | null {
  if (typeof v !== 'string' || v === '') return null
  try { return JSON.parse(v) as AfterCallSummary } catch { return null }
}
