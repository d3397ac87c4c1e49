/**
 * A participant in a Chromium page: the shared suite's Driver, carried out by the real
 * browser bundle (`/roommesh.js`, served by the service) through page.evaluate. The
 * in-page half is installed once per page and keeps its state on `window.__driver`.
 */
import type { Delivery } from '../../client/index.js';
import type { BrowserPage } from './browsers.js';
import { SLOW_HANDLER_MS, type AttachmentSpec, type Driver, type IncomingReport, type JoinOptions, type ProgressReport, type ReceivedSummary, type RequestOutcome } from '../shared/driver.js';

/** Runs inside the page: it must be self-contained (no imports, no closures over test code); `slowMs` is SLOW_HANDLER_MS. */
function installInPage(slowMs: number): void {
  const { RoomClient } = (window as unknown as { __roommesh: typeof import('../../client/index.js') }).__roommesh;
  type Summary = { from: string; type: string; message: Record<string, unknown>; broadcast: boolean; attachment: { size: number; sha256: string } | null; delivery: string };
  const bytes = (spec: { size: number; seed: number }): Uint8Array => {
    const out = new Uint8Array(spec.size);
    let x = spec.seed >>> 0 || 1;
    for (let i = 0; i < spec.size; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
  const hex = async (data: Uint8Array): Promise<string> =>
    Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)), (b) => b.toString(16).padStart(2, '0')).join('');
  type Entry = { from: string; type: string; messageId: string; receivedBytes: number; totalBytes: number };
  const state = {
    room: undefined as InstanceType<typeof RoomClient> | undefined,
    received: [] as Summary[],
    pending: [] as Array<Promise<void>>,
    progress: [] as Entry[],
    aborted: [] as Entry[],
    links: {} as Record<string, string[]>,
    iteration: { types: [] as string[], ended: false },
  };
  const messaging = () => {
    if (state.room === undefined) throw new Error('not joined');
    return state.room.messaging;
  };
  const peer = (name: string) => {
    const found = messaging().getParticipantByName(name);
    if (found === undefined) throw new Error(`no participant named ${name}`);
    return found;
  };
  const names = (): string[] => (state.room?.messaging.getParticipants() ?? []).map((p) => p.name ?? p.id).sort();
  (window as unknown as { __driver: unknown }).__driver = {
    names,
    received: async () => {
      await Promise.all(state.pending);
      return state.received;
    },
    async join(url: string, room: string, name: string, relayOnly: boolean) {
      // joinOptions() of ../shared/driver.ts, written out: code handed to the page cannot import.
      const relay = relayOnly ? { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 300 } : {};
      state.room = new RoomClient({ url, room, name, iceServers: [], ...relay });
      state.room.messaging.on('message', (m) => {
        if (m.type === 'echo') {
          void state.room?.messaging.sendMessage({ to: m.from, type: 'echoed', message: m.message }).catch(() => undefined);
          return;
        }
        const entry: Summary = { from: m.from.name ?? m.fromParticipantId, type: m.type, message: m.message, broadcast: m.broadcast, attachment: null, delivery: m.delivery };
        state.received.push(entry);
        if (m.attachment !== undefined) {
          const attachment = m.attachment;
          state.pending.push(hex(attachment).then((sha256) => void (entry.attachment = { size: attachment.length, sha256 })));
        }
      });
      const entry = (e: { from: { name: string | undefined }; fromParticipantId: string; type: string; messageId: string; receivedBytes: number; totalBytes: number }): Entry => ({
        from: e.from.name ?? e.fromParticipantId,
        type: e.type,
        messageId: e.messageId,
        receivedBytes: e.receivedBytes,
        totalBytes: e.totalBytes,
      });
      state.room.messaging.on('incoming_progress', (e) => void state.progress.push(entry(e)));
      state.room.messaging.on('incoming_aborted', (e) => void state.aborted.push(entry(e)));
      // The link's kind as it changes (the event also fires for a new candidate pair within a direct link).
      const kinds: Record<string, string> = {};
      state.room.messaging.on('participant_added', (p) => void (kinds[p.name ?? p.id] = p.link));
      state.room.messaging.on('participant_link_changed', (p) => {
        const key = p.name ?? p.id;
        if (kinds[key] === p.link) return;
        kinds[key] = p.link;
        state.links[key] = [...(state.links[key] ?? []), p.link];
      });
      await state.room.start();
      await state.room.messaging.enable();
    },
    async sendWithProgress(toName: string, type: string, spec: { size: number; seed: number }, abortAtBytes: number | null) {
      const controller = new AbortController();
      const sent: number[] = [];
      const totals: number[] = [];
      let code: string | null = null;
      try {
        await messaging().sendMessage({
          to: peer(toName),
          type,
          message: {},
          attachment: bytes(spec),
          signal: controller.signal,
          onProgress: ({ sentBytes, totalBytes }) => {
            sent.push(sentBytes);
            totals.push(totalBytes);
            if (abortAtBytes !== null && sentBytes >= abortAtBytes) controller.abort();
          },
        });
      } catch (error) {
        code = (error as { code?: string }).code ?? String(error);
      }
      return { code, sent, totals, queuedOutgoingBytes: messaging().stats().queuedOutgoingBytes };
    },
    incoming: () => ({ progress: state.progress, aborted: state.aborted, pendingIncomingBytes: messaging().stats().pendingIncomingBytes }),
    serveRequests() {
      messaging().onRequest('sum', ({ message }) => ({ message: { sum: Number(message['x']) + Number(message['y']) } }));
      messaging().onRequest('fail', () => {
        throw new Error('no can do');
      });
      messaging().onRequest('slow', async () => {
        await new Promise((resolve) => setTimeout(resolve, slowMs));
        return { message: { late: true } };
      });
    },
    async request(toName: string, type: string, message: Record<string, never>, timeoutMs: number) {
      try {
        const reply = await messaging().request({ to: peer(toName), type, message, timeoutMs });
        return { ok: true, message: reply.message };
      } catch (error) {
        const e = error as { code?: string; message: string };
        return { ok: false, code: e.code ?? 'none', message: e.message };
      }
    },
    startIterating(type: string) {
      const messages = messaging().messages({ type });
      void (async () => {
        for await (const m of messages) state.iteration.types.push(m.type);
        state.iteration.ended = true;
      })();
    },
    iterated: () => state.iteration,
    linkChanges: (name: string) => state.links[name] ?? [],
    async disable() {
      await messaging().disable();
    },
    async send(toName: string, type: string, message: Record<string, never>, spec?: { size: number; seed: number }, delivery?: Delivery) {
      const to = state.room?.messaging.getParticipantByName(toName);
      if (to === undefined) throw new Error(`no participant named ${toName}`);
      await state.room?.messaging.sendMessage({ to, type, message, ...(spec ? { attachment: bytes(spec) } : {}), ...(delivery ? { delivery } : {}) });
    },
    async broadcast(type: string, message: Record<string, never>, spec?: { size: number; seed: number }, delivery?: Delivery) {
      const outcomes = (await state.room?.messaging.broadcastMessage({ type, message, ...(spec ? { attachment: bytes(spec) } : {}), ...(delivery ? { delivery } : {}) })) ?? [];
      return outcomes.map((o) => ({ name: o.participant.name ?? o.participantId, ok: o.ok }));
    },
    async close() {
      await state.room?.close();
    },
  };
}

/**
 * Runs in the page before the bundle loads: every RTCPeerConnection made is kept in
 * `window.__connections`, and every wait for a data channel's `bufferedamountlow` is counted
 * in `window.__drainWaits` (the pacer's, in browsers).
 */
function recordConnections(): void {
  const Native = window.RTCPeerConnection;
  const connections: RTCPeerConnection[] = [];
  class Recorded extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      connections.push(this);
    }
  }
  const counts = { drainWaits: 0 };
  const add = RTCDataChannel.prototype.addEventListener;
  RTCDataChannel.prototype.addEventListener = function (this: RTCDataChannel, ...args: Parameters<typeof add>) {
    if (args[0] === 'bufferedamountlow') counts.drainWaits++;
    return add.apply(this, args);
  } as typeof add;
  Object.assign(window, { RTCPeerConnection: Recorded, __connections: connections, __counts: counts });
}

/** Runs in the page: the local and remote address of each connected connection's selected pair. */
async function selectedAddresses(): Promise<string[]> {
  const connections = (window as unknown as { __connections: RTCPeerConnection[] }).__connections;
  const addresses: string[] = [];
  for (const pc of connections) {
    if (pc.connectionState !== 'connected') continue;
    const reports: Array<Record<string, unknown>> = [];
    (await pc.getStats()).forEach((report: Record<string, unknown>) => reports.push(report));
    const byId = new Map(reports.map((r) => [r['id'], r]));
    // Chromium names the pair on the transport; Firefox marks it `selected`.
    const transportPair = reports.find((r) => r['type'] === 'transport' && typeof r['selectedCandidatePairId'] === 'string')?.['selectedCandidatePairId'];
    const pair = (transportPair === undefined ? undefined : byId.get(transportPair)) ?? reports.find((r) => r['type'] === 'candidate-pair' && r['selected'] === true) ?? reports.find((r) => r['type'] === 'candidate-pair' && r['nominated'] === true && r['state'] === 'succeeded');
    for (const side of ['localCandidateId', 'remoteCandidateId']) {
      const candidate = pair === undefined ? undefined : byId.get(pair[side]);
      const address = candidate?.['address'] ?? candidate?.['ip'];
      addresses.push(typeof address === 'string' ? address : `none (${side} of ${String(pair?.['id'])})`);
    }
  }
  return addresses;
}

interface InPage {
  names(): string[];
  sendWithProgress(toName: string, type: string, spec: AttachmentSpec, abortAtBytes: number | null): Promise<ProgressReport>;
  incoming(): IncomingReport;
  serveRequests(): void;
  request(toName: string, type: string, message: Record<string, unknown>, timeoutMs: number): Promise<RequestOutcome>;
  startIterating(type: string): void;
  iterated(): { types: string[]; ended: boolean };
  linkChanges(name: string): string[];
  disable(): Promise<void>;
  received(): Promise<ReceivedSummary[]>;
  join(url: string, room: string, name: string, relayOnly: boolean): Promise<void>;
  send(toName: string, type: string, message: Record<string, unknown>, spec?: AttachmentSpec, delivery?: Delivery): Promise<void>;
  broadcast(type: string, message: Record<string, unknown>, spec?: AttachmentSpec, delivery?: Delivery): Promise<Array<{ name: string; ok: boolean }>>;
  close(): Promise<void>;
}
type WithDriver = { __driver: InPage };

export class PageDriver implements Driver {
  constructor(
    readonly label: string,
    readonly page: BrowserPage,
  ) {}

  /** Opens the service's page (which serves the bundle) and installs the in-page driver. */
  async open(url: string): Promise<void> {
    this.page.onPageError((message) => console.error(`[${this.label}] page error: ${message}`));
    await this.page.goto(`${url}/`);
    await this.page.evaluate(recordConnections);
    // The bundle, loaded as the page loads it; a module script, because test code handed to
    // page.evaluate is rewritten by vitest and cannot use import() itself.
    await this.page.addModule("import * as roommesh from '/roommesh.js'; window.__roommesh = roommesh;");
    await this.page.waitFor(() => '__roommesh' in window, undefined, 10_000);
    await this.page.evaluate(installInPage, SLOW_HANDLER_MS);
  }

  join(url: string, room: string, name: string, options: JoinOptions = {}): Promise<void> {
    return this.page.evaluate(([u, r, n, relay]) => (window as unknown as WithDriver).__driver.join(u, r, n, relay), [url, room, name, options.relayOnly === true] as const);
  }

  presence(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.names());
  }

  async waitForPresence(names: string[], timeoutMs: number): Promise<void> {
    const wanted = JSON.stringify([...names].sort());
    await this.page.waitFor((w) => JSON.stringify((window as unknown as WithDriver).__driver.names()) === w, wanted, timeoutMs);
  }

  send(toName: string, type: string, message: Record<string, unknown>, attachment?: AttachmentSpec, delivery?: Delivery): Promise<void> {
    return this.page.evaluate(([to, t, m, a, d]) => (window as unknown as WithDriver).__driver.send(to, t, m, a ?? undefined, d ?? undefined), [toName, type, message, attachment ?? null, delivery ?? null] as const);
  }

  broadcast(type: string, message: Record<string, unknown>, attachment?: AttachmentSpec, delivery?: Delivery) {
    return this.page.evaluate(([t, m, a, d]) => (window as unknown as WithDriver).__driver.broadcast(t, m, a ?? undefined, d ?? undefined), [type, message, attachment ?? null, delivery ?? null] as const);
  }

  async waitForMessages(count: number, timeoutMs: number): Promise<ReceivedSummary[]> {
    await this.page.waitFor(async (n) => (await (window as unknown as WithDriver).__driver.received()).length >= n, count, timeoutMs);
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.received());
  }

  sendWithProgress(toName: string, type: string, spec: AttachmentSpec, abortAtBytes: number | null): Promise<ProgressReport> {
    return this.page.evaluate(([to, t, a, at]) => (window as unknown as WithDriver).__driver.sendWithProgress(to, t, a, at), [toName, type, spec, abortAtBytes] as const);
  }

  async waitForIncoming(kind: 'progress' | 'aborted', count: number, timeoutMs: number): Promise<IncomingReport> {
    await this.page.waitFor(([k, n]) => (window as unknown as WithDriver).__driver.incoming()[k].length >= n, [kind, count] as const, timeoutMs);
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.incoming());
  }

  serveRequests(): Promise<void> {
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.serveRequests());
  }

  request(toName: string, type: string, message: Record<string, unknown>, timeoutMs: number): Promise<RequestOutcome> {
    return this.page.evaluate(([to, t, m, ms]) => (window as unknown as WithDriver).__driver.request(to, t, m, ms), [toName, type, message, timeoutMs] as const);
  }

  startIterating(type: string): Promise<void> {
    return this.page.evaluate((t) => (window as unknown as WithDriver).__driver.startIterating(t), type);
  }

  iterated(): Promise<{ types: string[]; ended: boolean }> {
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.iterated());
  }

  async waitForIterationEnd(timeoutMs: number): Promise<{ types: string[]; ended: boolean }> {
    await this.page.waitFor(() => (window as unknown as WithDriver).__driver.iterated().ended, undefined, timeoutMs);
    return this.iterated();
  }

  linkChanges(name: string): Promise<string[]> {
    return this.page.evaluate((n) => (window as unknown as WithDriver).__driver.linkChanges(n), name);
  }

  async waitForLinkChanges(name: string, links: string[], timeoutMs: number): Promise<void> {
    await this.page.waitFor(([n, w]) => JSON.stringify((window as unknown as WithDriver).__driver.linkChanges(n)) === w, [name, JSON.stringify(links)] as const, timeoutMs);
  }

  disable(): Promise<void> {
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.disable());
  }

  /** The addresses of every selected candidate pair of the page's connected peer connections (local and remote). */
  selectedAddresses(): Promise<string[]> {
    return this.page.evaluate(selectedAddresses);
  }

  /** How often the page's pacers waited for a data channel's bufferedamountlow event. */
  drainWaits(): Promise<number> {
    return this.page.evaluate(() => (window as unknown as { __counts: { drainWaits: number } }).__counts.drainWaits);
  }

  /** `document.visibilityState` of the page: 'hidden' in a background tab. */
  visibility(): Promise<string> {
    return this.page.evaluate(() => document.visibilityState);
  }

  close(): Promise<void> {
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.close());
  }
}
