// Warm transfers in the console: ringing → answered → accepted / declined / no answer, with times,
// and the briefing the staff heard. Kept apart from console.js so each view stays small.

const WORDS = {
  ja: {
    transfers: '担当者への転送',
    ringing: '呼び出し中',
    answered: '担当者が応答',
    accepted: '担当者が対応',
    declined: 'お断り',
    'no-answer': '応答なし',
    failed: '発信できず',
    cancelled: 'お客様が終了',
    briefing: '担当者が聞いた説明',
    to: '転送先',
    ringingAt: '呼び出し開始',
    answeredAt: '応答',
    decidedAt: '結果',
    detail: {
      'key-1': '1 を押して受けました',
      'key-2': '2 を押して断りました',
      'other-key': '1 以外のキー',
      'no-key': 'キー操作なし',
      'hung-up': '担当者が切断',
      machine: '留守番電話',
      busy: '話し中',
      timeout: '呼び出しに応答なし',
      unanswered: '応答なし',
      rejected: '着信拒否',
      failed: '発信失敗',
      'caller-hung-up': 'お客様が電話を切りました',
      'no-webhook': 'Vonage から結果が届きませんでした'
    }
  },
  en: {
    transfers: 'Transfers to staff',
    ringing: 'Ringing',
    answered: 'Staff picked up',
    accepted: 'Accepted by staff',
    declined: 'Declined',
    'no-answer': 'No answer',
    failed: 'Could not ring',
    cancelled: 'Caller left',
    briefing: 'Briefing the staff heard',
    to: 'To',
    ringingAt: 'Rang',
    answeredAt: 'Picked up',
    decidedAt: 'Decided',
    detail: {
      'key-1': 'pressed 1',
      'key-2': 'pressed 2',
      'other-key': 'another key',
      'no-key': 'no key pressed',
      'hung-up': 'staff hung up',
      machine: 'voicemail',
      busy: 'busy',
      timeout: 'no pick-up',
      unanswered: 'unanswered',
      rejected: 'rejected',
      failed: 'failed',
      'caller-hung-up': 'the caller hung up',
      'no-webhook': 'no result from Vonage'
    }
  }
}

const STATE_CLASS = { ringing: 'ringing', answered: 'ringing', accepted: 'transferred', declined: 'declined', 'no-answer': 'declined', failed: 'upstream-failure', cancelled: 'declined' }

const clock = (iso, lang) => iso ? new Date(iso).toLocaleTimeString(lang === 'ja' ? 'ja-JP' : 'en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : ''

/** One line per transfer for a live card: 「呼び出し中 12:03:04 → 担当者が応答 12:03:10」. */
export function transferLine (h, lang, transfers) {
  if (!Array.isArray(transfers) || transfers.length === 0) return null
  const w = WORDS[lang]
  const last = transfers[transfers.length - 1]
  const steps = [`${w.ringing} ${clock(last.ringingAt, lang)}`]
  if (last.answeredAt) steps.push(`${w.answered} ${clock(last.answeredAt, lang)}`)
  if (last.decidedAt) steps.push(`${w[last.state] ?? last.state} ${clock(last.decidedAt, lang)}`)
  return h('div', { class: 'transfer-line', 'data-transfer-state': last.state },
    h('span', { class: `badge ${STATE_CLASS[last.state] ?? ''}`, text: w[last.state] ?? last.state }), ` ${w.to} ${last.to} · ${steps.join(' → ')}`)
}

/** The call detail's section: each transfer with its times, how it ended, and the briefing the staff heard. */
export function transferSection (h, lang, transfers) {
  if (!Array.isArray(transfers) || transfers.length === 0) return []
  const w = WORDS[lang]
  const fact = (k, v, wide) => h('div', { class: wide ? 'fact wide' : 'fact' }, h('div', { class: 'k', text: k }), h('div', { class: 'v' }, v))
  return [h('h2', { text: w.transfers }), ...transfers.map(x => h('section', { class: 'card transfer', 'data-transfer-state': x.state },
    h('div', { class: 'facts' },
      fact(w.to, x.to),
      fact(w.ringingAt, clock(x.ringingAt, lang)),
      fact(w.answeredAt, clock(x.answeredAt, lang) || '—'),
      fact(w.decidedAt, h('span', {}, h('span', { class: `badge ${STATE_CLASS[x.state] ?? ''}`, text: w[x.state] ?? x.state }), ` ${clock(x.decidedAt, lang)}${x.detail ? ` · ${w.detail[x.detail] ?? x.detail}` : ''}`), true)),
    h('div', { class: 'k muted', text: w.briefing }),
    h('blockquote', { class: 'briefing', text: x.briefing ?? '' })))]
}
