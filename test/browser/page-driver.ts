/**
 * A participant in a Chromium page: the shared suite's Driver, carried out by the real
 * browser bundle (`/roommesh.js`, served by the service) through page.evaluate. The
 * in-page half is installed once per page and keeps its state on `window.__driver`.
 */
import type { Page } from 'playwright-core';
import type { AttachmentSpec, Driver, JoinOptions, ReceivedSummary } from '../shared/driver.js';

/** Runs inside the page: it must be self-contained (no imports, no closures over test code). */
function installInPage(): void {
  const { RoomClient } = (window as unknown as { __roommesh: typeof import('../../client/index.js') }).__roommesh;
  type Summary = { from: string; type: string; message: Record<string, unknown>; broadcast: boolean; attachment: { size: number; sha256: string } | null };
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
  const state: { room: InstanceType<typeof RoomClient> | undefined; received: Summary[]; pending: Array<Promise<void>> } = { room: undefined, received: [], pending: [] };
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
        const entry: Summary = { from: m.from.name ?? m.fromParticipantId, type: m.type, message: m.message, broadcast: m.broadcast, attachment: null };
        state.received.push(entry);
        if (m.attachment !== undefined) {
          const attachment = m.attachment;
          state.pending.push(hex(attachment).then((sha256) => void (entry.attachment = { size: attachment.length, sha256 })));
        }
      });
      await state.room.start();
      await state.room.messaging.enable();
    },
    async send(toName: string, type: string, message: Record<string, never>, spec?: { size: number; seed: number }) {
      const to = state.room?.messaging.getParticipantByName(toName);
      if (to === undefined) throw new Error(`no participant named ${toName}`);
      await state.room?.messaging.sendMessage({ to, type, message, ...(spec ? { attachment: bytes(spec) } : {}) });
    },
    async broadcast(type: string, message: Record<string, never>, spec?: { size: number; seed: number }) {
      const outcomes = (await state.room?.messaging.broadcastMessage({ type, message, ...(spec ? { attachment: bytes(spec) } : {}) })) ?? [];
      return outcomes.map((o) => ({ name: o.participant.name ?? o.participantId, ok: o.ok }));
    },
    async close() {
      await state.room?.close();
    },
  };
}

interface InPage {
  names(): string[];
  received(): Promise<ReceivedSummary[]>;
  join(url: string, room: string, name: string, relayOnly: boolean): Promise<void>;
  send(toName: string, type: string, message: Record<string, unknown>, spec?: AttachmentSpec): Promise<void>;
  broadcast(type: string, message: Record<string, unknown>, spec?: AttachmentSpec): Promise<Array<{ name: string; ok: boolean }>>;
  close(): Promise<void>;
}
type WithDriver = { __driver: InPage };

export class PageDriver implements Driver {
  constructor(
    readonly label: string,
    readonly page: Page,
  ) {}

  /** Opens the service's page (which serves the bundle) and installs the in-page driver. */
  async open(url: string): Promise<void> {
    this.page.on('pageerror', (error) => console.error(`[${this.label}] page error: ${error.message}`));
    await this.page.goto(`${url}/`);
    // The bundle, loaded as the page loads it; a module script, because test code handed to
    // page.evaluate is rewritten by vitest and cannot use import() itself.
    await this.page.addScriptTag({ type: 'module', content: "import * as roommesh from '/roommesh.js'; window.__roommesh = roommesh;" });
    await this.page.waitForFunction(() => '__roommesh' in window, undefined, { timeout: 10_000 });
    await this.page.evaluate(installInPage);
  }

  join(url: string, room: string, name: string, options: JoinOptions = {}): Promise<void> {
    return this.page.evaluate(([u, r, n, relay]) => (window as unknown as WithDriver).__driver.join(u, r, n, relay), [url, room, name, options.relayOnly === true] as const);
  }

  presence(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.names());
  }

  async waitForPresence(names: string[], timeoutMs: number): Promise<void> {
    const wanted = JSON.stringify([...names].sort());
    await this.page.waitForFunction((w) => JSON.stringify((window as unknown as WithDriver).__driver.names()) === w, wanted, { timeout: timeoutMs, polling: 20 });
  }

  send(toName: string, type: string, message: Record<string, unknown>, attachment?: AttachmentSpec): Promise<void> {
    return this.page.evaluate(([to, t, m, a]) => (window as unknown as WithDriver).__driver.send(to, t, m, a ?? undefined), [toName, type, message, attachment ?? null] as const);
  }

  broadcast(type: string, message: Record<string, unknown>, attachment?: AttachmentSpec) {
    return this.page.evaluate(([t, m, a]) => (window as unknown as WithDriver).__driver.broadcast(t, m, a ?? undefined), [type, message, attachment ?? null] as const);
  }

  async waitForMessages(count: number, timeoutMs: number): Promise<ReceivedSummary[]> {
    await this.page.waitForFunction(
      async (n) => (await (window as unknown as WithDriver).__driver.received()).length >= n,
      count,
      { timeout: timeoutMs, polling: 20 },
    );
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.received());
  }

  close(): Promise<void> {
    return this.page.evaluate(() => (window as unknown as WithDriver).__driver.close());
  }
}
