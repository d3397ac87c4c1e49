import { createHash } from 'node:crypto';
import { RoomClient, type Delivery, type ReceivedMessage, type RtcStackName } from '../../client/index.js';
import { breakLink, withTimeout } from '../helpers.js';
import {
  SLOW_HANDLER_MS,
  attachmentBytes,
  joinOptions,
  type AttachmentSpec,
  type Driver,
  type IncomingEntry,
  type IncomingReport,
  type JoinOptions,
  type ProgressReport,
  type ReceivedSummary,
  type RequestOutcome,
} from './driver.js';

const summarize = (m: ReceivedMessage): ReceivedSummary => ({
  from: m.from.name ?? m.fromParticipantId,
  type: m.type,
  message: m.message,
  broadcast: m.broadcast,
  attachment: m.attachment === undefined ? null : { size: m.attachment.length, sha256: createHash('sha256').update(m.attachment).digest('hex') },
  delivery: m.delivery,
});

/** A participant in this process, on one Node WebRTC stack. Messages of type `echo` are answered with `echoed`. */
export class NodeDriver implements Driver {
  private room: RoomClient | undefined;
  private readonly received: ReceivedSummary[] = [];
  private readonly incomingProgress: IncomingEntry[] = [];
  private readonly incomingAborted: IncomingEntry[] = [];
  private readonly links = new Map<string, string[]>();
  private readonly iteration = { types: [] as string[], ended: false };
  private readonly waiters = new Set<() => void>();
  private readonly wake = (): void => {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  };

  constructor(
    readonly label: string,
    private readonly rtc: RtcStackName = '@roamhq/wrtc',
  ) {}

  private get client(): RoomClient {
    if (this.room === undefined) throw new Error(`${this.label} has not joined`);
    return this.room;
  }

  async join(url: string, room: string, name: string, options: JoinOptions = {}): Promise<void> {
    this.room = new RoomClient({ url, room, name, rtc: this.rtc, iceServers: [], logger: { debug() {}, info() {}, warn() {}, error() {} }, ...joinOptions(options) });
    this.room.messaging.on('message', (m) => {
      if (m.type === 'echo') void this.client.messaging.sendMessage({ to: m.from, type: 'echoed', message: m.message }).catch(() => undefined);
      else this.received.push(summarize(m));
      this.wake();
    });
    this.room.messaging.on('participant_added', () => this.wake());
    this.room.messaging.on('participant_removed', () => this.wake());
    const entry = (e: { from: { name: string | undefined }; fromParticipantId: string; type: string; messageId: string; receivedBytes: number; totalBytes: number }): IncomingEntry => ({
      from: e.from.name ?? e.fromParticipantId,
      type: e.type,
      messageId: e.messageId,
      receivedBytes: e.receivedBytes,
      totalBytes: e.totalBytes,
    });
    this.room.messaging.on('incoming_progress', (e) => {
      this.incomingProgress.push(entry(e));
      this.wake();
    });
    this.room.messaging.on('incoming_aborted', (e) => {
      this.incomingAborted.push(entry(e));
      this.wake();
    });
    // The link's kind as it changes (the event also fires for a new candidate pair within a direct link).
    const kinds = new Map<string, string>();
    this.room.messaging.on('participant_added', (p) => void kinds.set(p.name ?? p.id, p.link));
    this.room.messaging.on('participant_link_changed', (p) => {
      const name = p.name ?? p.id;
      if (kinds.get(name) === p.link) return;
      kinds.set(name, p.link);
      this.links.set(name, [...(this.links.get(name) ?? []), p.link]);
      this.wake();
    });
    await this.room.start();
    await this.room.messaging.enable();
  }

  async presence(): Promise<string[]> {
    return this.client.messaging.getParticipants().map((p) => p.name ?? p.id).sort();
  }

  waitForPresence(names: string[], timeoutMs: number): Promise<void> {
    const wanted = JSON.stringify([...names].sort());
    return this.until(async () => JSON.stringify(await this.presence()) === wanted, timeoutMs, `${this.label} presence ${wanted}`);
  }

  async send(toName: string, type: string, message: Record<string, unknown>, attachment?: AttachmentSpec, delivery?: Delivery): Promise<void> {
    const to = this.client.messaging.getParticipantByName(toName);
    if (to === undefined) throw new Error(`${this.label} sees no ${toName}`);
    await this.client.messaging.sendMessage({ to, type, message: message as never, ...(attachment ? { attachment: attachmentBytes(attachment) } : {}), ...(delivery ? { delivery } : {}) });
  }

  async broadcast(type: string, message: Record<string, unknown>, attachment?: AttachmentSpec, delivery?: Delivery) {
    const outcomes = await this.client.messaging.broadcastMessage({ type, message: message as never, ...(attachment ? { attachment: attachmentBytes(attachment) } : {}), ...(delivery ? { delivery } : {}) });
    return outcomes.map((o) => ({ name: o.participant.name ?? o.participantId, ok: o.ok }));
  }

  async waitForMessages(count: number, timeoutMs: number): Promise<ReceivedSummary[]> {
    await this.until(async () => this.received.length >= count, timeoutMs, `${this.label} to receive ${count} message(s)`);
    return [...this.received];
  }

  async sendWithProgress(toName: string, type: string, spec: AttachmentSpec, abortAtBytes: number | null): Promise<ProgressReport> {
    const to = this.client.messaging.getParticipantByName(toName);
    if (to === undefined) throw new Error(`${this.label} sees no ${toName}`);
    const controller = new AbortController();
    const sent: number[] = [];
    const totals: number[] = [];
    let code: string | null = null;
    try {
      await this.client.messaging.sendMessage({
        to,
        type,
        message: {},
        attachment: attachmentBytes(spec),
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
    return { code, sent, totals, queuedOutgoingBytes: this.client.messaging.stats().queuedOutgoingBytes };
  }

  async waitForIncoming(kind: 'progress' | 'aborted', count: number, timeoutMs: number): Promise<IncomingReport> {
    const list = kind === 'progress' ? this.incomingProgress : this.incomingAborted;
    await this.until(async () => list.length >= count, timeoutMs, `${this.label} to see ${count} incoming ${kind} event(s)`);
    return { progress: [...this.incomingProgress], aborted: [...this.incomingAborted], pendingIncomingBytes: this.client.messaging.stats().pendingIncomingBytes };
  }

  async serveRequests(): Promise<void> {
    const { messaging } = this.client;
    messaging.onRequest('sum', ({ message }) => ({ message: { sum: Number(message['x']) + Number(message['y']) } }));
    messaging.onRequest('fail', () => {
      throw new Error('no can do');
    });
    messaging.onRequest('slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, SLOW_HANDLER_MS));
      return { message: { late: true } };
    });
  }

  async request(toName: string, type: string, message: Record<string, unknown>, timeoutMs: number): Promise<RequestOutcome> {
    const to = this.client.messaging.getParticipantByName(toName);
    if (to === undefined) throw new Error(`${this.label} sees no ${toName}`);
    try {
      const reply = await this.client.messaging.request({ to, type, message: message as never, timeoutMs });
      return { ok: true, message: reply.message };
    } catch (error) {
      const e = error as { code?: string; message: string };
      return { ok: false, code: e.code ?? 'none', message: e.message };
    }
  }

  async startIterating(type: string): Promise<void> {
    const messages = this.client.messaging.messages({ type });
    void (async () => {
      for await (const m of messages) {
        this.iteration.types.push(m.type);
        this.wake();
      }
      this.iteration.ended = true;
      this.wake();
    })();
  }

  async iterated(): Promise<{ types: string[]; ended: boolean }> {
    return { types: [...this.iteration.types], ended: this.iteration.ended };
  }

  async waitForIterationEnd(timeoutMs: number): Promise<{ types: string[]; ended: boolean }> {
    await this.until(async () => this.iteration.ended, timeoutMs, `${this.label}'s messages() loop to end`);
    return this.iterated();
  }

  async linkChanges(name: string): Promise<string[]> {
    return [...(this.links.get(name) ?? [])];
  }

  async waitForLinkChanges(name: string, links: string[], timeoutMs: number): Promise<void> {
    const wanted = JSON.stringify(links);
    await this.until(async () => JSON.stringify(await this.linkChanges(name)) === wanted, timeoutMs, `${this.label} to see ${name}'s link go ${links.join(' → ')}`);
  }

  /** Breaks the direct link to `name` as a network failure would (Node only: a test hook); false if there was none. */
  breakLinkTo(name: string): boolean {
    const peer = this.client.messaging.getParticipantByName(name);
    return peer !== undefined && breakLink(this.client, peer.id);
  }

  async disable(): Promise<void> {
    await this.room?.messaging.disable();
  }

  async close(): Promise<void> {
    await this.room?.close();
  }

  /** Re-checks `condition` whenever a message or presence event arrives. */
  private async until(condition: () => Promise<boolean>, timeoutMs: number, label: string): Promise<void> {
    await withTimeout(
      (async () => {
        while (!(await condition())) await new Promise<void>((resolve) => this.waiters.add(resolve));
      })(),
      timeoutMs,
      label,
    );
  }
}
