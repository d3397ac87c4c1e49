/**
 * One Chromium per test file (useChromium), launched by launch-chromium.ts: nothing leaves the
 * machine, and no mDNS hides its addresses.
 */
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from './launch-chromium.js';

export { CHROMIUM, launchChromium } from './launch-chromium.js';

/** One Chromium for the calling test file: launched before its tests, closed after them. */
export function useChromium(): () => BrowserContext {
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.dispose();
  });
  return () => {
    if (browser === undefined) throw new Error('Chromium is not running (useChromium() must be called at the top of a test file)');
    return browser.context;
  };
}
