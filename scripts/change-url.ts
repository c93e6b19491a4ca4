import { runChangeUrl } from '../lib/change-url.js'

// Thin wrapper: the logic (and its tests) live in lib/change-url.ts.
process.exitCode = await runChangeUrl(process.argv.slice(2))
