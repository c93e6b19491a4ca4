// The operator console: live calls (Server-Sent Events), history, overview.
// Plain DOM and SVG: the page's Content-Security-Policy allows no inline code.
import { transferLine, transferSection } from './transfers.js'
import { summaryCard, notificationsCard, summaryCell, overviewCards, st } from './summary.js'
import { VOICEMAIL_TEXTS, VOICEMAIL_OUTCOMES, voicemailSection, budgetCard } from './voicemail.js'
import { AUDIO_T, recordedMark, recordingSection, deleteButton } from './call-audio.js'

const T = {
  ja: {
    title: '通話コンソール',
    live: 'ライブ',
    history: '履歴',
    overview: '概要',
    otherLang: 'English',
    noLive: '現在通話中の通話はありません',
    hangup: '切断する',
    hangingUp: '切断中…',
    waitingWords: '（発話を待っています）',
    costSoFar: 'ここまでの料金の目安',
    inbound: '着信',
    outbound: '発信',
    softphone: 'ソフトフォン',
    caller: '発信者',
    otherParty: '相手',
    assistant: 'AI',
    from: '開始日',
    to: '終了日',
    fromNumber: '発信元',
    toNumber: '着信先',
    direction: '方向',
    outcome: '結果',
    search: '文字起こしを検索',
    any: 'すべて',
    apply: '絞り込む',
    started: '開始',
    duration: '通話時間',
    number: '番号',
    cost: '費用',
    calls: '件',
    prev: '前へ',
    next: '次へ',
    page: 'ページ',
    noCalls: '該当する通話はありません',
    back: '← 履歴に戻る',
    transcript: '文字起こし',
    tools: 'ツール呼び出し',
    noTools: 'ツール呼び出しはありません',
    noTranscript: '文字起こしはありません',
    ended: '終了',
    endReason: '終了理由',
    model: 'モデル',
    ttfa: '最初の音声まで',
    lateFrames: '遅延・破棄フレーム',
    bargeIns: '割り込み',
    backchannels: '相づち',
    callerAudio: '発信者の音声',
    assistantAudio: 'AI の音声',
    persona: 'ペルソナ',
    name: '名前',
    ok: '成否',
    latency: '所要時間',
    result: '結果',
    callsPerDay: '1 日あたりの通話数（30 日）',
    costPerDay: '1 日あたりの費用 USD（30 日）',
    outcomes: '結果の内訳（30 日）',
    medianTtfa: '最初の音声までの中央値（30 日）',
    total: '合計',
    exportCsv: 'CSV 書き出し',
    exportJson: 'JSON 書き出し',
    error: '読み込めませんでした',
    inProgress: '通話中',
    completed: '完了',
    'ended-by-ai': 'AI が終了',
    transferred: '転送',
    'upstream-failure': 'AI 接続の失敗',
    'no-media': '音声なし',
    'media-failure': '音声の失敗',
    shutdown: 'サーバー停止',
    'in-progress': '通話中',
    live_dot: '● 受信中',
    offline: '○ 再接続中…'
  },
  en: {
    title: 'Call console',
    live: 'Live',
    history: 'History',
    overview: 'Overview',
    otherLang: '日本語',
    noLive: 'No calls in progress',
    hangup: 'Hang up',
    hangingUp: 'Hanging up…',
    waitingWords: '(waiting for words)',
    costSoFar: 'Estimated cost so far',
    inbound: 'Inbound',
    outbound: 'Outbound',
    softphone: 'Softphone',
    caller: 'Caller',
    otherParty: 'Other party',
    assistant: 'AI',
    from: 'From',
    to: 'To',
    fromNumber: 'Caller number',
    toNumber: 'Called number',
    direction: 'Direction',
    outcome: 'Outcome',
    search: 'Search transcripts',
    any: 'Any',
    apply: 'Filter',
    started: 'Started',
    duration: 'Duration',
    number: 'Number',
    cost: 'Cost',
    calls: 'calls',
    prev: 'Previous',
    next: 'Next',
    page: 'Page',
    noCalls: 'No calls match',
    back: '← Back to history',
    transcript: 'Transcript',
    tools: 'Tool calls',
    noTools: 'No tool calls',
    noTranscript: 'No transcript',
    ended: 'Ended',
    endReason: 'End reason',
    model: 'Model',
    ttfa: 'Time to first audio',
    lateFrames: 'Late / dropped frames',
    bargeIns: 'Barge-ins',
    backchannels: 'Backchannels',
    callerAudio: 'Caller audio',
    assistantAudio: 'AI audio',
    persona: 'Persona',
    name: 'Name',
    ok: 'OK',
    latency: 'Latency',
    result: 'Result',
    callsPerDay: 'Calls per day (30 days)',
    costPerDay: 'Cost per day, USD (30 days)',
    outcomes: 'Outcomes (30 days)',
    medianTtfa: 'Median time to first audio (30 days)',
    total: 'Total',
    exportCsv: 'Export CSV',
    exportJson: 'Export JSON',
    error: 'Could not load',
    inProgress: 'In progress',
    completed: 'Completed',
    'ended-by-ai': 'Ended by AI',
    transferred: 'Transferred',
    'upstream-failure': 'AI connection failed',
    'no-media': 'No audio',
    'media-failure': 'Audio failed',
    shutdown: 'Server shutdown',
    'in-progress': 'In progress',
    live_dot: '● Live',
    offline: '○ Reconnecting…'
  }
}
Object.assign(T.ja, VOICEMAIL_TEXTS.ja)
Object.assign(T.en, VOICEMAIL_TEXTS.en)
Object.assign(T.ja, AUDIO_T.ja)
Object.assign(T.en, AUDIO_T.en)
const OUTCOMES = ['completed', 'ended-by-ai', 'transferred', 'upstream-failure', 'no-media', 'media-failure', 'shutdown', ...VOICEMAIL_OUTCOMES]
const DIRECTIONS = ['inbound', 'outbound', 'softphone']

let lang = localStorage.getItem('console-lang') === 'en' ? 'en' : 'ja'
const t = (k) => T[lang][k] ?? k
const main = document.getElementById('main')
const live = new Map()
const filters = { from: '', to: '', direction: '', outcome: '', q: '', callback: '', page: 1 }

function h (tag, attrs = {}, ...kids) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (k === 'text') el.textContent = v
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid))
  return el
}
function svg (tag, attrs = {}, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [k, v] of Object.entries(attrs)) if (k === 'text') el.textContent = v; else el.setAttribute(k, String(v))
  for (const kid of kids.flat()) if (kid) el.append(kid)
  return el
}

const locale = () => lang === 'ja' ? 'ja-JP' : 'en-GB'
const fmtTime = (iso) => iso ? new Date(iso).toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '—'
function fmtDur (ms) {
  if (ms === null || ms === undefined) return '—'
  const s = Math.max(0, Math.floor(ms / 1000))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
const fmtAt = (ms) => { const s = ms / 1000; return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}` }
const fmtUsd = (n) => n === null || n === undefined ? '—' : `$${Number(n).toFixed(4)}`
const fmtMs = (n) => n === null || n === undefined ? '—' : `${Math.round(n)} ms`
const badge = (kind, text) => h('span', { class: `badge ${kind}`, text: text ?? t(kind) })

async function api (path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } })
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body.message ?? `${res.status}`)
  return body
}

// ---- live ----
function liveCard (call) {
  const list = h('ul', { class: 'transcript' })
  for (const line of call.lines) list.append(lineItem(line, call.direction))
  if (call.lines.length === 0) list.append(h('li', { class: 'muted waiting', text: t('waitingWords') }))
  const btn = h('button', { type: 'button', class: 'hangup', 'data-hangup': call.id, text: t('hangup') })
  btn.addEventListener('click', async () => {
    btn.disabled = true
    btn.textContent = t('hangingUp')
    await fetch(`/console/calls/${encodeURIComponent(call.id)}/hangup`, { method: 'POST', credentials: 'same-origin' }).catch(() => {})
  })
  return h('section', { class: 'card live-call', 'data-call-id': call.id },
    h('div', { class: 'call-head' }, badge(call.direction), h('span', { class: 'number', text: call.direction === 'outbound' ? call.to : call.from || '—' }),
      h('span', { class: 'duration', 'data-started': call.startedAt, text: fmtDur(Date.now() - Date.parse(call.startedAt)) }),
      liveCost(call)),
    transferLine(h, lang, call.transfers), list, btn)
}
// The running cost estimate: GPT-Live's every second of session, the Realtime engine's every response.
function liveCost (call) {
  return h('span', { class: 'cost muted', 'data-cost': call.id, title: t('costSoFar'), text: fmtUsd(call.costUsd ?? 0) })
}
/** 「発信者」 only for someone who called us; on our outbound calls the person is 「相手」. */
function roleLabel (role, direction) {
  return role === 'caller' && direction === 'outbound' ? t('otherParty') : t(role)
}
function lineItem (line, direction) {
  return h('li', { class: line.role }, h('span', { class: 'at', text: `${roleLabel(line.role, direction)} · ${fmtAt(line.atMs)}` }), line.text)
}
function renderLive () {
  const calls = [...live.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt))
  main.replaceChildren(h('h2', {}, `${t('live')} `, h('span', { class: 'muted', id: 'stream-state', text: streamOpen ? t('live_dot') : t('offline') })),
    calls.length === 0 ? h('div', { class: 'empty', id: 'no-live', text: t('noLive') }) : h('div', { class: 'grid' }, calls.map(liveCard)))
  for (const ul of main.querySelectorAll('.transcript')) ul.scrollTop = ul.scrollHeight
}
function tick () {
  for (const el of document.querySelectorAll('.duration[data-started]')) el.textContent = fmtDur(Date.now() - Date.parse(el.dataset.started))
}

let streamOpen = false
function connect () {
  const es = new EventSource('/console/events')
  const rerender = () => { if (view() === 'live') renderLive() }
  es.addEventListener('open', () => { streamOpen = true; rerender() })
  es.addEventListener('error', () => { streamOpen = false; rerender() })
  es.addEventListener('snapshot', (e) => {
    live.clear()
    for (const c of JSON.parse(e.data).calls) live.set(c.id, c)
    rerender()
  })
  es.addEventListener('start', (e) => { const c = JSON.parse(e.data); live.set(c.id, c); rerender() })
  es.addEventListener('end', (e) => { live.delete(JSON.parse(e.data).id); rerender() })
  es.addEventListener('cost', (e) => {
    const { id, costUsd } = JSON.parse(e.data)
    const call = live.get(id)
    if (call === undefined) return
    call.costUsd = costUsd
    const el = view() === 'live' ? main.querySelector(`[data-cost="${CSS.escape(id)}"]`) : null
    if (el !== null) el.textContent = fmtUsd(costUsd)
  })
  es.addEventListener('transfer', (e) => {
    const { id, transfers } = JSON.parse(e.data)
    const call = live.get(id)
    if (call === undefined) return
    call.transfers = transfers
    rerender()
  })
  es.addEventListener('line', (e) => {
    const { id, line } = JSON.parse(e.data)
    const call = live.get(id)
    if (call === undefined) return
    call.lines.push(line)
    const ul = view() === 'live' ? main.querySelector(`[data-call-id="${CSS.escape(id)}"] .transcript`) : null
    if (ul === null) return
    ul.querySelector('.waiting')?.remove()
    ul.append(lineItem(line, call.direction))
    ul.scrollTop = ul.scrollHeight
  })
}

// ---- history ----
function query (extra = {}) {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v !== '' && v !== undefined && v !== null) p.set(k, String(v))
  return p.toString()
}
async function renderHistory () {
  const field = (name, input) => h('label', {}, t(name), input)
  const select = (name, values) => h('select', { name }, h('option', { value: '', text: t('any') }), values.map(v => h('option', { value: v, selected: filters[name] === v, text: t(v) })))
  const form = h('form', { class: 'filters', id: 'filters' },
    field('from', h('input', { type: 'date', name: 'from', value: filters.from })),
    field('to', h('input', { type: 'date', name: 'to', value: filters.to })),
    field('direction', select('direction', DIRECTIONS)),
    field('outcome', select('outcome', OUTCOMES)),
    field('search', h('input', { type: 'search', name: 'q', value: filters.q, maxlength: 200 })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'callback', value: '1', checked: filters.callback === '1' }), st(lang, 'onlyCallbacks')),
    h('button', { type: 'submit', text: t('apply') }),
    h('span', { class: 'exports' },
      h('a', { href: `/api/calls.csv?${query({ page: '' })}`, id: 'export-csv', download: '', text: t('exportCsv') }),
      h('a', { href: `/api/calls.json?${query({ page: '' })}`, id: 'export-json', download: '', text: t('exportJson') })))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const d = new FormData(form)
    for (const k of ['from', 'to', 'direction', 'outcome', 'q']) filters[k] = String(d.get(k) ?? '')
    filters.callback = d.get('callback') === '1' ? '1' : ''
    filters.page = 1
    void renderHistory()
  })
  const box = h('div', { class: 'muted', text: '…' })
  main.replaceChildren(h('h2', { text: t('history') }), form, box)
  let data
  try {
    data = await api(`/api/calls?${query()}`)
  } catch (err) {
    box.replaceWith(h('p', { class: 'error', text: `${t('error')}: ${err.message}` }))
    return
  }
  if (data.calls.length === 0) { box.replaceWith(h('div', { class: 'empty', text: t('noCalls') })); return }
  const rows = data.calls.map(c => {
    const tr = h('tr', { 'data-call-id': c.id },
      h('td', { text: fmtTime(c.startedAt) }), h('td', {}, badge(c.direction)),
      h('td', { class: 'number', text: c.direction === 'outbound' ? c.to : c.from || '—' }),
      summaryCell(c, h, lang),
      h('td', { class: 'num' }, fmtDur(c.durationMs), ' ', recordedMark(c, h, t)), h('td', {}, badge(c.outcome ?? 'in-progress')),
      h('td', { class: 'num', text: fmtUsd(c.costUsd) }), h('td', { class: 'num wide', text: fmtMs(c.timeToFirstAudioMs) }))
    tr.addEventListener('click', () => { location.hash = `#call/${encodeURIComponent(c.id)}` })
    return tr
  })
  const pages = Math.max(1, Math.ceil(data.total / data.limit))
  const go = (p) => { filters.page = p; void renderHistory() }
  box.replaceWith(h('div', { class: 'table-wrap' }, h('table', { id: 'history-table' },
    h('thead', {}, h('tr', {}, ['started', 'direction', 'number'].map(k => h('th', { text: t(k) })), h('th', { text: st(lang, 'request') }),
      ['duration', 'outcome', 'cost'].map(k => h('th', { text: t(k) })), h('th', { class: 'wide', text: t('ttfa') }))),
    h('tbody', {}, rows))),
  h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: data.page <= 1, onclick: () => go(data.page - 1), text: t('prev') }),
    h('span', { text: `${t('page')} ${data.page} / ${pages} · ${data.total} ${t('calls')}` }),
    h('button', { type: 'button', disabled: data.page >= pages, onclick: () => go(data.page + 1), text: t('next') })))
}

async function renderDetail (id) {
  main.replaceChildren(h('a', { href: '#history', class: 'back', text: t('back') }), h('div', { class: 'muted', text: '…' }))
  let c
  try {
    c = await api(`/api/calls/${encodeURIComponent(id)}`)
  } catch (err) {
    main.append(h('p', { class: 'error', text: `${t('error')}: ${err.message}` }))
    return
  }
  const fact = (k, v) => h('div', { class: 'fact' }, h('div', { class: 'k', text: t(k) }), h('div', { class: 'v' }, v))
  const facts = h('div', { class: 'facts' },
    fact('started', fmtTime(c.startedAt)), fact('ended', fmtTime(c.endedAt)), fact('duration', fmtDur(c.durationMs)),
    fact('direction', badge(c.direction)), fact('fromNumber', c.fromFull ?? (c.from || '—')), fact('toNumber', c.toFull ?? (c.to || '—')),
    fact('outcome', badge(c.outcome ?? 'in-progress')), fact('endReason', c.endReason ?? '—'), fact('cost', fmtUsd(c.costUsd)),
    fact('ttfa', fmtMs(c.timeToFirstAudioMs)), fact('lateFrames', c.lateFrames ?? '—'), fact('bargeIns', c.bargeIns),
    fact('backchannels', c.backchannels), fact('callerAudio', fmtDur(c.callerAudioMs)), fact('assistantAudio', fmtDur(c.assistantAudioMs)),
    fact('model', c.model ?? '—'), fact('persona', c.persona ?? '—'))
  const lines = c.transcript.length === 0
    ? h('p', { class: 'muted', text: t('noTranscript') })
    : h('ul', { class: 'transcript', id: 'detail-transcript' }, c.transcript.map(line => lineItem(line, c.direction)))
  const tools = c.tools.length === 0
    ? h('p', { class: 'muted', text: t('noTools') })
    : h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['name', 'ok', 'latency', 'result'].map(k => h('th', { text: t(k) })))),
      h('tbody', {}, c.tools.map(x => h('tr', {}, h('td', { text: x.name }), h('td', { text: x.ok ? '✓' : '✗' }), h('td', { class: 'num', text: fmtMs(x.latencyMs) }), h('td', { text: x.result ?? '' }))))))
  main.replaceChildren(h('a', { href: '#history', class: 'back', text: t('back') }),
    h('section', { class: 'detail', 'data-call-id': c.id }, summaryCard(c, h, lang), notificationsCard(c, h, lang), h('h2', { class: 'number', text: c.id }), facts, voicemailSection(c, t, h),
      recordingSection(c, h, t),
      transferSection(h, lang, c.transfers),
      h('h2', { text: t('transcript') }), h('div', { class: 'card' }, lines), h('h2', { text: t('tools') }), tools,
      deleteButton(c, h, t, () => { location.hash = '#history' })))
}

// ---- overview ----
function barChart (days, key, cls, fmt) {
  const W = 600; const H = 180; const pad = 28; const bw = (W - pad) / days.length
  const max = Math.max(...days.map(d => d[key]), key === 'calls' ? 1 : 0.0001)
  const bars = days.map((d, i) => {
    const bh = (H - 30) * d[key] / max
    return svg('rect', { class: `bar ${cls}`, x: pad + i * bw + 1, y: H - 20 - bh, width: Math.max(1, bw - 2), height: bh }, svg('title', { text: `${d.day}: ${fmt(d[key])}` }))
  })
  // Every seventh day, counted back from today so the last bar is always labelled.
  const labels = days.flatMap((d, i) => (days.length - 1 - i) % 7 === 0
    ? [svg('text', { x: pad + i * bw + bw / 2, y: H - 6, 'text-anchor': i === days.length - 1 ? 'end' : 'middle', text: d.day.slice(5) })]
    : [])
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' },
    svg('line', { x1: pad, x2: W, y1: H - 20, y2: H - 20, stroke: '#c9ced8' }),
    svg('text', { x: 0, y: 12, text: fmt(max) }), bars, labels)
}
async function renderOverview () {
  main.replaceChildren(h('h2', { text: t('overview') }), h('div', { class: 'muted', text: '…' }))
  let o
  let budget = []
  try {
    o = await api(`/api/overview?days=30&tzOffset=${-new Date().getTimezoneOffset()}`)
    budget = await budgetCard(t, h, svg, api)
  } catch (err) {
    main.append(h('p', { class: 'error', text: `${t('error')}: ${err.message}` }))
    return
  }
  const maxOutcome = Math.max(1, ...o.outcomes.map(x => x.calls))
  main.replaceChildren(h('h2', { text: t('overview') }), h('div', { class: 'charts', id: 'overview' }, budget,
    h('section', { class: 'card chart' }, h('h2', { text: t('callsPerDay') }), h('p', { class: 'muted', text: `${t('total')} ${o.calls} ${t('calls')}` }), barChart(o.days, 'calls', '', n => String(Math.round(n)))),
    h('section', { class: 'card chart' }, h('h2', { text: t('costPerDay') }), h('p', { class: 'muted', text: `${t('total')} ${fmtUsd(o.costUsd)}` }), barChart(o.days, 'costUsd', 'cost', n => `$${n.toFixed(3)}`)),
    h('section', { class: 'card' }, h('h2', { text: t('outcomes') }), o.outcomes.length === 0
      ? h('p', { class: 'muted', text: t('noCalls') })
      : o.outcomes.map(x =>
        h('div', { class: 'hbar' }, h('span', { class: 'name' }, badge(x.outcome)),
          svg('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none' }, svg('rect', { x: 0, y: 0, height: 10, width: 100 * x.calls / maxOutcome, fill: '#1f6feb' })),
          h('span', { class: 'n', text: x.calls })))),
    h('section', { class: 'card' }, h('h2', { text: t('medianTtfa') }), h('div', { class: 'big', id: 'median-ttfa', text: fmtMs(o.medianTimeToFirstAudioMs) })),
    overviewCards(o, h, lang)))
}

// ---- frame ----
const view = () => (location.hash.replace(/^#/, '').split('/')[0] || 'live')
function route () {
  const [name, id] = location.hash.replace(/^#/, '').split('/')
  for (const a of document.querySelectorAll('.tabs a')) a.classList.toggle('on', a.dataset.view === (name === 'call' ? 'history' : name || 'live'))
  // #history/callback: the overview's link to the calls to ring back.
  if (name === 'history' && id === 'callback') filters.callback = '1'
  if (name === 'history') void renderHistory()
  else if (name === 'overview') void renderOverview()
  else if (name === 'call' && id) void renderDetail(decodeURIComponent(id))
  else renderLive()
}
function applyLang () {
  document.documentElement.lang = lang
  document.title = `${t('title')} / ${lang === 'ja' ? T.en.title : T.ja.title}`
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n)
  document.getElementById('lang').textContent = t('otherLang')
}
document.getElementById('lang').addEventListener('click', () => {
  lang = lang === 'ja' ? 'en' : 'ja'
  localStorage.setItem('console-lang', lang)
  applyLang()
  route()
})
window.addEventListener('hashchange', route)
applyLang()
connect()
route()
setInterval(tick, 1000)
