// The console's voicemail (call detail: transcript and a player) and today's spend against the daily budget (overview).
// Kept apart from console.js; it receives console.js's helpers (h, t, api) rather than importing them.

export const VOICEMAIL_TEXTS = {
  ja: {
    voicemail: '留守番電話',
    voicemailTitle: '留守番電話のメッセージ',
    voicemailNoText: '（文字起こしはありません。録音をお聞きください）',
    voicemailReason: '理由',
    voicemailLength: '長さ',
    'reason-budget': '本日の利用上限に達していたため',
    'reason-unavailable': 'AI に接続できなかったため',
    'reason-failed': '通話中に AI が応答できなくなったため',
    'budget-reached': '利用上限（AI 応答なし）',
    today: '本日',
    todaySpend: '本日の利用額（概算）',
    budgetNone: '上限なし（DAILY_BUDGET_USD=0）',
    budgetOf: '上限',
    budgetReached: '上限に達しました。新しいお電話は留守番電話になります。',
    voicemailsToday: '本日の留守番電話',
    seconds: '秒'
  },
  en: {
    voicemail: 'Voicemail',
    voicemailTitle: 'Message left by the caller',
    voicemailNoText: '(No transcript: listen to the recording)',
    voicemailReason: 'Reason',
    voicemailLength: 'Length',
    'reason-budget': 'The daily budget was reached',
    'reason-unavailable': 'The AI could not be reached',
    'reason-failed': 'The AI stopped answering during the call',
    'budget-reached': 'Budget reached (no AI)',
    today: 'Today',
    todaySpend: 'Today\'s estimated spend',
    budgetNone: 'No budget (DAILY_BUDGET_USD=0)',
    budgetOf: 'budget',
    budgetReached: 'Budget reached: new calls go to voicemail.',
    voicemailsToday: 'Voicemails today',
    seconds: 's'
  }
}

export const VOICEMAIL_OUTCOMES = ['voicemail', 'budget-reached']

/** The caller's message, first in the call detail: what they said, and the recording to play. */
export function voicemailSection (c, t, h) {
  const v = c.voicemail
  if (v === null || v === undefined) return []
  const text = v.transcript !== null && v.transcript !== '' ? v.transcript : t('voicemailNoText')
  const player = v.audio === null
    ? []
    : [h('audio', { controls: true, preload: 'metadata', src: `/api/calls/${encodeURIComponent(c.id)}/voicemail`, class: 'vm-player' })]
  return [
    h('h2', { text: t('voicemailTitle') }),
    h('section', { class: 'card voicemail', id: 'detail-voicemail' },
      h('p', { class: 'vm-text', text }),
      ...player,
      h('p', { class: 'muted', text: `${t('voicemailReason')}: ${t(`reason-${v.reason}`)} · ${t('voicemailLength')}: ${v.durationSec}${t('seconds')}` }))
  ]
}

/** Today's spend against DAILY_BUDGET_USD, and the voicemails left today. */
export async function budgetCard (t, h, svg, api) {
  let b
  try {
    b = await api('/api/budget')
  } catch {
    return []
  }
  const spent = `$${b.spentUsd.toFixed(2)}`
  const kids = [h('h2', { text: t('todaySpend') })]
  if (b.budgetUsd > 0) {
    const pct = Math.min(100, Math.round(100 * b.spentUsd / b.budgetUsd))
    kids.push(h('div', { class: 'big', id: 'budget-spend', text: `${spent} / $${b.budgetUsd.toFixed(2)}` }),
      // SVG, not a style attribute: the page's CSP allows no inline style.
      svg('svg', { class: `meter${b.reached ? ' over' : ''}`, viewBox: '0 0 100 6', preserveAspectRatio: 'none', role: 'meter', 'aria-valuenow': pct, 'aria-valuemin': 0, 'aria-valuemax': 100 },
        svg('rect', { x: 0, y: 0, width: 100, height: 6, class: 'track' }), svg('rect', { x: 0, y: 0, width: pct, height: 6, class: 'fill' })))
    if (b.reached) kids.push(h('p', { class: 'error', text: t('budgetReached') }))
  } else {
    kids.push(h('div', { class: 'big', id: 'budget-spend', text: spent }), h('p', { class: 'muted', text: t('budgetNone') }))
  }
  if (b.voicemailsToday !== null) kids.push(h('p', { id: 'voicemails-today', text: `${t('voicemailsToday')}: ${b.voicemailsToday}` }))
  return [h('section', { class: 'card', id: 'budget' }, ...kids)]
}
