/**
 * A service that lies, against a real browser page (Chromium, Firefox) and a Node participant
 * (@roamhq/wrtc): inside a direct link (test/dtls-mitm.ts), inside a relay stream, and
 * admitting an impostor into a room whose participants check the issuer's tokens. The page
 * runs the real bundle; each side must refuse, saying why, and nothing may cross.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomClient } from '../../client/index.js';
import { freshIdentity } from '../../client/trust/identity.js';
import { createToken, generateTokenKeys } from '../../signaling/index.js';
import { newRoom, startServer, waitForEvent } from '../helpers.js';
import { startMaliciousProxy, type MaliciousProxy } from '../malicious-proxy.js';
import { BROWSERS, useBrowser, type BrowserName, type BrowserPage } from './browsers.js';

interface Refusal {
  id: string;
  name: string | undefined;
  reason: string;
}
type TrustWindow = { __roommesh: typeof import('../../client/index.js'); __trust: { room: RoomClient; refused: Refusal[] } };

const proxies: MaliciousProxy[] = [];
const rooms: RoomClient[] = [];
afterEach(async () => {
  await Promise.all(rooms.splice(0).map((room) => room.close()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** Opens the service's page with the bundle loaded. */
async function openPage(page: BrowserPage, serviceUrl: string): Promise<void> {
  await page.goto(`${serviceUrl}/`);
  await page.addModule("import * as roommesh from '/roommesh.js'; window.__roommesh = roommesh;");
  await page.waitFor(() => '__roommesh' in window, undefined, 10_000);
}

/** Joins from the page (through `url`, which may be the lying proxy) and enables without waiting; refusals are kept. Resolves with the page's id. */
function joinFromPage(page: BrowserPage, url: string, name: string, options: Record<string, unknown> = {}, secretKey?: number[]): Promise<string> {
  return page.evaluate(
    async (arg) => {
      const w = window as unknown as TrustWindow;
      const { RoomClient, identityFromSecretKey } = w.__roommesh;
      const identity = arg.secretKey === undefined ? {} : { identity: identityFromSecretKey(Uint8Array.from(arg.secretKey)) };
      const room = new RoomClient({ url: arg.url, room: 'r', name: arg.name, iceServers: [], ...identity, ...arg.options });
      const refused: Refusal[] = [];
      w.__trust = { room, refused };
      room.messaging.on('peer_authentication_failed', (e) => void refused.push({ id: e.participantId, name: e.name, reason: e.reason }));
      await room.start();
      void room.messaging.enable().catch(() => undefined);
      return room.localParticipant.id;
    },
    { url, name, options, ...(secretKey === undefined ? {} : { secretKey }) },
  );
}

/** The page's refusals, once there are `count`. */
async function pageRefusals(page: BrowserPage, count: number): Promise<Refusal[]> {
  await page.waitFor((n) => (window as unknown as TrustWindow).__trust.refused.length >= n, count, 20_000);
  return page.evaluate(() => (window as unknown as TrustWindow).__trust.refused);
}

function nodeRoom(url: string, name: string, options: Parameters<typeof newRoom>[3] = {}): RoomClient {
  const room = newRoom(url, 'r', name, { rtc: '@roamhq/wrtc', iceServers: [], ...options });
  rooms.push(room);
  return room;
}

describe.each(BROWSERS)('a service that lies, against %s and Node', (browser: BrowserName) => {
  const newPage = useBrowser(browser);

  it('inside a direct link (its own DTLS certificate towards each side) is refused by the page and by Node', async () => {
    const service = await startServer();
    const proxy = await startMaliciousProxy(service.url, { dtlsMitm: {} });
    proxies.push(proxy);
    const page = await newPage();
    await openPage(page, service.url);
    const bob = nodeRoom(proxy.url, 'bob', { relay: false });
    await bob.start();
    const refusedByBob = waitForEvent(bob.messaging, 'peer_authentication_failed', 'bob refuses the link', { timeoutMs: 20_000 });
    const annId = await joinFromPage(page, proxy.url, 'ann', { relay: false });
    void bob.messaging.enable().catch(() => undefined);
    const [[b], [a]] = await Promise.all([refusedByBob, pageRefusals(page, 1)]);
    expect(b.participantId).toBe(annId);
    expect(b.reason).toMatch(/does not match this stream/);
    expect(a?.name).toBe('bob');
    expect(a?.reason).toMatch(/does not match this stream/);
    expect(proxy.mitm?.piped.length).toBeGreaterThan(0);
    expect(bob.messaging.getParticipants()).toEqual([]);
  });

  it('inside a relay stream (its own ECDH key towards each side) is refused by the page and by Node', async () => {
    const service = await startServer();
    const proxy = await startMaliciousProxy(service.url, { swapRelayKeys: true });
    proxies.push(proxy);
    const page = await newPage();
    await openPage(page, service.url);
    const relayOnly = { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 300 };
    const bob = nodeRoom(proxy.url, 'bob', relayOnly);
    await bob.start();
    const refusedByBob = waitForEvent(bob.messaging, 'peer_authentication_failed', 'bob refuses the stream', { timeoutMs: 20_000 });
    await joinFromPage(page, proxy.url, 'ann', relayOnly);
    void bob.messaging.enable().catch(() => undefined);
    const [[b], [a]] = await Promise.all([refusedByBob, pageRefusals(page, 1)]);
    expect(b.reason).toMatch(/does not match this stream/);
    expect(a?.reason).toMatch(/does not match this stream/);
    expect(proxy.opened.length).toBeGreaterThan(0); // it was inside: it opened the hellos and proofs
  });

  it('admitting an impostor under a vouched name: the page, holding the issuer key, refuses it and links the real one', async () => {
    const service = await startServer(); // checks no token, as a compromised service would
    const issuer = generateTokenKeys();
    const [annId, bobId, eveId] = [freshIdentity(), freshIdentity(), freshIdentity()];
    const vouch = (name: string, identity: typeof annId) => createToken({ signingKey: issuer.signingKey, room: 'r', name, publicKey: identity.publicKey });
    const bob = nodeRoom(service.url, 'bob', { identity: bobId, token: await vouch('bob', bobId), issuerKey: issuer.issuerKey });
    const eve = nodeRoom(service.url, 'bob', { identity: eveId, token: await vouch('eve', eveId) }); // a genuine token, for another name
    await Promise.all([bob.start(), eve.start()]);
    void bob.messaging.enable();
    void eve.messaging.enable().catch(() => undefined);
    const page = await newPage();
    await openPage(page, service.url);
    await joinFromPage(page, service.url, 'ann', { token: await vouch('ann', annId), issuerKey: issuer.issuerKey }, [...annId.secretKey]);
    const [refusal] = await pageRefusals(page, 1);
    expect(refusal?.id).toBe(eve.localParticipant.id);
    expect(refusal?.reason).toMatch(/names it "eve", but the service lists it as "bob"/);
    await page.waitFor((id) => (window as unknown as TrustWindow).__trust.room.messaging.getParticipant(id) !== undefined, bob.localParticipant.id, 20_000);
    const listed = await page.evaluate(() => (window as unknown as TrustWindow).__trust.room.messaging.getParticipants().map((p) => ({ id: p.id, fingerprint: p.fingerprint })));
    expect(listed).toEqual([{ id: bob.localParticipant.id, fingerprint: bobId.fingerprint }]);
  });
});
