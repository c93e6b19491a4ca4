import { runChangeUrl } from '../lib/vonage/change-url.js'

// Thin wrapper: the logic (and its tests) live in lib/vonage/change-url.ts.
process.exitCode = await runChangeUrl(process.argv.slice(2))
