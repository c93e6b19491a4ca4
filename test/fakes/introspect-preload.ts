/**
 * Preloaded into a server process by the reliability tests
 * (`node --expose-gc --import tsx --import …/introspect-preload.ts dist/server.js`, spawned
 * with an IPC channel): on {cmd:'stats'} it collects garbage and replies with
 * the heap, the open handles by kind and the process's memory, so a test can
 * tell whether calls leave anything behind. Nothing else.
 */
const gc = (globalThis as { gc?: () => void }).gc

process.on('message', (m: { cmd?: string }) => {
  if (m?.cmd !== 'stats') return
  // A few rounds: weak callbacks and finalizers free more on the next pass.
  for (let i = 0; i < 4; i++) gc?.()
  setImmediate(() => {
    gc?.()
    const resources: Record<string, number> = {}
    for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1
    const mem = process.memoryUsage()
    process.send?.({ stats: { heapUsed: mem.heapUsed, rss: mem.rss, external: mem.external, arrayBuffers: mem.arrayBuffers, resources, gc: gc !== undefined } })
  })
})
