/**
 * The browsers the page tests run in, behind one small page interface: Chromium through
 * playwright-core (chromium.ts launches it), Firefox ESR through puppeteer-core over WebDriver
 * BiDi. Each is launched so that nothing leaves the machine and no address hides behind an
 * mDNS name. Firefox gathers no 127.0.0.1 candidate: its pairs use this machine's own host
 * address, which the kernel routes through `lo` (the tests check every selected candidate).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page as PlaywrightPage } from 'playwright-core';
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';
export const BROWSERS: readonly BrowserName[] = ['chromium', 'firefox'];

export const FIREFOX = process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr';

/** What the page tests need of a page, whichever library drives it. Functions handed in run in the page. */
export interface BrowserPage {
  readonly browser: BrowserName;
  goto(url: string): Promise<void>;
  /** Adds a `<script type="module">` with `content`. */
  addModule(content: string): Promise<void>;
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Resolves once `fn(arg)` is truthy in the page (polled every 20 ms), or rejects after `timeoutMs`. */
  waitFor<A>(fn: (arg: A) => unknown, arg: A, timeoutMs: number): Promise<void>;
  onPageError(listener: (message: string) => void): void;
  bringToFront(): Promise<void>;
  close(): Promise<void>;
}

export function playwrightPage(page: PlaywrightPage): BrowserPage {
  return {
    browser: 'chromium',
    goto: async (url) => void (await page.goto(url)),
    addModule: async (content) => void (await page.addScriptTag({ type: 'module', content })),
    // Playwright's own overloads type the argument as it serializes it; the page functions here take plain JSON.
    evaluate: <R, A>(fn: (arg: A) => R | Promise<R>, arg?: A) => page.evaluate(fn as (arg: unknown) => R, arg),
    waitFor: async (fn, arg, timeoutMs) => void (await page.waitForFunction(fn as (arg: unknown) => unknown, arg, { timeout: timeoutMs, polling: 20 })),
    onPageError: (listener) => void page.on('pageerror', (error) => listener(error.message)),
    bringToFront: () => page.bringToFront(),
    close: () => page.close(),
  };
}

export function puppeteerPage(page: PuppeteerPage): BrowserPage {
  return {
    browser: 'firefox',
    goto: async (url) => void (await page.goto(url)),
    addModule: async (content) => void (await page.addScriptTag({ type: 'module', content })),
    evaluate: <R, A>(fn: (arg: A) => R | Promise<R>, arg?: A) => page.evaluate(fn as (arg: unknown) => Promise<R>, arg) as Promise<R>,
    waitFor: async (fn, arg, timeoutMs) => void (await page.waitForFunction(fn as (arg: unknown) => unknown, { timeout: timeoutMs, polling: 20 }, arg)),
    onPageError: (listener) => void page.on('pageerror', (error) => listener(error instanceof Error ? error.message : String(error))),
    bringToFront: () => page.bringToFront(),
    close: () => page.close(),
  };
}

/**
 * Prefs for a Firefox that stays on this machine: host addresses, not mDNS names; loopback
 * candidates allowed; and none of the background services that phone home (puppeteer sets
 * most of those already).
 */
const FIREFOX_PREFS = {
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.loopback': true,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'app.update.auto': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

/** A fresh Firefox profile with the prefs above; for tests that drive puppeteer directly (useBrowser() wraps it). */
export async function launchFirefox(viewport = { width: 1100, height: 720 }, prefs: Record<string, string | boolean | number> = {}): Promise<{ browser: PuppeteerBrowser; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'roommesh-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: dir,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
    defaultViewport: viewport, // page.setViewport() later needs a BiDi command Firefox 140 lacks (screen orientation)
  });
  return {
    browser,
    async dispose() {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
