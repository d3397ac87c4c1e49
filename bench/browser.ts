/**
 * roommesh against Trystero in Chromium (Debian's, driven by playwright-core with mDNS hiding
 * off: test/browser/chromium.ts): two pages of one browser, scenario by scenario, alternating
 * the libraries. roommesh's pages load its browser bundle from the service; Trystero's get
 * @trystero-p2p/mqtt bundled here by esbuild and reach the bench's mosquitto through a
 * WebSocket bridge (Debian's mosquitto has no WebSocket listener; MQTT over WebSocket is the
 * same bytes in binary frames). `iceServers: []` for both. Raw simple-peer has no signaling of
 * its own in a page, so the browser rows compare the two libraries only.
 */
import { connect, type AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { createSignalingServer } from '../signaling/index.js';
import { launchChromium } from '../test/browser/chromium.js';
import { bundleTrystero } from './bundles.js';
import { cell, versusText, type Value } from './report.js';
import { figure, median } from './stats.js';

export interface BrowserRow {
  scenario: string;
  unit: string;
  better: 'higher' | 'lower';
  rm: Value;
  ty: Value;
}

/** The in-page side of both libraries, as one classic script: window.__bench. */
const IN_PAGE = `
window.__bench = (() => {
  const now = () => performance.timeOrigin + performance.now();
  const until = async (ok, ms) => { const end = performance.now() + ms; while (!ok()) { if (performance.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 2)); } };
  const state = { expected: 0, got: 0, doneAt: 0, lib: undefined, client: undefined, room: undefined, message: undefined, echo: undefined, peer: undefined };
  const count = () => { state.got++; if (state.got === state.expected) state.doneAt = now(); };
  const body = { text: 'x'.repeat(80) };
  return {
    async join(lib, url, room, name) {
      state.lib = lib;
      const t0 = performance.now();
      if (lib === 'rm') {
        state.client = new window.__roommesh.RoomClient({ url, room, name, iceServers: [] });
        state.client.messaging.on('message', count);
        await state.client.start();
        await state.client.messaging.enable();
        await until(() => state.client.messaging.getParticipants().length === 1, 30000);
        state.peer = state.client.messaging.getParticipants()[0].id;
      } else {
        state.room = window.Trystero.joinRoom({ appId: 'roommesh-bench', relayConfig: { urls: [url], redundancy: 1 }, rtcConfig: { iceServers: [] } }, room);
        state.message = state.room.makeAction('m');
        state.message.onMessage = count;
        state.echo = state.room.makeAction('echo', { kind: 'request', onRequest: (data) => data });
        await new Promise((resolve) => { state.room.onPeerJoin = (id) => { state.peer = id; resolve(); }; });
      }
      return performance.now() - t0;
    },
    async rtt(n) {
      const times = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        if (state.lib === 'rm') await state.client.messaging.sendMessage({ to: state.peer, type: 'ping', message: body });
        else await state.echo.request(body, { target: state.peer });
        times.push(performance.now() - t);
      }
      return times;
    },
    expect(n) { state.expected = n; state.got = 0; state.doneAt = 0; },
    async done(ms) { await until(() => state.doneAt > 0, ms); return state.doneAt; },
    async small(n) {
      const started = now();
      const sends = [];
      for (let i = 0; i < n; i++) sends.push(state.lib === 'rm' ? state.client.messaging.sendMessage({ to: state.peer, type: 'm', message: body }) : state.message.send(body, { target: state.peer }));
      await Promise.all(sends);
      return started;
    },
    async file(size) {
      const data = new Uint8Array(size).fill(0x61);
      const started = now();
      if (state.lib === 'rm') await state.client.messaging.sendMessage({ to: state.peer, type: 'file', message: {}, attachment: data });
      else await state.message.send(data, { target: state.peer });
      return started;
    },
    async leave() {
      if (state.client) await state.client.close();
      if (state.room) await state.room.leave();
      state.client = undefined; state.room = undefined;
    },
  };
})();
`;

/** A WebSocket listener on 127.0.0.1 that carries each connection's binary frames to and from the broker's TCP port. */
async function webSocketBridge(brokerUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const port = Number(new URL(brokerUrl).port);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    const tcp = connect(port, '127.0.0.1');
    const stream = createWebSocketStream(ws);
    stream.pipe(tcp).pipe(stream);
    const end = (): void => {
      tcp.destroy();
      stream.destroy();
    };
    tcp.on('error', end);
    stream.on('error', end);
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

type Lib = 'rm' | 'ty';

/** Two Chromium pages in one browser: formation, round trip, small messages and a 32 MiB attachment for each library. */
export async function browserRows(brokerUrl: string, reps: number, quick: boolean): Promise<BrowserRow[]> {
  const service = await createSignalingServer({ port: 0, logLevel: 'silent' });
  const bridge = await webSocketBridge(brokerUrl);
  const chromium = await launchChromium();
  const bundle = new TextDecoder().decode(await bundleTrystero('iife'));
  let rooms = 0;
  try {
    const pages = async (context: BrowserContext): Promise<[Page, Page]> => {
      const two = await Promise.all([context.newPage(), context.newPage()]);
      for (const page of two) {
        page.on('pageerror', (error) => console.error(`[chromium] page error: ${error.message}`));
        await page.goto(`${service.url}/`);
        await page.addScriptTag({ type: 'module', content: "import * as roommesh from '/roommesh.js'; window.__roommesh = roommesh;" });
        await page.addScriptTag({ content: bundle });
        await page.addScriptTag({ content: IN_PAGE });
        await page.waitForFunction(() => '__roommesh' in window && 'Trystero' in window, undefined, { timeout: 10_000 });
      }
      return two as [Page, Page];
    };
    const [a, b] = await pages(chromium.context);
    const urlOf = (lib: Lib): string => (lib === 'rm' ? service.url : bridge.url);
    const join = async (lib: Lib): Promise<number> => {
      const room = `browser-${++rooms}`;
      const times = await Promise.all([a, b].map((page, i) => page.evaluate(([l, u, r, n]) => (window as unknown as Bench).__bench.join(l, u, r, n), [lib, urlOf(lib), room, `p${i}`] as const)));
      return Math.max(...times);
    };
    const leave = (): Promise<unknown> => Promise.all([a, b].map((page) => page.evaluate(() => (window as unknown as Bench).__bench.leave())));

    const results: Record<string, Partial<Record<Lib, Value>>> = {};
    const put = (scenario: string, lib: Lib, value: Value): void => void ((results[scenario] ??= {})[lib] = value);
    const N = quick ? 2_000 : 5_000;
    const size = 32 * 1024 * 1024;
    for (const lib of ['rm', 'ty'] as const) {
      try {
        const formations: number[] = [];
        for (let i = 0; i <= reps; i++) {
          const ms = await join(lib);
          if (i > 0) formations.push(ms); // the first is the warm-up
          if (i < reps) await leave();
        }
        put('formation, 2 pages', lib, figure(formations));
        const rtts: number[] = [];
        for (let i = 0; i <= reps; i++) {
          const times = await a.evaluate((n) => (window as unknown as Bench).__bench.rtt(n), 300);
          if (i > 0) rtts.push(median(times));
        }
        put('round trip, awaited send ~100 B', lib, figure(rtts));
        const rate = async (count: number, send: () => Promise<number>): Promise<number> => {
          await b.evaluate((n) => (window as unknown as Bench).__bench.expect(n), count);
          const started = await send();
          const at = await b.evaluate((ms) => (window as unknown as Bench).__bench.done(ms), 120_000);
          return (at - started) / 1000;
        };
        const small: number[] = [];
        for (let i = 0; i <= reps; i++) {
          const seconds = await rate(N, () => a.evaluate((n) => (window as unknown as Bench).__bench.small(n), N));
          if (i > 0) small.push(N / seconds);
        }
        put('small messages one way', lib, figure(small));
        const bulk: number[] = [];
        for (let i = 0; i <= Math.min(reps, 3); i++) {
          const seconds = await rate(1, () => a.evaluate((s) => (window as unknown as Bench).__bench.file(s), size));
          if (i > 0) bulk.push(size / 1e6 / seconds);
        }
        put('attachment 32 MiB', lib, figure(bulk));
      } catch (error) {
        put('failed', lib, `failed: ${(error as Error).message.split('\n')[0] ?? ''}`);
      } finally {
        await leave().catch(() => undefined);
      }
    }
    const units: Record<string, [string, BrowserRow['better']]> = {
      'formation, 2 pages': ['ms', 'lower'],
      'round trip, awaited send ~100 B': ['ms', 'lower'],
      'small messages one way': ['msgs/s', 'higher'],
      'attachment 32 MiB': ['MB/s', 'higher'],
      failed: ['', 'lower'],
    };
    return Object.entries(results).map(([scenario, r]) => ({ scenario, unit: units[scenario]?.[0] ?? '', better: units[scenario]?.[1] ?? 'lower', rm: r.rm, ty: r.ty }));
  } finally {
    await chromium.dispose();
    await bridge.close();
    await service.close();
  }
}

/** The browser rows as a markdown table: roommesh, Trystero and their ratio. */
export function browserTable(rows: BrowserRow[], browser: string): string {
  const lines = rows.map((row) => `| ${row.scenario} | ${row.unit} | ${cell(row.rm)} | ${cell(row.ty)} | ${versusText(row.rm, row.ty, row.better)} |`);
  return [`${browser}, two pages of one browser:`, '', '| scenario | unit | roommesh | Trystero | rm/Trystero |', '| --- | --- | --- | --- | --- |', ...lines].join('\n');
}

interface Bench {
  __bench: {
    join(lib: Lib, url: string, room: string, name: string): Promise<number>;
    rtt(n: number): Promise<number[]>;
    expect(n: number): void;
    done(ms: number): Promise<number>;
    small(n: number): Promise<number>;
    file(size: number): Promise<number>;
    leave(): Promise<void>;
  };
}
