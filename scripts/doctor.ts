import { envFilePath } from '../lib/config/schema.js'
import { runDoctor, formatChecks, exitCode } from '../lib/doctor/checks.js'

// Thin wrapper: the checks (and their tests) live in lib/doctor/.
const dotenvPath = envFilePath()
process.stdout.write(`npm run doctor — デプロイ前の点検 / pre-deploy check (${dotenvPath})\n\n`)
const checks = await runDoctor({ dotenvPath, notifyTest: process.argv.includes('--notify-test') })
process.stdout.write(formatChecks(checks).join('\n') + '\n')
process.exitCode = exitCode(checks)
