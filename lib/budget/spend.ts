import type { Db } from '../records/store/db.js'
import type { LocalDay } from './day.js'

/** Estimated cost (USD) of the stored calls that started within `day`. */
export async function storedSpend (db: Db, day: LocalDay): Promise<number> {
  const rows = await db.query<{ spent: number | string | null }>(
    'SELECT sum(cost_usd) AS spent FROM calls WHERE started_at >= $1 AND started_at < $2', [day.startUtc, day.endUtc])
  return Number(rows[0]?.spent ?? 0)
}

export interface BudgetStatus {
  day: string
  spentUsd: number
  /** 0 = no budget. */
  budgetUsd: number
  reached: boolean
}

export function status (day: string, spentUsd: number, budgetUsd: number): BudgetStatus {
  const spent = Math.round(spentUsd * 1e6) / 1e6
  return { day, spentUsd: spent, budgetUsd, reached: budgetUsd > 0 && spent >= budgetUsd }
}
