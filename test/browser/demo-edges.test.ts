/**
 * The demo room page at its edges, in Chromium (playwright-core) and Firefox (puppeteer-core),
 * at 1280 and 390 px: names of 128 characters, names of emoji, a name two participants share, a
 * sender that leaves mid-transfer, the composer kept in reach on a phone, and the header while
 * the service is down. Screenshots land in test-artifacts/demo-edges-<browser>-<width>.png.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomClient } from '../../client/index.js';
import { startServer, withTimeout } from '../helpers.js';
import { launchFirefox } from './browsers.js';
import { launchChromium } from './chromium.js';

const ARTIFACTS = 'test-artifacts';
const LONG = `${'Bartholomew-'.repeat(10)}Longname`.slice(0, 128);
const EMOJI = '🧑‍🚀👩🏽‍💻🏳️‍🌈 crew';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** What the scenario needs of a page; Playwright's and Puppeteer's pages both have it. */
interface Page {
  goto(url: string): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  screenshot(options: { path: string; fullPage: boolean }): Promise<unknown>;
  close(): Promise<void>;
}

type Sizes = Record<'390' | '1280', () => Promise<Page>>;
const pages: Partial<Record<'chromium' | 'firefox', Sizes>> = {};
const disposers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const chromium = await launchChromium();
  disposers.push(chromium.dispose);
  const sized = (width: number, height: number) => async (): Promise<Page> => {
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width, height });
    return page as unknown as Page;
  };
  pages.chromium = { '1280': sized(1280, 800), '390': sized(390, 844) };
  const [desktop, phone] = [await launchFirefox({ width: 1280, height: 800 }), await launchFirefox({ width: 390, height: 844 })];
  disposers.push(desktop.dispose, phone.dispose);
  pages.firefox = { '1280': async () => (await desktop.browser.newPage()) as unknown as Page, '390': async () => (await phone.browser.newPage()) as unknown as Page };
}, 90_000);
afterAll(async () => {
  await Promise.all(disposers.map((dispose) => dispose()));
});

/** Polls `check` in the page until it returns true, or fails naming `label`. */
async function pageUntil<A>(page: Page, check: (arg: A) => boolean, arg: A, label: string, timeoutMs = 10_000): Promise<void> {
  await withTimeout(
    (async () => {
      while (!(await page.evaluate(check, arg))) await new Promise((resolve) => setTimeout(resolve, 50));
    })(),
    timeoutMs,
    label,
  );
}

async function node(url: string, room: string, name: string): Promise<RoomClient> {
  const client = new RoomClient({ url, room, name, iceServers: [], logger: quiet });
  await client.start();
  await client.messaging.enable();
  return client;
}

for (const browser of ['chromium', 'firefox'] as const) {
  for (const width of ['1280', '390'] as const) {
    describe(`the demo page in ${browser} at ${width} px`, () => {
      it('keeps long, emoji and shared names legible, ends a transfer whose sender left, keeps the composer in reach, and says the service is lost until it is back', async () => {
        const server = await startServer();
        const room = `edges-${browser}-${width}`;
        const others = [await node(server.url, room, LONG), await node(server.url, room, EMOJI), await node(server.url, room, 'pat')];
        const sender = await node(server.url, room, 'sender');
        const page = await pages[browser]?.[width]();
        if (page === undefined) throw new Error(`${browser} is not running`);
        try {
          await page.goto(`${server.url}/?room=${room}&name=pat`);
          await page.evaluate(() => (document.getElementById('join') as HTMLButtonElement).click(), undefined);
          await pageUntil(page, () => document.querySelectorAll('#participants li').length === 4, undefined, 'the page lists the four others');

          // Names: nothing wider than the viewport; the shared name carries a short id; no emoji cut in half in the picture.
          const names = await page.evaluate(() => ({
            scroll: document.documentElement.scrollWidth,
            viewport: document.documentElement.clientWidth,
            listed: Array.from(document.querySelectorAll('#participants .name')).map((e) => e.textContent ?? ''),
            widest: Math.max(...Array.from(document.querySelectorAll('#participants li, #to, #status, .you')).map((e) => e.getBoundingClientRect().right)),
            labels: Array.from(document.querySelectorAll('#mesh g.node text')).map((e) => e.textContent ?? ''),
            // How far each label overflows its circle (a label fits when its width is under the diameter).
            overflow: Array.from(document.querySelectorAll('#mesh g.node')).map((g) => (g.querySelector('text') as SVGTextElement).getComputedTextLength() - 2 * Number(g.querySelector('circle')?.getAttribute('r'))),
          }), undefined);
          expect(names.scroll, 'no sideways scroll').toBeLessThanOrEqual(names.viewport);
          expect(names.widest, 'every name fits the viewport').toBeLessThanOrEqual(names.viewport);
          expect(names.listed.filter((n) => /^pat · .{4}$/.test(n))).toHaveLength(1);
          expect(names.listed).toContain(EMOJI);
          const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u200D$/;
          expect(names.labels.filter((label) => loneSurrogate.test(label))).toEqual([]);
          // The emoji name is cut between graphemes, to what fits its circle in this browser's fonts.
          const emojiLabel = names.labels.find((label) => label.startsWith('🧑‍🚀'));
          expect(emojiLabel).toMatch(/…$/);
          expect(['🧑‍🚀', '🧑‍🚀👩🏽‍💻', '🧑‍🚀👩🏽‍💻🏳️‍🌈'].map((prefix) => `${prefix}…`)).toContain(emojiLabel);
          expect(names.overflow.filter((over) => over > 0), 'every label inside its circle').toEqual([]);

          // Enough conversation to fill a phone's screen: the composer stays in reach, and only the page scrolls.
          for (let i = 0; i < 25; i++) await others[2]?.messaging.broadcastMessage({ type: 'chat', message: { text: `line ${i} from the other pat` } });
          await pageUntil(page, () => document.body.innerText.includes('line 24 from the other pat'), undefined, 'the 25 lines shown');
          const reach = await page.evaluate(() => {
            const list = document.getElementById('messages') as HTMLElement;
            return { composer: (document.getElementById('send') as HTMLElement).getBoundingClientRect().bottom, viewport: window.innerHeight, nested: list.scrollHeight > list.clientHeight + 1 };
          }, undefined);
          if (width === '390') {
            expect(reach.composer, 'the Send button is on screen').toBeLessThanOrEqual(reach.viewport);
            expect(reach.nested, 'no scroll box inside the page').toBe(false);
          }

          // A sender that leaves mid-transfer: the line says so, and no progress bar stays up.
          const pageId = await page.evaluate(() => document.getElementById('you')?.textContent ?? '', undefined);
          expect(pageId).toBe('pat');
          const target = sender.messaging.getParticipants().find((p) => p.name === 'pat' && p.id !== others[2]?.localParticipant.id);
          const sending = sender.messaging.sendMessage({ to: target?.id ?? '', type: 'chat', message: { text: '', fileName: 'big.bin' }, attachment: new Uint8Array(48 * 1024 * 1024) });
          void sending.catch(() => undefined);
          await pageUntil(page, () => document.querySelectorAll('#messages progress').length === 1, undefined, 'the transfer under way in the page');
          await sender.close();
          await pageUntil(page, () => document.body.innerText.includes('the sender left before it arrived'), undefined, 'the transfer ended in the page');
          expect(await page.evaluate(() => document.querySelectorAll('#messages progress').length, undefined)).toBe(0);

          // The service goes away: the header says so, and keeps saying so when the list is redrawn (a participant leaves over its data channel).
          await server.close();
          await pageUntil(page, () => document.getElementById('status')?.textContent?.startsWith('Lost the service') === true, undefined, 'the header says the service is lost');
          await others[0]?.close();
          await pageUntil(page, () => document.querySelectorAll('#participants li').length === 2, undefined, 'the long-named participant gone, seen over its link');
          expect(await page.evaluate(() => document.getElementById('status')?.textContent ?? '', undefined)).toMatch(/^Lost the service: open links keep working · 2 others/);

          mkdirSync(ARTIFACTS, { recursive: true });
          await page.screenshot({ path: `${ARTIFACTS}/demo-edges-${browser}-${width}.png`, fullPage: true });
        } finally {
          await page.close();
          await Promise.all([...others, sender].map((client) => client.close()));
        }
      });
    });
  }
}
