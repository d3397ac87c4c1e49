/**
 * The relay path to one participant: the same packets as a data channel, carried by the
 * signaling service (`relay` events), which stamps the sender and forwards only within the
 * room. The service acknowledges each packet once forwarded; the bytes not yet
 * acknowledged stand in for a data channel's `bufferedAmount`, so the pacer holds a sender
 * back when the service (or the link to it) is slower than the sender.
 */
import type { ChannelTransport } from './peer-channel.js';

export interface RelaySender {
  readonly connected: boolean;
  /** Sends one packet; `done(ok, reason)` when the service forwarded it or refused. */
  relay(to: string, sid: string, packet: Uint8Array, done: (ok: boolean, reason: string) => void): void;
}

/** A relayed packet stays under the service's payload limit (64 KiB by default) with room to spare. */
export const RELAY_PACKET_BYTES = 32 * 1024;

export class RelayTransport implements ChannelTransport {
  private unacknowledged = 0;
  private failed = false;
  readonly maxMessageSize = RELAY_PACKET_BYTES;
  readonly waterMarks = { high: 512 * 1024, low: 128 * 1024 };

  constructor(
    private readonly sender: RelaySender,
    private readonly to: string,
    readonly sid: string,
    private readonly onRefused: (reason: string) => void,
  ) {}

  get isOpen(): boolean {
    return !this.failed && this.sender.connected;
  }

  get bufferedAmount(): number {
    return this.unacknowledged;
  }

  send(packet: Uint8Array): void {
    if (!this.isOpen) return;
    const copy = packet.slice(); // the outbox reuses its buffer; the socket sends later
    this.unacknowledged += copy.length;
    this.sender.relay(this.to, this.sid, copy, (ok, reason) => {
      this.unacknowledged -= copy.length;
      if (!ok && !this.failed) {
        this.failed = true;
        this.onRefused(reason);
      }
    });
  }
}
