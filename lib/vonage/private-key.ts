import { createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'

export type PrivateKeySource =
  | { ok: true, pem: string, from: 'VONAGE_PRIVATE_KEY' | 'VONAGE_PRIVATE_KEY_PATH' }
  | { ok: false, problem: 'missing' | 'invalid', from: 'VONAGE_PRIVATE_KEY' | 'VONAGE_PRIVATE_KEY_PATH' }

/**
 * The PEM from VONAGE_PRIVATE_KEY (wins) or the file at VONAGE_PRIVATE_KEY_PATH.
 * Secret stores often keep a PEM on one line with literal "\n"; those are
 * turned back into line breaks.
 */
export function loadPrivateKey (inline: string, path: string): PrivateKeySource {
  const from = inline !== '' ? 'VONAGE_PRIVATE_KEY' : 'VONAGE_PRIVATE_KEY_PATH'
  let pem = inline
  if (pem === '') {
    try {
      pem = readFileSync(path, 'utf8')
    } catch {
      return { ok: false, problem: 'missing', from }
    }
  }
  if (!pem.includes('\n') && pem.includes('\\n')) pem = pem.replace(/\\n/g, '\n')
  pem = pem.trim()
  try {
    createPrivateKey(pem)
  } catch {
    return { ok: false, problem: 'invalid', from }
  }
  return { ok: true, pem, from }
}
