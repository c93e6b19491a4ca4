// A call's recording (a player that seeks through byte ranges) and its deletion, for the call detail view.
// Kept apart from console.js so the features that add to the detail view do not edit the same lines.

export const AUDIO_T = {
  ja: {
    recording: '録音',
    recorded: '録音あり',
    recordingNote: '左が発信者、右が AI です。スタッフへ転送した通話は、転送までの AI との会話だけが録音されています。',
    deleteCall: 'この通話を削除',
    confirmDelete: 'この通話の文字起こし・録音・電話番号をすべて削除します。元に戻すことはできません。削除してよろしいですか？',
    deleting: '削除しています…',
    deleteFailed: '削除できませんでした'
  },
  en: {
    recording: 'Recording',
    recorded: 'Recorded',
    recordingNote: 'Left: the caller, right: the AI. Calls moved to staff hold the conversation with the AI up to the transfer.',
    deleteCall: 'Delete this call',
    confirmDelete: 'This deletes the call\'s transcript, recording and phone numbers for good. It cannot be undone. Delete it?',
    deleting: 'Deleting…',
    deleteFailed: 'Could not delete'
  }
}

const recordingUrl = (id) => `/api/calls/${encodeURIComponent(id)}/recording`

/** The REC mark of a history row (null when the call has no recording). */
export function recordedMark (c, h, t) {
  return (c.audio ?? []).includes('recording') ? h('span', { class: 'badge rec', title: t('recorded'), text: t('recording') }) : null
}

/** The detail view's player (null when the call has no recording). */
export function recordingSection (c, h, t) {
  if (!(c.audio ?? []).includes('recording')) return null
  return h('section', { class: 'recording' },
    h('h2', { text: t('recording') }),
    h('audio', { controls: true, preload: 'metadata', src: recordingUrl(c.id), id: 'recording-player' }),
    h('p', { class: 'muted', text: t('recordingNote') }))
}

/** Deletes the call after the owner confirms; `done` runs once it is gone. */
export function deleteButton (c, h, t, done) {
  const btn = h('button', { type: 'button', class: 'danger', id: 'delete-call', text: t('deleteCall') })
  const status = h('span', { class: 'error', role: 'status' })
  btn.addEventListener('click', async () => {
    if (!window.confirm(t('confirmDelete'))) return
    btn.disabled = true
    btn.textContent = t('deleting')
    const res = await fetch(`/api/calls/${encodeURIComponent(c.id)}`, { method: 'DELETE', credentials: 'same-origin' }).catch(() => null)
    if (res !== null && (res.status === 204 || res.status === 404)) { done(); return }
    const body = res === null ? {} : await res.json().catch(() => ({}))
    btn.disabled = false
    btn.textContent = t('deleteCall')
    status.textContent = `${t('deleteFailed')}: ${body.message ?? (res === null ? 'network' : res.status)}`
  })
  return h('div', { class: 'delete-call' }, btn, status)
}
