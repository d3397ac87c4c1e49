/**
 * The links of one messaging client to the rest of its room. Who initiates is decided by
 * the service's order of events: a participant initiates to everyone it learns of when it
 * enables messaging, and answers everyone announced to it afterwards, so two peers never
 * both offer. Each link carries a session id chosen by its initiator; signals of any other
 * session are stale and dropped. Initiations wait for a slot of the process-wide limiter.
 */
import { RoomError } from '../protocol/errors.js';
import type { SignalEnvelope, SignalRequest } from '../protocol/signaling.js';
import { negotiationLimiter } from './limiter.js';
import type { Logger, RtcImplementation, Tunables } from './options.js';
import { PeerChannel } from './peer-channel.js';
import { PeerLink } from './peer-link.js';
import type { AssembledMessage } from './wire/reassembler.js';

export type LinkCloseReason = 'bye' | 'failed' | 'timeout';

export interface MeshEvents {
  /** A message to `peerId` can now be delivered. */
  open(peerId: string): void;
  /** The link to `peerId` is gone (never called for links closed by `remove()`/`closeAll()`). */
  closed(peerId: string, reason: LinkCloseReason, detail: string): void;
  message(peerId: string, message: AssembledMessage): void;
  /** A frame from `peerId` broke the protocol and was dropped. */
  violation(peerId: string, reason: string): void;
}

export interface MeshOptions {
  rtc: RtcImplementation;
  rtcConfig: Record<string, unknown> & { iceServers: unknown[] };
  tunables: Tunables;
  logger: Logger;
  sendSignal(request: SignalRequest): void;
  events: MeshEvents;
}

interface Entry {
  peerId: string;
  initiator: boolean;
  sid: string | undefined;
  link: PeerLink | undefined;
  channel: PeerChannel | undefined;
  closed: boolean;
  release: (() => void) | undefined;
  openTimer: ReturnType<typeof setTimeout> | undefined;
}

function randomSid(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** How long a goodbye may take to drain from the channel's buffer before the link is closed. */
const BYE_DRAIN_MS = 250;

export class Mesh {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: MeshOptions) {}

  /** Starts a link to `peerId`: as initiator now (after a limiter slot), or as responder awaiting its offer. */
  connect(peerId: string, initiator: boolean): void {
    if (this.entries.has(peerId)) return;
    const entry: Entry = { peerId, initiator, sid: undefined, link: undefined, channel: undefined, closed: false, release: undefined, openTimer: undefined };
    this.entries.set(peerId, entry);
    entry.openTimer = setTimeout(
      () => this.lose(entry, 'timeout', `no data channel within ${this.options.tunables.connectTimeoutMs} ms`),
      this.options.tunables.connectTimeoutMs,
    );
    if (!initiator) return;
    void negotiationLimiter.acquire().then((release) => {
      if (entry.closed) return release();
      entry.release = release;
      entry.sid = randomSid();
      entry.link = this.createLink(entry, true);
    });
  }

  handleSignal(envelope: SignalEnvelope): void {
    const entry = this.entries.get(envelope.from);
    if (entry === undefined || entry.closed) {
      this.options.logger.debug({ from: envelope.from }, 'signal from a participant with no link dropped');
      return;
    }
    if (!entry.initiator && envelope.data.type === 'offer' && envelope.sid !== entry.sid) {
      entry.link?.close();
      entry.channel?.fail(new RoomError('PARTICIPANT_LEFT', 'the link was replaced'));
      entry.channel = undefined;
      entry.sid = envelope.sid;
      entry.link = this.createLink(entry, false);
    }
    if (envelope.sid !== entry.sid) {
      this.options.logger.debug({ from: envelope.from, sid: envelope.sid }, 'stale signal dropped');
      return;
    }
    entry.link?.signal(envelope.data);
  }

  /** The channel to `peerId` once its link is open. */
  channel(peerId: string): PeerChannel | undefined {
    return this.entries.get(peerId)?.channel;
  }

  /** Closes the link to `peerId` without notifying; its pending sends reject with `error`. */
  remove(peerId: string, error: RoomError): void {
    const entry = this.entries.get(peerId);
    if (entry !== undefined) this.dispose(entry, error);
  }

  /** Says goodbye on every open link (waiting briefly for it to leave), then closes them all. */
  async closeAll(error: RoomError): Promise<void> {
    const entries = [...this.entries.values()];
    for (const entry of entries) entry.channel?.bye();
    const deadline = Date.now() + BYE_DRAIN_MS;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const draining = entries.some((e) => e.link?.isOpen && e.link.bufferedAmount > 0);
        if (!draining || Date.now() >= deadline) resolve();
        else setTimeout(check, 5);
      };
      setTimeout(check, 0); // the byes are queued on a microtask
    });
    for (const entry of entries) this.dispose(entry, error);
  }

  private createLink(entry: Entry, initiator: boolean): PeerLink {
    const sid = entry.sid as string;
    const { options } = this;
    let link: PeerLink | undefined;
    const isCurrent = (): boolean => !entry.closed && entry.link === link;
    link = new PeerLink(
      { initiator, rtc: options.rtc, config: options.rtcConfig },
      {
        signal: (data) => {
          if (isCurrent()) options.sendSignal({ to: entry.peerId, sid, data });
        },
        open: () => {
          if (!isCurrent()) return;
          if (entry.channel === undefined) this.opened(entry);
          else entry.channel.resume();
        },
        data: (bytes) => {
          if (!isCurrent()) return;
          // The responder's `connect` can trail the first data by tens of ms: data proves the link is open.
          if (entry.channel === undefined) this.opened(entry);
          entry.channel?.receive(bytes);
        },
        close: (reason) => {
          if (isCurrent()) this.lose(entry, 'failed', reason);
        },
      },
    );
    return link;
  }

  /**
   * The data channel is open. Both sides start with a hello. The responder counts the link
   * as open now; the initiator only once the responder's hello arrives, which the responder
   * sends after adding the initiator to its presence. So when the initiator's `enable()`
   * resolves, the participants it found list it too.
   */
  private opened(entry: Entry): void {
    if (entry.channel !== undefined || entry.link === undefined) return;
    entry.release?.();
    entry.release = undefined;
    const peerId = entry.peerId;
    const { events, logger, tunables } = this.options;
    let ready = false;
    const markReady = (): void => {
      if (ready || entry.closed) return;
      ready = true;
      clearTimeout(entry.openTimer);
      events.open(peerId);
    };
    entry.channel = new PeerChannel(entry.link, tunables, {
      hello: () => {
        if (entry.initiator) markReady();
      },
      message: (message) => events.message(peerId, message),
      bye: () => this.lose(entry, 'bye', 'said goodbye'),
      silent: () => this.lose(entry, 'failed', `nothing heard for ${tunables.livenessTimeoutMs} ms`),
      broken: (reason) => this.lose(entry, 'failed', `protocol violation: ${reason}`),
      refused: (error) => logger.warn({ peerId, ...error }, 'refused a message from a peer'),
      violation: (reason) => events.violation(peerId, reason),
    });
    if (!entry.initiator) markReady();
  }

  private lose(entry: Entry, reason: LinkCloseReason, detail: string): void {
    if (entry.closed) return;
    this.dispose(entry, new RoomError('PARTICIPANT_LEFT', `the link to participant ${entry.peerId} closed (${detail})`));
    this.options.events.closed(entry.peerId, reason, detail);
  }

  private dispose(entry: Entry, error: RoomError): void {
    if (entry.closed) return;
    entry.closed = true;
    this.entries.delete(entry.peerId);
    clearTimeout(entry.openTimer);
    entry.release?.();
    entry.release = undefined;
    entry.channel?.fail(error);
    entry.link?.close();
  }
}
