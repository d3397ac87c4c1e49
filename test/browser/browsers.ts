/**
 * One browser per page-test file (useBrowser): pages.ts launches Chromium or Firefox and wraps
 * their pages in one small interface; this module ties them to vitest's hooks.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium } from './launch-chromium.js';
import { launchFirefox, playwrightPage, puppeteerPage, type BrowserName, type BrowserPage } from './pages.js';

export { BROWSERS, FIREFOX, launchFirefox, type BrowserName, type BrowserPage } from './pages.js';

/** One browser for the calling test file (launched before its tests, closed after); `newPage()` opens a tab, closed after its test. */
export function useBrowser(name: BrowserName, launchWith: { chromiumArgs?: string[]; firefoxPrefs?: Record<string, string | boolean | number> } = {}): () => Promise<BrowserPage> {
  let open: (() => Promise<BrowserPage>) | undefined;
  let dispose: (() => Promise<void>) | undefined;
  const pages: BrowserPage[] = [];
  afterEach(async () => {
    await Promise.all(pages.splice(0).map((page) => page.close().catch(() => undefined)));
  });
  beforeAll(async () => {
    if (name === 'chromium') {
      const chromium = await launchChromium(launchWith.chromiumArgs);
      open = async () => playwrightPage(await chromium.context.newPage());
      dispose = () => chromium.dispose();
    } else {
      const firefox = await launchFirefox(undefined, launchWith.firefoxPrefs);
      open = async () => puppeteerPage(await firefox.browser.newPage());
      dispose = () => firefox.dispose();
    }
  }, 60_000);
  afterAll(async () => {
    await dispose?.();
  });
  return async () => {
    if (open === undefined) throw new Error(`${name} is not running (useBrowser() must be called at the top of a test file)`);
    const page = await open();
    pages.push(page);
    return page;
  };
}
