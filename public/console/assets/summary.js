// The after-call summary and the owner's notifications in the console:
// the summary card first in a call's detail, a line of it in the history,
// the channels' status, and the overview's callbacks and failed notifications.

const S = {
  ja: {
    summary: '通話の要約',
    noSummary: '要約はありません',
    request: '用件',
    callerName: 'お名前',
    callerNumber: '電話番号',
    callbackNumber: '折り返し先',
    urgency: '緊急度',
    callback: '折り返し',
    callbackWanted: '折り返し希望',
    callbackNotWanted: '不要',
    reservation: '予約',
    summaryOutcome: '対応',
    openItems: '対応事項',
    high: '至急',
    normal: '通常',
    low: '急ぎではない',
    resolved: '通話内で対応済み',
    'hung-up': '途中で切れた',
    voicemail: '伝言あり',
    transferredS: '転送',
    people: '名',
    notifications: '通知',
    noNotifications: '通知はありません（通知先が未設定、または通知の対象外の通話）',
    line: 'LINE',
    slack: 'Slack',
    email: 'メール',
    sent: '送信済み',
    retrying: '再送中',
    pending: '送信待ち',
    failed: '失敗',
    attempts: '回',
    callbacksWanted: '折り返し希望（30 日）',
    failedNotifications: '届かなかった通知（30 日）',
    none: 'なし',
    onlyCallbacks: '折り返し希望のみ',
    'kind-voicemail': '伝言',
    'kind-budget': '予算'
  },
  en: {
    summary: 'Call summary',
    noSummary: 'No summary',
    request: 'Request',
    callerName: 'Name',
    callerNumber: 'Number',
    callbackNumber: 'Call back on',
    urgency: 'Urgency',
    callback: 'Call back',
    callbackWanted: 'Call back wanted',
    callbackNotWanted: 'Not needed',
    reservation: 'Reservation',
    summaryOutcome: 'Handled',
    openItems: 'To do',
    high: 'Urgent',
    normal: 'Normal',
    low: 'Not urgent',
    resolved: 'Resolved on the call',
    'hung-up': 'Hung up',
    voicemail: 'Voicemail',
    transferredS: 'Transferred',
    people: '',
    notifications: 'Notifications',
    noNotifications: 'No notifications (no channel set, or not a call that is notified)',
    line: 'LINE',
    slack: 'Slack',
    email: 'Email',
    sent: 'Sent',
    retrying: 'Retrying',
    pending: 'Waiting',
    failed: 'Failed',
    attempts: 'tries',
    callbacksWanted: 'Call back wanted (30 days)',
    failedNotifications: 'Notifications not delivered (30 days)',
    none: 'None',
    onlyCallbacks: 'Call back wanted only',
    'kind-voicemail': 'voicemail',
    'kind-budget': 'budget'
  }
}

export const st = (lang, k) => S[lang][k] ?? k

function reservationText (r, lang) {
  if (!r) return null
  const size = r.partySize === null ? null : lang === 'ja' ? `${r.partySize}${st(lang, 'people')}` : `party of ${r.partySize}`
  const parts = [r.date, r.time, size, r.name].filter(x => x !== null && x !== undefined && x !== '')
  return parts.length === 0 ? null : parts.join(' · ')
}

/** The summary, first in the call's detail: what the owner acts on. */
export function summaryCard (c, h, lang) {
  const s = c.summary
  if (!s) return h('section', { class: 'card summary', id: 'call-summary' }, h('h2', { text: st(lang, 'summary') }), h('p', { class: 'muted', text: st(lang, 'noSummary') }))
  const row = (k, v, cls) => v === null || v === undefined || v === '' ? null : h('div', { class: `srow ${cls ?? ''}` }, h('span', { class: 'k', text: st(lang, k) }), h('span', { class: 'v' }, v))
  const number = c.direction === 'outbound' ? (c.toFull ?? c.to) : (c.fromFull ?? c.from)
  const callback = s.callback.wanted
    ? h('span', {}, h('span', { class: 'badge callback', text: st(lang, 'callbackWanted') }), s.callback.when ? ` ${s.callback.when}` : '')
    : st(lang, 'callbackNotWanted')
  const outcome = s.outcome === 'transferred' ? st(lang, 'transferredS') : st(lang, s.outcome)
  return h('section', { class: `card summary urgency-${s.urgency}`, id: 'call-summary' },
    h('h2', {}, st(lang, 'summary'), s.urgency === 'high' ? h('span', { class: 'badge urgent', text: st(lang, 'high') }) : null),
    h('p', { class: 'request', text: s.request }),
    h('div', { class: 'srows' },
      row('callerName', s.callerName), row('callerNumber', number || null, 'number'), row('callbackNumber', s.callbackNumber, 'number'),
      row('callback', callback), row('urgency', st(lang, s.urgency)), row('reservation', reservationText(s.reservation, lang)),
      row('summaryOutcome', outcome)),
    s.openItems.length === 0 ? null : h('div', { class: 'open-items' }, h('div', { class: 'k', text: st(lang, 'openItems') }), h('ul', {}, s.openItems.map(x => h('li', { text: x })))))
}

/** Each channel's state for this call: sent, retrying, failed with the reason. */
export function notificationsCard (c, h, lang) {
  const list = c.notifications ?? []
  return h('section', { class: 'card notifications', id: 'call-notifications' }, h('h2', { text: st(lang, 'notifications') }),
    list.length === 0
      ? h('p', { class: 'muted', text: st(lang, 'noNotifications') })
      : h('ul', { class: 'channels' }, list.map(n => h('li', { 'data-channel': n.channel, 'data-status': n.status },
        h('span', { class: 'channel', text: st(lang, n.channel) }),
        n.kind === 'call' ? null : h('span', { class: 'muted', text: st(lang, `kind-${n.kind}`) }),
        h('span', { class: `badge notify-${n.status}`, text: st(lang, n.status) }),
        h('span', { class: 'muted', text: ` ${n.attempts} ${st(lang, 'attempts')}` }),
        n.status !== 'sent' && n.lastError ? h('span', { class: 'reason', text: n.lastError }) : null))))
}

/** The history row's summary cell: the request, with a badge when a call back is wanted. */
export function summaryCell (c, h, lang) {
  const s = c.summary
  return h('td', { class: 'summary-cell' },
    c.callbackWanted ? h('span', { class: 'badge callback', text: st(lang, 'callbackWanted') }) : null,
    s ? h('span', { class: 'request', title: s.request, text: s.request }) : h('span', { class: 'muted', text: '—' }))
}

/** The overview: calls to ring back, and notifications that did not arrive. */
export function overviewCards (o, h, lang) {
  const failed = o.notificationsFailed ?? []
  return [
    h('section', { class: 'card' }, h('h2', { text: st(lang, 'callbacksWanted') }),
      h('a', { class: 'big', id: 'callbacks-wanted', href: '#history/callback', text: String(o.callbacksWanted ?? 0) })),
    h('section', { class: 'card', id: 'failed-notifications' }, h('h2', { text: st(lang, 'failedNotifications') }),
      failed.length === 0
        ? h('p', { class: 'muted', text: st(lang, 'none') })
        : h('ul', { class: 'channels' }, failed.map(n => h('li', {},
          h('a', { href: `#call/${encodeURIComponent(n.callId)}`, text: st(lang, n.channel) }),
          h('span', { class: 'badge notify-failed', text: st(lang, 'failed') }),
          h('span', { class: 'reason', text: n.lastError ?? '' })))))
  ]
}
