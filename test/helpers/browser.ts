import type { TestContext } from 'node:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

/** Debian's Chromium (.ci/run installs it): what owners see is checked in a real browser, never a download of its own. */
export const CHROMIUM = '/usr/bin/chromium'
/** Skipped on a developer's machine without it; in CI a missing browser fails the test instead. */
export const chromiumSkip: string | false = !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `${CHROMIUM} is not installed (apt-get install chromium)` : false

export const ARTIFACTS = 'test-artifacts'
export const DESKTOP = { width: 1280, height: 800 }
export const PHONE = { width: 375, height: 740 }

/**
 * The flags this closed network needs: without the background-networking ones Chromium keeps
 * opening connections the machine refuses.
 */
const QUIET_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface BrowserOptions {
  /** Extra Chromium flags (autoplay, a fake microphone…). */
  args?: string[]
  viewport?: { width: number, height: number } | null
  locale?: string
  timezoneId?: string
}

/** Headless Chromium with a profile of its own, closed and removed after the test; its first page. */
export async function openBrowser (t: TestContext, o: BrowserOptions = {}): Promise<{ browser: BrowserContext, page: Page }> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'))
  t.after(() => rmSync(profile, { recursive: true, force: true }))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ...(o.viewport !== null ? { viewport: o.viewport ?? DESKTOP } : {}),
    ...(o.locale !== undefined ? { locale: o.locale } : {}),
    ...(o.timezoneId !== undefined ? { timezoneId: o.timezoneId } : {}),
    args: [...QUIET_FLAGS, ...(o.args ?? [])]
  })
  t.after(() => browser.close())
  return { browser, page: browser.pages()[0] ?? await browser.newPage() }
}

/** A full-page screenshot at desktop and phone width, into test-artifacts/console-<name>-desktop.png and -375.png. */
export async function shoot (page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.setViewportSize(DESKTOP)
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}-desktop.png`), fullPage: true })
  await page.setViewportSize(PHONE)
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}-375.png`), fullPage: true })
  await page.setViewportSize(DESKTOP)
}
