// The page's side of a softphone call: it gets a media URL from the server,
// then talks on /media exactly as Vonage does (websocket:connected, 20 ms L16
// frames both ways, {"action":"clear"} on barge-in), plus the softphone's own
// transcript messages. Audio itself is handled in audio-worklet.js.

const $ = (id) => document.getElementById(id)
const key = new URLSearchParams(location.search).get('key')

/** @type {null | { ws: WebSocket, ctx: AudioContext, stream: MediaStream, ended: boolean }} */
let call = null

const stats = { sent: 0, received: 0, clears: 0, bufferedMs: 0, underruns: 0, flushMs: 0, backchannels: 0, bargeIns: 0 }
/** When the last clear arrived: the player's answer to it measures how fast playback stopped. */
let clearedAt = 0

function setState (state, text) {
  document.body.dataset.state = state
  $('status').textContent = text
  $('call').disabled = state === 'connecting' || state === 'in-call'
  $('hangup').disabled = state !== 'in-call'
}

/** RMS 0..1 on a 60 dB scale, as ears hear it; the raw value stays in data-level for tests and curious people. */
function showLevel (meter, rms) {
  meter.value = rms <= 0 ? 0 : Math.max(0, Math.min(1, (20 * Math.log10(rms) + 60) / 60))
  meter.dataset.level = rms.toFixed(4)
  if (rms > Number(meter.dataset.peak)) meter.dataset.peak = rms.toFixed(4)
}

function showStats () {
  const s = $('stats')
  s.textContent = `送信 / sent ${stats.sent} · 受信 / received ${stats.received} frames · buffer ${Math.round(stats.bufferedMs)} ms · underruns ${stats.underruns} · barge-ins ${stats.clears} · 相づち / backchannels ${stats.backchannels}`
  for (const [k, v] of Object.entries(stats)) s.dataset[k] = String(Math.round(v))
}

// ---- transcript ---------------------------------------------------------

const lines = new Map()

function lineFor (msg) {
  let p = lines.get(msg.item)
  if (p === undefined) {
    p = document.createElement('p')
    p.className = `${msg.role} partial`
    p.dataset.role = msg.role
    p.dataset.item = msg.item
    lines.set(msg.item, p)
    $('transcript').append(p)
  }
  return p
}

function onTranscript (msg) {
  if (typeof msg.item !== 'string' || (msg.role !== 'caller' && msg.role !== 'assistant')) return
  const p = lineFor(msg)
  const box = $('transcript')
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 8
  if (msg.final === true) {
    p.textContent = msg.text
    p.classList.remove('partial')
  } else {
    p.textContent += msg.text
  }
  if (atBottom) box.scrollTop = box.scrollHeight
}

/**
 * How the server took the caller's last sound, in the status line, so the
 * owner hears a sound and reads at once whether it cut the assistant off.
 */
function onTurn (msg) {
  if (call === null) return
  let text
  if (msg.kind === 'backchannel') {
    stats.backchannels++
    const words = typeof msg.text === 'string' && msg.text !== '' ? `「${msg.text}」` : '（ことばなし / no words）'
    text = `相づちとして聞き流しました / Taken as a backchannel: ${words} ${Number(msg.ms) || 0} ms`
  } else if (msg.kind === 'barge-in') {
    stats.bargeIns++
    text = msg.heardMs === null
      ? '割り込みとして止めました / Taken as an interruption'
      : `割り込みとして止めました / Taken as an interruption (${(Number(msg.heardMs) / 1000).toFixed(1)} s 再生後 / after ${(Number(msg.heardMs) / 1000).toFixed(1)} s)`
  } else {
    return
  }
  document.body.dataset.lastTurn = msg.kind
  $('status').textContent = `通話中 / In call — ${text}`
  showStats()
}

function markCut () {
  const last = [...lines.values()].reverse().find(p => p.dataset.role === 'assistant')
  last?.classList.add('cut')
}

// ---- call ---------------------------------------------------------------

async function start () {
  // Browsers lend the microphone and worklets to https pages and to localhost only.
  if (!window.isSecureContext || navigator.mediaDevices === undefined) {
    throw new Error('マイクは https か localhost のページでのみ使えます / the microphone needs an https (or localhost) page')
  }
  setState('connecting', '接続中… / Connecting…')
  // Made inside the click, so no autoplay policy holds it suspended.
  const ctx = new AudioContext({ latencyHint: 'interactive' })
  let stream
  try {
    // The mic before the server: a refused permission must not cost a model session.
    stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } })
    await ctx.audioWorklet.addModule('/softphone/audio-worklet.js')
  } catch (err) {
    await ctx.close()
    throw new Error(`マイクを使えません / cannot use the microphone: ${err.message}`)
  }
  const res = await fetch('/softphone/call', { method: 'POST', headers: key !== null ? { 'x-softphone-key': key } : {} })
  if (!res.ok) {
    for (const t of stream.getTracks()) t.stop()
    await ctx.close()
    const body = await res.json().catch(() => ({}))
    throw new Error(body.message ?? `HTTP ${res.status}`)
  }
  const { wsUrl, rate } = await res.json()

  const mic = new AudioWorkletNode(ctx, 'l16-capture', { processorOptions: { rate }, numberOfOutputs: 1, outputChannelCount: [1] })
  // Playback starts 60 ms after the first frame: enough for the network's jitter, little for conversation.
  const player = new AudioWorkletNode(ctx, 'l16-player', { processorOptions: { rate, targetMs: 60, maxMs: 2000 }, numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] })
  player.connect(ctx.destination)
  // The capture node outputs silence; being connected keeps it pulled in every browser.
  mic.connect(ctx.destination)
  const source = ctx.createMediaStreamSource(stream)

  const ws = new WebSocket(wsUrl)
  ws.binaryType = 'arraybuffer'
  call = { ws, ctx, stream, ended: false }
  const thisCall = call

  ws.addEventListener('open', () => {
    ws.send(JSON.stringify({ event: 'websocket:connected', 'content-type': `audio/l16;rate=${rate}` }))
    source.connect(mic)
    delete document.body.dataset.lastTurn
    setState('in-call', '通話中 / In call')
  })
  mic.port.onmessage = ({ data }) => {
    showLevel($('meter-caller'), data.level)
    if (ws.readyState === WebSocket.OPEN) { ws.send(data.frame); stats.sent++ }
  }
  player.port.onmessage = ({ data }) => {
    if (data.clears === stats.clears && clearedAt > 0) { stats.flushMs = performance.now() - clearedAt; clearedAt = 0 }
    showLevel($('meter-assistant'), data.level)
    stats.bufferedMs = data.bufferedMs
    stats.underruns = data.underruns
    showStats()
  }
  ws.addEventListener('message', ({ data }) => {
    if (data instanceof ArrayBuffer) {
      stats.received++
      player.port.postMessage({ frame: data }, [data])
      return
    }
    let msg
    try { msg = JSON.parse(data) } catch { return }
    if (msg.action === 'clear') {
      // Barge-in: the caller is talking, so the assistant stops now, not after what is queued.
      clearedAt = performance.now()
      player.port.postMessage({ clear: true })
      stats.clears++
      markCut()
      ws.send(JSON.stringify({ event: 'websocket:cleared' }))
    } else if (msg.event === 'transcript') {
      onTranscript(msg)
    } else if (msg.event === 'turn') {
      onTurn(msg)
    }
  })
  ws.addEventListener('close', (ev) => {
    const why = ev.code === 1000 || ev.code === 1005 ? (ev.reason || 'hangup') : `${ev.code} ${ev.reason}`.trim()
    void finish(thisCall, `通話終了 / Call ended (${why})`)
  })
  ws.addEventListener('error', () => {
    if (!thisCall.ended) void finish(thisCall, '接続エラー / Connection error', 'error')
  })
}

async function finish (c, text, state = 'ended') {
  if (c.ended) return
  c.ended = true
  if (c.ws.readyState === WebSocket.OPEN || c.ws.readyState === WebSocket.CONNECTING) c.ws.close(1000, 'hangup')
  for (const t of c.stream.getTracks()) t.stop()
  await c.ctx.close().catch(() => {})
  for (const id of ['meter-caller', 'meter-assistant']) showLevel($(id), 0)
  if (call === c) call = null
  setState(state, text)
}

$('call').addEventListener('click', () => {
  for (const p of lines.values()) p.remove()
  lines.clear()
  start().catch((err) => setState('error', `エラー / Error: ${err.message}`))
})
$('hangup').addEventListener('click', () => {
  if (call !== null) void finish(call, '通話終了 / Call ended (hangup)')
})
setState('idle', '待機中 / Idle')
