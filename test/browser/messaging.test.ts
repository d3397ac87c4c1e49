import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { NodeDriver } from '../shared/node-driver.js';
import {
  abortMidTransfer,
  exchangeEverything,
  iteratorEndsOnDisable,
  joinAndSeeEachOther,
  linkChangesOnForcedRelay,
  progressToTheEnd,
  requestsAndReplies,
  everyDeliveryMode,
} from '../shared/scenarios.js';
import { startServer, withTimeout } from '../helpers.js';
import { BROWSERS, useBrowser, type BrowserName } from './browsers.js';
import { PageDriver } from './page-driver.js';

/** Every address of this machine: a selected candidate must be one of them (nothing left the machine). */
const OWN_ADDRESSES = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address)));

const MiB = 1024 * 1024;

describe.each(BROWSERS)('browsers and Node in one room (real %s, real @roamhq/wrtc)', (name: BrowserName) => {
  const newPage = useBrowser(name);

  it('runs the shared suite with two pages and one Node participant, over addresses of this machine only, then drops a closed page quickly', async () => {
    const { url } = await startServer();
    const anna = new PageDriver(`${name}:anna`, await newPage());
    const bert = new PageDriver(`${name}:bert`, await newPage());
    const node = new NodeDriver('node:nora');
    await anna.open(url);
    await bert.open(url);

    // The browser offers real addresses, not mDNS names that Node would have to resolve.
    const candidates = await anna.page.evaluate(async () => {
      const pc = new RTCPeerConnection({ iceServers: [] });
      pc.createDataChannel('probe');
      const found: string[] = [];
      const done = new Promise<void>((resolve) => {
        pc.onicecandidate = (e) => (e.candidate?.candidate ? found.push(e.candidate.candidate) : resolve());
      });
      await pc.setLocalDescription(await pc.createOffer());
      await done;
      pc.close();
      return found;
    });
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.filter((c) => c.includes('.local'))).toEqual([]);

    const participants = [
      { driver: anna, name: 'anna' },
      { driver: bert, name: 'bert' },
      { driver: node, name: 'nora' },
    ];
    try {
      await joinAndSeeEachOther(url, 'mixed', participants);
      // Each page's two links run between addresses of this machine (Firefox: its host address, routed through lo).
      for (const page of [anna, bert]) {
        const addresses = await page.selectedAddresses();
        expect(addresses, `${page.label} selected candidates`).toHaveLength(4);
        expect(addresses.filter((a) => !OWN_ADDRESSES.has(a)), `${page.label} addresses not of this machine`).toEqual([]);
      }
      await exchangeEverything(participants);

      // Round trips Node → browser → Node (the page echoes), awaited one at a time.
      const { RoomClient } = await import('../../client/index.js');
      const probe = new RoomClient({ url, room: 'mixed', name: 'probe', iceServers: [] });
      await probe.start();
      await probe.messaging.enable();
      await anna.waitForPresence(['bert', 'nora', 'probe'], 10_000);
      const annaId = probe.messaging.getParticipantByName('anna')!.id;
      const rtts: number[] = [];
      for (let i = 0; i < 60; i++) {
        const echoed = new Promise<void>((resolve) => {
          const off = probe.messaging.on('message', (m) => {
            if (m.type === 'echoed' && m.message['i'] === i) {
              off();
              resolve();
            }
          });
        });
        const started = performance.now();
        await probe.messaging.sendMessage({ to: annaId, type: 'echo', message: { i } });
        await withTimeout(echoed, 5000, `echo ${i}`);
        if (i >= 10) rtts.push(performance.now() - started); // the first ten warm up
      }
      rtts.sort((a, b) => a - b);
      console.log(`[measure] Node → ${name} → Node round trip: p50 ${rtts[rtts.length >> 1]?.toFixed(2)} ms, p90 ${rtts[Math.floor(rtts.length * 0.9)]?.toFixed(2)} ms`);

      // Closing a tab: the others drop it within a couple of seconds.
      const removed = new Promise<number>((resolve) => {
        probe.messaging.on('participant_removed', (p) => p.name === 'bert' && resolve(performance.now()));
      });
      const closedAt = performance.now();
      await bert.page.close();
      const removedAt = await withTimeout(removed, 2_500, 'the closed page to be removed');
      console.log(`[measure] closed ${name} page removed after ${(removedAt - closedAt).toFixed(0)} ms`);
      await anna.waitForPresence(['nora', 'probe'], 2_500);
      await node.waitForPresence(['anna', 'probe'], 2_500);
      await probe.close();
    } finally {
      await node.close();
    }
  });

  it('relays a pair that cannot link directly, sealed end to end, between a page and Node', async () => {
    const { url } = await startServer();
    const page = new PageDriver(`${name}:rita`, await newPage());
    const node = new NodeDriver('node:rolf');
    await page.open(url);
    const participants = [
      { driver: page, name: 'rita' },
      { driver: node, name: 'rolf' },
    ];
    try {
      // Relay-only ICE with no TURN server: the only path is the service, carrying sealed frames
      // (WebCrypto in the page, in Node), so both runtimes must agree on keys and frames.
      await joinAndSeeEachOther(url, 'relayed', participants, { relayOnly: true });
      await exchangeEverything(participants);
    } finally {
      await node.close();
    }
  });

  it('runs the API scenarios between a page and Node: progress, 64 MiB aborted each way, requests, every delivery mode each way, link changes, messages() ending', async () => {
    const { url } = await startServer();
    const page = new PageDriver(`${name}:pia`, await newPage());
    const node = new NodeDriver('node:nils');
    await page.open(url);
    const pia = { driver: page, name: 'pia' };
    const nils = { driver: node, name: 'nils' };
    try {
      await joinAndSeeEachOther(url, 'api', [pia, nils]);
      await progressToTheEnd(pia, nils);
      await progressToTheEnd(nils, pia);
      await abortMidTransfer(pia, nils);
      await abortMidTransfer(nils, pia);
      await requestsAndReplies(pia, nils);
      await requestsAndReplies(nils, pia);
      await everyDeliveryMode(pia, nils);
      await everyDeliveryMode(nils, pia);
      await linkChangesOnForcedRelay(nils, pia);
      await iteratorEndsOnDisable(pia, nils);
    } finally {
      await node.close();
    }
  });

  it.runIf(name === 'firefox')('sends from a background tab at full speed (the pacer waits on bufferedamountlow, not on clamped timers)', async () => {
    const { url } = await startServer();
    const back = new PageDriver(`${name}:back`, await newPage());
    const node = new NodeDriver('node:nico');
    await back.open(url);
    try {
      await joinAndSeeEachOther(url, 'background', [
        { driver: back, name: 'back' },
        { driver: node, name: 'nico' },
      ]);
      const front = await newPage();
      await front.goto(`${url}/`);
      await front.bringToFront();
      await back.page.waitFor(() => document.visibilityState === 'hidden', undefined, 5_000);
      const spec = { size: 5 * MiB, seed: 21 };
      const started = performance.now();
      const report = await back.sendWithProgress('nico', 'file', spec, null);
      const seconds = (performance.now() - started) / 1000;
      expect(report.code).toBeNull();
      const got = await node.waitForMessages(1, 20_000);
      expect(got[0]?.attachment?.size).toBe(spec.size);
      expect(await back.drainWaits(), 'waits on bufferedamountlow (a polling pacer makes none)').toBeGreaterThan(0);
      console.log(`[measure] 5 MiB from a background ${name} tab: ${seconds.toFixed(2)} s`);
      await front.close();
    } finally {
      await node.close();
    }
  });
});
