/**
 * The demo room page in Firefox, as a person uses it (puppeteer-core over WebDriver BiDi): join
 * by the form, see a Node participant and its link in the mesh picture, send it a message and a
 * file, receive one, at desktop size and on a phone's width, with screenshots of both.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomClient, type ReceivedMessage } from '../../client/index.js';
import { startServer, withTimeout } from '../helpers.js';
import { launchFirefox } from './browsers.js';

const ARTIFACTS = 'test-artifacts';
/** Firefox at desktop size, and one at a phone's (its viewport is set at launch: see browsers.ts). */
let desktop: Awaited<ReturnType<typeof launchFirefox>> | undefined;
let phone: Awaited<ReturnType<typeof launchFirefox>> | undefined;
beforeAll(async () => {
  desktop = await launchFirefox();
  phone = await launchFirefox({ width: 390, height: 844 });
}, 60_000);
afterAll(async () => {
  await Promise.all([desktop?.dispose(), phone?.dispose()]);
});
const browser = (which: typeof desktop): Browser => {
  if (which === undefined) throw new Error('Firefox is not running');
  return which.browser;
};

describe('the demo room page in Firefox', () => {
  it('joins, sees a Node participant in the list and the mesh, sends it a message and a file, receives one; fits a phone', async () => {
    const { url } = await startServer();
    const otto = new RoomClient({ url, room: 'ff', name: 'otto', iceServers: [], logger: { debug() {}, info() {}, warn() {}, error() {} } });
    const got: ReceivedMessage[] = [];
    /** The page's live cursors (its pointer moves as the test clicks): `latest` broadcasts, apart from what is sent to otto. */
    const cursors: ReceivedMessage[] = [];
    const arrivals = new Set<() => void>();
    otto.messaging.on('message', (m) => {
      if (m.type === 'roommesh-demo:cursor') return void cursors.push(m);
      got.push(m);
      for (const wake of arrivals) wake();
    });
    const received = (count: number): Promise<void> =>
      withTimeout(
        (async () => {
          while (got.length < count) await new Promise<void>((resolve) => arrivals.add(resolve));
        })(),
        10_000,
        `otto to receive ${count} message(s)`,
      );
    await otto.start();
    await otto.messaging.enable();
    const page = await browser(desktop).newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    try {
      await page.goto(`${url}/?room=ff`);
      await page.locator('#name').fill('fern');
      await page.locator('#join').click();
      await page.waitForSelector('#participants li ::-p-text(otto)', { timeout: 10_000 });
      await page.waitForSelector('#mesh line.edge.direct', { timeout: 10_000 });
      expect(await page.$eval('#status', (e) => e.textContent)).toMatch(/1 other · 1 direct/);

      // A message, then a file, to otto.
      await page.select('#to', otto.localParticipant.id);
      await page.locator('#text').fill('hello otto');
      await page.locator('#send').click();
      await received(1);
      expect(got[0]?.message).toEqual({ text: 'hello otto' });
      await page.waitForSelector('#messages li.mine .meta ::-p-text(delivered)', { timeout: 5_000 });
      const dir = mkdtempSync(join(tmpdir(), 'roommesh-ff-'));
      const path = join(dir, 'notes.bin');
      writeFileSync(path, Buffer.alloc(300_000, 7));
      const input = await page.$('input#file');
      await input?.uploadFile(path);
      await page.waitForSelector('#file-name ::-p-text(notes.bin)', { timeout: 5_000 });
      await page.locator('#send').click();
      await received(2);
      expect(got[1]?.message).toMatchObject({ fileName: 'notes.bin' });
      expect(got[1]?.attachment?.length).toBe(300_000);

      // A file from otto arrives as a download link with its name.
      const fern = otto.messaging.getParticipantByName('fern');
      if (fern === undefined) throw new Error('otto does not see fern');
      await otto.messaging.sendMessage({ to: fern, type: 'chat', message: { text: 'for you', fileName: 'reply.bin' }, attachment: new Uint8Array(2048) });
      await page.waitForSelector('#messages a ::-p-text(reply.bin (2.0 KiB))', { timeout: 5_000 });

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/demo-room-firefox.png`, fullPage: true });

      // The same room on a phone's width: joined, and nothing wider than the screen.
      const small = await browser(phone).newPage();
      small.on('pageerror', (error) => errors.push(String(error)));
      await small.goto(`${url}/?room=ff&name=pia`);
      await small.locator('#join').click();
      await small.waitForSelector('#participants li ::-p-text(fern)', { timeout: 10_000 });
      await small.waitForSelector('#mesh line.edge.direct', { timeout: 10_000 });
      const widths = await small.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth, select: document.getElementById('to')?.getBoundingClientRect().width ?? 0 }));
      expect(widths.viewport).toBeLessThanOrEqual(390);
      expect(widths.page, 'no horizontal scroll at 390 px').toBeLessThanOrEqual(widths.viewport);
      expect(widths.select).toBeGreaterThan(200);
      await small.screenshot({ path: `${ARTIFACTS}/demo-room-firefox-phone.png`, fullPage: true });
      await small.close();
      expect(cursors.every((c) => c.delivery === 'latest' && c.broadcast), 'the page sends its cursor as a latest broadcast').toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await otto.close();
    }
  });
});
