import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * Starts the worker module `name` that sits beside the caller's module
 * (`callerUrl`: its import.meta.url), the way the caller itself runs: from
 * source under tsx, or compiled from dist/. A worker does not inherit tsx's
 * loader hooks, so from source it registers them itself before importing.
 */
export function startWorker (callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (callerUrl.endsWith('.ts')) {
    const entry = new URL(`./${name}.ts`, callerUrl).href
    const workerData: unknown = { ...(options.workerData as object | undefined), entry }
    return new Worker('import("tsx/esm/api").then(m => { m.register(); return import(require("node:worker_threads").workerData.entry) })',
      { ...options, eval: true, workerData })
  }
  return new Worker(new URL(`./${name}.js`, callerUrl), options)
}
