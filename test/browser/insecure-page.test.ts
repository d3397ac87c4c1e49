/**
 * The relay on a plain-http page that is not localhost (a LAN demo at http://<address>:8787):
 * not a secure context, so no `crypto.subtle`. The page is served as http://roommesh.test:PORT,
 * a name each browser is told resolves to 127.0.0.1 (Chromium's host resolver rules, Firefox's
 * forced resolution), so nothing leaves the machine. With direct links impossible (forced
 * relay), the page and a Node participant must still find each other, bind their stream (with a
 * room passphrase, so the KDF runs without WebCrypto too) and exchange messages both ways.
 */
import { describe, expect, it } from 'vitest';
import type { RoomClient } from '../../client/index.js';
import { newRoom, startServer, waitForEvent } from '../helpers.js';
import { BROWSERS, useBrowser, type BrowserName } from './browsers.js';

const HOST = 'roommesh.test';
const INSECURE = { chromiumArgs: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`], firefoxPrefs: { 'network.dns.forceResolve': '127.0.0.1' } };
const PASSPHRASE = 'guest wifi isolates clients';
const RELAY_ONLY = { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 300, passphrase: PASSPHRASE } as const;

type PageWindow = { __roommesh: typeof import('../../client/index.js'); __room: RoomClient; __got: Array<{ type: string; text: unknown; bytes: number }> };

describe.each(BROWSERS)('a plain-http page that is no secure context (%s)', (browser: BrowserName) => {
  const newPage = useBrowser(browser, INSECURE);

  it('relays, binds and passes messages both ways with a Node participant, without WebCrypto', async () => {
    const service = await startServer();
    const url = service.url.replace('127.0.0.1', HOST);
    const page = await newPage();
    await page.goto(`${url}/`);
    const context = await page.evaluate(() => ({ secure: window.isSecureContext, subtle: typeof globalThis.crypto?.subtle }));
    expect(context).toEqual({ secure: false, subtle: 'undefined' });
    await page.addModule("import * as roommesh from '/roommesh.js'; window.__roommesh = roommesh;");
    await page.waitFor(() => '__roommesh' in window, undefined, 10_000);

    const bob = newRoom(service.url, 'lan', 'bob', { rtc: '@roamhq/wrtc', iceServers: [], ...RELAY_ONLY });
    const bobGot = waitForEvent(bob.messaging, 'message', 'bob gets the page\'s message', { timeoutMs: 30_000 });
    await bob.start();
    void bob.messaging.enable();
    const timing = await page.evaluate(
      async (arg) => {
        const w = window as unknown as PageWindow;
        const room = new w.__roommesh.RoomClient({ url: arg.url, room: 'lan', name: 'ann', iceServers: [], ...arg.options });
        w.__room = room;
        w.__got = [];
        room.messaging.on('message', (m) => void w.__got.push({ type: m.type, text: m.message['text'], bytes: m.attachment?.length ?? 0 }));
        await room.start();
        const began = performance.now();
        await room.messaging.enable(); // derives the passphrase's key (PBKDF2, 600,000 iterations) in pure JS first
        return { enableMs: Math.round(performance.now() - began) };
      },
      { url, options: RELAY_ONLY },
    );
    await page.waitFor(() => (window as unknown as PageWindow).__room.messaging.getParticipantByName('bob') !== undefined, undefined, 30_000);
    const peer = await page.evaluate(() => {
      const p = (window as unknown as PageWindow).__room.messaging.getParticipantByName('bob');
      return { link: p?.link, fingerprint: p?.fingerprint };
    });
    expect(peer).toEqual({ link: 'relayed', fingerprint: bob.localParticipant.fingerprint });
    console.log(`[measure] ${browser}, plain-http page: enable() with a passphrase (PBKDF2 600k in pure JS) and a relayed link took ${timing.enableMs} ms`);

    await page.evaluate(async () => {
      const room = (window as unknown as PageWindow).__room;
      const to = room.messaging.getParticipantByName('bob');
      if (to === undefined) throw new Error('no bob');
      await room.messaging.sendMessage({ to, type: 'hello', message: { text: 'from a plain-http page' }, attachment: new Uint8Array(300_000).fill(7) });
    });
    const [got] = await bobGot;
    expect([got.type, got.message, got.attachment?.length]).toEqual(['hello', { text: 'from a plain-http page' }, 300_000]);
    const annId = bob.messaging.getParticipantByName('ann')?.id ?? '';
    await bob.messaging.sendMessage({ to: annId, type: 'reply', message: { text: 'from Node' } });
    await page.waitFor(() => (window as unknown as PageWindow).__got.length > 0, undefined, 10_000);
    expect(await page.evaluate(() => (window as unknown as PageWindow).__got)).toEqual([{ type: 'reply', text: 'from Node', bytes: 0 }]);
    await page.evaluate(() => (window as unknown as PageWindow).__room.close());
    await bob.close();
  });
});
