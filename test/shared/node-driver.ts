import { createHash } from 'node:crypto';
import { RoomClient, type ReceivedMessage, type RtcStackName } from '../../client/index.js';
import { withTimeout } from '../helpers.js';
import { attachmentBytes, joinOptions, type AttachmentSpec, type Driver, type JoinOptions, type ReceivedSummary } from './driver.js';

const summarize = (m: ReceivedMessage): ReceivedSummary => ({
  from: m.from.name ?? m.fromParticipantId,
  type: m.type,
  message: m.message,
  broadcast: m.broadcast,
  attachment: m.attachment === undefined ? null : { size: m.attachment.length, sha256: createHash('sha256').update(m.attachment).digest('hex') },
});

/** A participant in this process, on one Node WebRTC stack. Messages of type `echo` are answered with `echoed`. */
export class NodeDriver implements Driver {
  private room: RoomClient | undefined;
  private readonly received: ReceivedSummary[] = [];
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

  async send(toName: string, type: string, message: Record<string, unknown>, attachment?: AttachmentSpec): Promise<void> {
    const to = this.client.messaging.getParticipantByName(toName);
    if (to === undefined) throw new Error(`${this.label} sees no ${toName}`);
    await this.client.messaging.sendMessage({ to, type, message: message as never, ...(attachment ? { attachment: attachmentBytes(attachment) } : {}) });
  }

  async broadcast(type: string, message: Record<string, unknown>, attachment?: AttachmentSpec) {
    const outcomes = await this.client.messaging.broadcastMessage({ type, message: message as never, ...(attachment ? { attachment: attachmentBytes(attachment) } : {}) });
    return outcomes.map((o) => ({ name: o.participant.name ?? o.participantId, ok: o.ok }));
  }

  async waitForMessages(count: number, timeoutMs: number): Promise<ReceivedSummary[]> {
    await this.until(async () => this.received.length >= count, timeoutMs, `${this.label} to receive ${count} message(s)`);
    return [...this.received];
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
