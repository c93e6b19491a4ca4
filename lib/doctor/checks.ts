import { existsSync } from 'node:fs'
import { pino } from 'pino'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../app.js'
import { ConfigError } from '../config/schema.js'
import { PortError } from '../config/port-error.js'
import { unknownNames } from '../config/unknown-names.js'
import { loadPrivateKey } from '../vonage/private-key.js'
import { changeUrl, ChangeUrlError } from '../vonage/change-url.js'
import { configuredModels, lookUpModel } from './models.js'
import { openTestSession, doctorSessionUpdate } from './session.js'
import { openLiveTestSession, doctorSessionStart } from './live-session.js'
import { notifyChecks } from '../notify/doctor.js'
import { isPublicBind } from '../security/settings.js'
import { WHERE_THE_SECRET_IS_EN, WHERE_THE_SECRET_IS_JA } from '../vonage/webhook-signature.js'

export type Status = 'ok' | 'warn' | 'fail'

/** One line of the checklist; a fix for every fail (and warn). */
export interface Check {
  status: Status
  ja: string
  en: string
  fix?: { ja: string, en: string }
}

export interface DoctorOptions {
  /** The .env file (ENV_FILE or .env), or false for none. */
  dotenvPath: string | false
  /** Settings to use instead of process.env (tests). */
  env?: Record<string, string>
  /** Vonage REST base URL instead of VONAGE_API_HOST (tests). */
  vonageApiHost?: string
  timeoutMs?: number
  /** Send one test message to each notification channel (npm run doctor -- --notify-test). */
  notifyTest?: boolean
}

/** The doctor builds the app to read settings, persona and tools: no metrics port, no model check of its own, no log lines in the checklist. */
const QUIET = { METRICS_PORT: 0, MODEL_CHECK: 'off', LOG_LEVEL: 'silent' }

/** Fly's private network address: its metrics scraper comes over it, the internet cannot. */
const FLY_PRIVATE_HOST = 'fly-local-6pn'
const ok = (ja: string, en: string): Check => ({ status: 'ok', ja, en })
const fail = (ja: string, en: string, fixJa: string, fixEn: string): Check => ({ status: 'fail', ja, en, fix: { ja: fixJa, en: fixEn } })
const warn = (ja: string, en: string, fixJa: string, fixEn: string): Check => ({ status: 'warn', ja, en, fix: { ja: fixJa, en: fixEn } })

/** Everything a deploy needs, in the order a user would fix it. Never throws. */
export async function runDoctor (o: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = []
  const timeoutMs = o.timeoutMs ?? 15_000
  const envSource = o.dotenvPath === false ? '環境変数 / the environment' : o.dotenvPath

  // ---- .env
  if (o.dotenvPath !== false && !existsSync(o.dotenvPath) && o.env === undefined) {
    checks.push(warn(`${o.dotenvPath} がありません（環境変数だけで動かす場合は問題ありません）`, `${o.dotenvPath} does not exist (fine when every setting comes from the environment, e.g. Fly secrets)`,
      'cp .env.example .env して必要な値を書いてください', 'cp .env.example .env and fill in what you need'))
  }
  for (const u of unknownNames({ dotenvPath: o.dotenvPath, env: o.env ?? process.env })) {
    checks.push(u.suggestion !== null
      ? fail(`${u.name}（${u.source === 'environment' ? '環境変数' : u.source}）は設定名ではなく、無視されています`, `${u.name} (${u.source}) is not a setting and is ignored`,
        `${u.name} を ${u.suggestion} に直してください`, `rename ${u.name} to ${u.suggestion}`)
      : warn(`${u.name}（${u.source}）は設定名ではなく、無視されています`, `${u.name} (${u.source}) is not a setting and is ignored`,
        '.env.example の一覧を確認し、不要なら消してください', 'check the list in .env.example; remove it if unneeded'))
  }

  let app: FastifyInstance | null = null
  try {
    app = await buildApp({
      config: o.env !== undefined
        ? { data: { ...o.env, ...QUIET }, env: false, dotenv: o.dotenvPath }
        : { data: QUIET, dotenv: o.dotenvPath },
      logger: pino({ level: 'silent' })
    })
    await app.ready()
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) checks.push(fail(`設定の誤り: ${p}`, `configuration error: ${p}`, `${envSource} で直してください`, `fix it in ${envSource}`))
    } else if (err instanceof PortError) {
      checks.push(fail(err.message.split(' / ')[0]!, err.message.split(' / ')[1] ?? err.message, 'ポートの設定を変えてください', 'change the port setting'))
    } else {
      checks.push(fail('サーバーを組み立てられません', `the server cannot be built: ${(err as Error).message}`, 'メッセージを確認してください', 'see the message'))
    }
    await app?.close().catch(() => {})
    return checks
  }
  try {
    checks.push(ok(`設定を読めました（${envSource}）`, `settings read (${envSource})`))
    await checkDeploySettings(app, checks)
    await checkOpenAI(app, checks, timeoutMs)
    await checkVonage(app, checks, o, timeoutMs)
    checks.push(...await notifyChecks(app.config, o.notifyTest === true, timeoutMs))
  } finally {
    await app.close().catch(() => {})
  }
  return checks
}

async function checkDeploySettings (app: FastifyInstance, checks: Check[]): Promise<void> {
  const c = app.config
  if (c.publicHost === '') {
    // Optional: inbound calls build their WebSocket URL from each webhook's Host header. Outbound calls need it.
    if (c.VONAGE_APPLICATION_ID !== '' || c.VONAGE_OUTBOUND_FROM !== '') {
      checks.push(warn('SERVER_URL が未設定です: 着信は動きますが、発信（POST /connect）は使えません', 'SERVER_URL is not set: inbound calls work, outbound calls (POST /connect) are off',
        '発信も使うなら、Fly は SERVER_URL=アプリ名.fly.dev、ngrok はその URL を設定してください', 'to place calls too, set SERVER_URL to the public host, e.g. myapp.fly.dev or your ngrok host'))
    } else {
      checks.push(ok('SERVER_URL: 未設定（任意。着信の URL は Webhook の Host ヘッダーから作ります）', 'SERVER_URL: not set (optional; inbound calls take their URLs from each webhook\'s Host header)'))
    }
  } else {
    checks.push(ok(`公開ホスト: ${c.publicHost}`, `public host: ${c.publicHost}`))
  }
  if (c.VONAGE_APPLICATION_ID !== '' || c.VONAGE_OUTBOUND_FROM !== '') {
    const key = loadPrivateKey(c.VONAGE_PRIVATE_KEY, c.VONAGE_PRIVATE_KEY_PATH)
    if (key.ok) checks.push(ok(`秘密鍵を読めました（${key.from}）`, `private key readable (${key.from})`))
    else if (key.problem === 'missing') checks.push(fail(`秘密鍵がありません（${key.from}）`, `no private key (${key.from})`, `Vonage のアプリの private.key を ${c.VONAGE_PRIVATE_KEY_PATH} に置くか、VONAGE_PRIVATE_KEY に PEM を入れてください`, `put the application's private.key at ${c.VONAGE_PRIVATE_KEY_PATH}, or its PEM text in VONAGE_PRIVATE_KEY`))
    else checks.push(fail(`秘密鍵が PEM として読めません（${key.from}）`, `the private key is not a valid PEM (${key.from})`, 'Vonage のダッシュボードで鍵を作り直し、ファイル全体（BEGIN/END 行を含む）を使ってください', 'generate a new key in the Vonage dashboard and use the whole file, BEGIN/END lines included'))
  } else {
    checks.push(ok('秘密鍵: 発信を使わないので不要です', 'private key: not needed (no outbound calls configured)'))
  }
  if (c.VONAGE_SIGNATURE_SECRET === '') {
    checks.push(fail('VONAGE_SIGNATURE_SECRET が未設定: Vonage の Webhook をすべて断ります（電話がつながりません）', 'VONAGE_SIGNATURE_SECRET is not set: every Vonage webhook is refused (calls do not connect)', `${WHERE_THE_SECRET_IS_JA} を VONAGE_SIGNATURE_SECRET に設定してください`, `set VONAGE_SIGNATURE_SECRET to the ${WHERE_THE_SECRET_IS_EN}`))
  } else {
    checks.push(ok('署名シークレットが設定されています（署名のない Webhook は拒否）', 'signature secret set (unsigned webhooks are refused)'))
  }
  checks.push(...exposureChecks(c))
}

/** What a stranger could reach: issue #21's guards that a setting can switch off. */
export function exposureChecks (c: FastifyInstance['config']): Check[] {
  const checks: Check[] = []
  if (c.ALLOW_UNSIGNED_WEBHOOKS && c.VONAGE_SIGNATURE_SECRET === '') {
    checks.push(fail('ALLOW_UNSIGNED_WEBHOOKS=true: 署名のない Webhook を受け付けます（URL を知る人なら誰でも有料の通話を始められます）', 'ALLOW_UNSIGNED_WEBHOOKS=true: unsigned webhooks are accepted (anyone who knows the URLs can start paid calls)', `ALLOW_UNSIGNED_WEBHOOKS を消し、${WHERE_THE_SECRET_IS_JA} を VONAGE_SIGNATURE_SECRET に設定してください`, `remove ALLOW_UNSIGNED_WEBHOOKS and set VONAGE_SIGNATURE_SECRET to the ${WHERE_THE_SECRET_IS_EN}`))
  }
  if (isPublicBind(c.HOST)) {
    if (c.SOFTPHONE_ENABLED === 'true' && c.SOFTPHONE_KEY === '') {
      checks.push(fail(`ソフトフォンが誰にでも開いています（SOFTPHONE_ENABLED=true、キーなし、HOST=${c.HOST}）: 通話ごとに OpenAI の料金がかかります`, `the softphone is open to anyone (SOFTPHONE_ENABLED=true, no key, HOST=${c.HOST}): each call costs OpenAI time`, 'SOFTPHONE_KEY に 16 文字以上のランダムな文字列（openssl rand -hex 16）を設定してください', 'set SOFTPHONE_KEY to 16+ random characters (openssl rand -hex 16)'))
    }
    if (c.CONSOLE_KEY === '' && c.SOFTPHONE_KEY === '') {
      const what = c.SOFTPHONE_ENABLED === 'false' ? 'コンソール' : 'コンソールとソフトフォン'
      const whatEn = c.SOFTPHONE_ENABLED === 'false' ? 'the console' : 'the console and the softphone'
      checks.push(warn(`${what}がキーなしで動いています（HOST=${c.HOST} で公開）: 同じマシンのプロキシ（nginx・トンネル）がヘッダーを足さないと、外から開けます`, `${whatEn} run without a key on a public HOST (${c.HOST}): a same-host proxy or tunnel that adds no header opens them to everyone`, 'CONSOLE_KEY と SOFTPHONE_KEY を設定してください（16 文字以上、openssl rand -hex 16）。キーを設定すると、このマシンからもキーが必要になります', 'set CONSOLE_KEY and SOFTPHONE_KEY (16+ characters, openssl rand -hex 16); once a key is set, this machine needs it too'))
    }
  }
  if (c.METRICS_PORT !== 0 && isPublicBind(c.METRICS_HOST) && c.METRICS_HOST !== FLY_PRIVATE_HOST) {
    checks.push(warn(`メトリクスがすべてのネットワークから読めます（METRICS_HOST=${c.METRICS_HOST}、認証なし）`, `the metrics are readable from any network (METRICS_HOST=${c.METRICS_HOST}, unauthenticated)`, 'METRICS_HOST=127.0.0.1（このマシンのみ）にするか、Fly.io では fly-local-6pn にしてください', 'set METRICS_HOST=127.0.0.1 (this machine only), or fly-local-6pn on Fly.io'))
  }
  return checks
}

async function checkOpenAI (app: FastifyInstance, checks: Check[], timeoutMs: number): Promise<void> {
  const c = app.config
  if (c.AZURE_OPENAI_ENDPOINT === '') {
    for (const m of configuredModels(c)) {
      const r = await lookUpModel(c.OPENAI_BASE_URL, c.OPENAI_API_KEY, m.id, timeoutMs)
      if (r.kind === 'unauthorized') {
        checks.push(fail(`OpenAI が OPENAI_API_KEY を拒否しました（${r.status}）`, `OpenAI refused OPENAI_API_KEY (${r.status}: ${r.message})`, 'platform.openai.com の API keys で有効なキーを作り、OPENAI_API_KEY に設定してください', 'create a valid key at platform.openai.com (API keys) and set OPENAI_API_KEY'))
        return
      }
      if (r.kind === 'not-found') checks.push(fail(`${m.setting}=${m.id} は OpenAI にありません`, `OpenAI has no model ${m.id} (${m.setting})`, `${m.setting} を確認してください（.env.example の既定値を参照）`, `check ${m.setting} (see the default in .env.example)`))
      else if (r.kind === 'failed') checks.push(fail(`OpenAI に問い合わせられません（${m.id}）`, `could not ask OpenAI about ${m.id}: ${r.message}`, 'ネットワークと OPENAI_BASE_URL を確認してください', 'check the network and OPENAI_BASE_URL'))
      else if (r.shutdownDate !== null) checks.push(warn(`${m.setting}=${m.id} は ${r.shutdownDate} に提供終了予定です`, `${m.setting}=${m.id} shuts down on ${r.shutdownDate}`, `OpenAI の deprecations ページの後継モデルに ${m.setting} を変えてください`, `switch ${m.setting} to the replacement on OpenAI's deprecations page`))
      else checks.push(ok(`OpenAI のキーとモデルを確認: ${m.setting}=${m.id}（提供終了の予定なし）`, `OpenAI key and model ok: ${m.setting}=${m.id} (no shutdown announced)`))
    }
  }
  if (c.OPENAI_ENGINE === 'live') {
    const l = await openLiveTestSession(c, doctorSessionStart(app), timeoutMs)
    if (l.ok) checks.push(ok(`GPT-Live のセッションが通話と同じ session.start を受け付けました（${l.ms} ms、音声なしですぐ終了）`, `a GPT-Live session accepted the calls' session.start (session.started in ${l.ms} ms; no audio, closed at once)`))
    else checks.push(fail(`GPT-Live のセッションが開けないか、設定を拒否しました: ${l.message}`, `the GPT-Live session failed or refused the calls' configuration: ${l.message}`, l.fixJa, l.fixEn))
    return
  }
  const update = doctorSessionUpdate(app)
  const s = await openTestSession(app.config, update, timeoutMs)
  if (s.ok) {
    checks.push(ok(`Realtime のセッションが通話と同じ session.update を受け付けました（${s.ms} ms、response.create なし）`, `a Realtime session accepted the calls' session.update (session.updated in ${s.ms} ms; no response.create, no cost)`))
  } else {
    checks.push(fail(`Realtime のセッションが開けないか、設定を拒否しました: ${s.message}`, `the Realtime session failed or refused the calls' configuration: ${s.message}`, s.fixJa, s.fixEn))
  }
}

async function checkVonage (app: FastifyInstance, checks: Check[], o: DoctorOptions, timeoutMs: number): Promise<void> {
  const c = app.config
  if (c.publicHost === '') {
    if (c.VONAGE_APPLICATION_ID !== '') {
      checks.push(warn('SERVER_URL がないため、Vonage アプリの Webhook の URL は確認できません', 'no SERVER_URL: the Vonage application\'s webhook URLs were not checked',
        'SERVER_URL を設定すると、アプリの answer/event URL がそこを向いているか確認します', 'set SERVER_URL to check that the application\'s answer/event URLs point at it'))
    }
    return
  }
  if (c.VONAGE_API_KEY === '' || c.VONAGE_API_SECRET === '' || c.VONAGE_APPLICATION_ID === '') {
    checks.push(warn('Vonage の API キー・シークレット・アプリ ID がないため、Webhook の URL は確認できません', 'no VONAGE_API_KEY / VONAGE_API_SECRET / VONAGE_APPLICATION_ID: the application\'s webhook URLs were not checked',
      '3 つを設定すると、アプリの answer/event URL が SERVER_URL を向いているか確認します', 'set all three to check that the application\'s answer/event URLs point at SERVER_URL'))
    return
  }
  try {
    const env = { SERVER_URL: c.SERVER_URL, VONAGE_APPLICATION_ID: c.VONAGE_APPLICATION_ID, VONAGE_API_KEY: c.VONAGE_API_KEY, VONAGE_API_SECRET: c.VONAGE_API_SECRET, VONAGE_API_HOST: c.VONAGE_API_HOST }
    const r = await changeUrl(env, { dryRun: true, apiHost: o.vonageApiHost, timeoutMs, source: 'the settings' })
    if (!r.changed) {
      checks.push(ok(`Vonage アプリの answer/event URL は ${c.publicHost} を向いています`, `the Vonage application's answer/event URLs point at ${c.publicHost}`))
    } else {
      checks.push(fail(`Vonage アプリの Webhook が別の場所を向いています: ${r.before.answer_url.address || '(なし)'}`, `the Vonage application's webhooks point elsewhere: answer_url ${r.before.answer_url.address || '(none)'}, event_url ${r.before.event_url.address || '(none)'}`,
        `npm run change-url -- prod（ローカルなら dev）で ${r.after.answer_url.address} に向けてください`, `run npm run change-url -- prod (dev for ngrok) to point them at ${r.after.answer_url.address}`))
    }
  } catch (err) {
    const message = err instanceof ChangeUrlError ? err.message : (err as Error).message
    checks.push(fail('Vonage アプリを確認できません', `could not check the Vonage application: ${message}`, 'メッセージの設定を確認してください', 'fix the setting the message names'))
  }
}

const MARK: Record<Status, string> = { ok: '✓', warn: '!', fail: '✗' }

/** The checklist as printed: each item in Japanese, then English, then the fix. */
export function formatChecks (checks: Check[]): string[] {
  const lines: string[] = []
  for (const c of checks) {
    lines.push(`${MARK[c.status]} ${c.ja}`, `  ${c.en}`)
    if (c.fix !== undefined) lines.push(`  → 直し方: ${c.fix.ja}`, `    fix: ${c.fix.en}`)
  }
  const failed = checks.filter(c => c.status === 'fail').length
  const warned = checks.filter(c => c.status === 'warn').length
  lines.push('', failed === 0
    ? `問題なし（注意 ${warned} 件）/ ready to deploy (${warned} warning${warned === 1 ? '' : 's'})`
    : `直すべき問題が ${failed} 件あります / ${failed} problem${failed === 1 ? '' : 's'} to fix before deploying`)
  return lines
}

export function exitCode (checks: Check[]): number {
  return checks.some(c => c.status === 'fail') ? 1 : 0
}
