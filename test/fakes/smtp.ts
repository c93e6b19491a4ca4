import { SMTPServer } from 'smtp-server'
import type { TestContext } from 'node:test'

export interface ReceivedMail {
  from: string
  to: string[]
  messageId: string
  subject: string
  text: string
}

export interface FakeSmtp {
  /** SMTP_URL, with the user and password this server accepts. */
  url: string
  mails: ReceivedMail[]
  logins: number
  close: () => Promise<void>
}

/** RFC 2047 encoded words (=?UTF-8?B?…?= / ?Q?), as nodemailer writes Japanese subjects. */
function decodeWords (s: string): string {
  return s.replace(/\s*=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_m, enc: string, data: string) => enc.toUpperCase() === 'B'
    ? Buffer.from(data, 'base64').toString('utf8')
    : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'))
}

function decodeBody (body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (encoding === 'quoted-printable') return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
  return body
}

/** A single-part text mail as nodemailer sends it: headers unfolded and decoded. */
export function parseMail (raw: string): Omit<ReceivedMail, 'from' | 'to'> {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const headers = new Map(head.split('\r\n').map(l => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  return {
    messageId: headers.get('message-id') ?? '',
    subject: decodeWords(headers.get('subject') ?? ''),
    text: decodeBody(raw.slice(split + 4), (headers.get('content-transfer-encoding') ?? '').toLowerCase())
  }
}

/** A real SMTP conversation (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA) on 127.0.0.1, without TLS. */
export async function startFakeSmtp (t: TestContext, user = 'owner', pass = 'smtp-pass-0123456789'): Promise<FakeSmtp> {
  const fake: FakeSmtp = { url: '', mails: [], logins: 0, close: async () => { await new Promise<void>(resolve => server.close(() => resolve())) } }
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    // Loopback only: the login goes in the clear, as to a local relay.
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth (auth, _session, cb) {
      if (auth.username === user && auth.password === pass) { fake.logins++; cb(null, { user }) } else cb(new Error('Invalid username or password'))
    },
    onData (stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const mail = parseMail(Buffer.concat(chunks).toString('utf8'))
        fake.mails.push({ ...mail, from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address, to: session.envelope.rcptTo.map(r => r.address) })
        cb()
      })
    }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.server.address() as { port: number }).port
  fake.url = `smtp://${user}:${pass}@127.0.0.1:${port}`
  t.after(() => fake.close())
  return fake
}
