/**
 * The control: a process that does nothing but wake every 5 ms, timing how
 * late each wake-up is: the machine's own jitter (the VM, the kernel, the
 * other processes). It runs on the load generators' cores, not the server's:
 * there its 200 wake-ups a second each preempted the server, which then
 * waited for its core 2-4 times as long in all (a third of its late beats).
 * IPC: {cmd:'window'}, {cmd:'stats'} → {stats}.
 */
import { Histogram } from './histogram.js'

const PERIOD_MS = 5
const late = new Histogram()
const start = performance.now()
let n = 0
function beat (): void {
  const now = performance.now()
  const deadline = start + n * PERIOD_MS
  late.record((now - deadline) * 1000)
  n = Math.max(n + 1, Math.ceil((now - start) / PERIOD_MS))
  setTimeout(beat, Math.max(0, start + n * PERIOD_MS - performance.now()))
}
n = 1
setTimeout(beat, PERIOD_MS)

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'window') { late.reset(); process.send!({ window: true }) }
  if (m.cmd === 'stats') process.send!({ stats: late.toJSON() })
})
process.on('disconnect', () => process.exit(0))
process.send!({ ready: true })
