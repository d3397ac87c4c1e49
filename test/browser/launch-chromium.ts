/**
 * Debian's Chromium driven by playwright-core, launched so that nothing leaves the machine:
 * no background networking, and no mDNS: Chromium otherwise hides its addresses behind
 * random `.local` names that the Node peer would try to resolve. Playwright passes its own
 * `--disable-features` list and Chromium honours only one such flag, so the harness reads
 * Playwright's list once and launches with the two merged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const OUR_DISABLED_FEATURES = ['WebRtcHideLocalIpsWithMdns'];

let defaultDisableFeatures: Promise<string | undefined> | undefined;

async function launch(args: string[], ignoreDefaultArgs: string[]): Promise<{ context: BrowserContext; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'roommesh-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, ...args],
    ignoreDefaultArgs,
    viewport: { width: 1100, height: 720 },
  });
  return {
    context,
    async dispose() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Playwright's own `--disable-features=…` argument, read from chrome://version of a throwaway launch. */
function playwrightDisableFeatures(): Promise<string | undefined> {
  defaultDisableFeatures ??= (async () => {
    const probe = await launch([], []);
    try {
      const page = await probe.context.newPage();
      await page.goto('chrome://version');
      const commandLine = await page.locator('#command_line').innerText();
      return /--disable-features=\S+/.exec(commandLine)?.[0];
    } finally {
      await probe.dispose();
    }
  })();
  return defaultDisableFeatures;
}

/** A fresh Chromium profile with mDNS address hiding off (merged into Playwright's disabled features), and `extraArgs`. */
export async function launchChromium(extraArgs: string[] = []): Promise<{ context: BrowserContext; dispose(): Promise<void> }> {
  const theirs = await playwrightDisableFeatures();
  const features = [...(theirs?.slice('--disable-features='.length).split(',') ?? []), ...OUR_DISABLED_FEATURES];
  return launch([`--disable-features=${features.join(',')}`, ...extraArgs], theirs === undefined ? [] : [theirs]);
}
