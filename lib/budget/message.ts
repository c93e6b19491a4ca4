/** What the owner reads (LINE, Slack, email) when the day's budget is reached: once a day. */
export interface BudgetReached {
  /** YYYY-MM-DD in TIMEZONE. */
  day: string
  spentUsd: number
  budgetUsd: number
}

const usd = (n: number): string => `$${n.toFixed(2)}`

/** e.g. 2026-12-03 → 12月3日 */
function jaDate (day: string): string {
  const [, m, d] = day.split('-').map(Number)
  return `${m}月${d}日`
}

export function budgetReachedText (e: BudgetReached): string {
  return [
    `【AI電話】本日（${jaDate(e.day)}）の利用額が上限に達しました。`,
    `利用額（概算）: ${usd(e.spentUsd)} / 上限: ${usd(e.budgetUsd)}`,
    'これ以降のお電話はAIが応答せず、お詫びのあと留守番電話でメッセージをお預かりします。',
    '上限は DAILY_BUDGET_USD で変更できます。日付が変わると自動で元に戻ります。'
  ].join('\n')
}
