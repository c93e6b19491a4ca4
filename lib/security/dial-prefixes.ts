/**
 * Where POST /connect may dial. Country calling codes are prefix-free
 * (ITU-T E.164 assignments): 1 and 7 take one digit, the codes below two,
 * every other country three.
 */
const TWO_DIGIT_CODES = new Set([
  '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
  '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66',
  '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98'
])

/** '+81' for '+815012345678'; '' when the number is not E.164. */
export function countryCode (e164: string): string {
  const m = /^\+([1-9]\d{6,14})$/.exec(e164)
  if (m === null) return ''
  const digits = m[1]!
  if (digits[0] === '1' || digits[0] === '7') return `+${digits[0]}`
  if (TWO_DIGIT_CODES.has(digits.slice(0, 2))) return `+${digits.slice(0, 2)}`
  return `+${digits.slice(0, 3)}`
}

const PREFIX_RE = /^\+\d{1,15}$/

/** The comma list of CONNECT_ALLOWED_PREFIXES, or the problems with it. `*` allows every destination. */
export function parsePrefixes (value: string): { prefixes: string[], problems: string[] } {
  const prefixes: string[] = []
  const problems: string[] = []
  for (const p of value.split(',').map(s => s.trim()).filter(s => s !== '')) {
    if (p === '*' || PREFIX_RE.test(p)) prefixes.push(p)
    else problems.push(`CONNECT_ALLOWED_PREFIXES has a malformed entry ("${p}") — expected comma-separated prefixes such as +81 or +8150, or * for any destination`)
  }
  return { prefixes, problems }
}

export function destinationAllowed (to: string, prefixes: readonly string[]): boolean {
  return prefixes.some(p => p === '*' || to.startsWith(p))
}
