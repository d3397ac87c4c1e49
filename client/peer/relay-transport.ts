/**
 * The relay path to one participant: the same packets as a data channel, carried by the
 * signaling service (`relay` events), which stamps the sender and forwards only within the
 * room. Every packet is sealed end to end (relay-crypto.ts): the stream opens once both
 * sides' public keys have crossed, and the service sees only ciphertext. The service
 * acknowledges each frame once forwarded; the bytes not yet acknowledged stand in for a
 * data channel's `bufferedAmount`, so the pacer holds a sender back when the service (or
 * the link to it) is slower than the sender.
 */
import { MAX_RELAY_PACKET_BYTES } from '../../protocol/limits.js';
import type { ChannelTransport } from './channel.js';
import { RelaySeal, SEAL_OVERHEAD_BYTES, decodeRelayFrame } from './relay-crypto.js';
import { bytesToHex, type ChannelBinding } from '../trust/binding.js';

export interface RelaySender {
  readonly connected: boolean;
  /** Sends one frame; `done(ok, reason)` when the service forwarded it or refused. */
  relay(to: string, sid: string, frame: Uint8Array, done: (ok: boolean, reason: string) => void): void;
}

export interface RelayStreamHandlers {
  /** The keys are agreed: packets can flow. */
  open(): void;
  /** A packet arrived and opened. */
  packet(packet: Uint8Array): void;
  /** The service refused a frame, or the stream cannot be sealed: it is over. */
  failed(reason: string): void;
  /** A frame that is not what an honest peer sends; dropped. */
  violation(reason: string): void;
}

export interface RelayStreamOptions {
  sender: RelaySender;
  to: string;
  sid: string;
  localId: string;
  /** Largest frame the service accepts; packets are sized to fit with their seal. */
  maxFrameBytes: number;
}

export class RelayTransport implements ChannelTransport {
  private unacknowledged = 0;
  private failed = false;
  private seal: RelaySeal | undefined;
  private peerKeySeen = false;
  /** Sealing and opening are asynchronous: each direction is a chain, so frames keep their order. */
  private sending: Promise<unknown>;
  private receiving: Promise<unknown>;
  readonly maxMessageSize: number;
  readonly waterMarks = { high: 512 * 1024, low: 128 * 1024 };

  constructor(private readonly options: RelayStreamOptions, private readonly handlers: RelayStreamHandlers) {
    this.maxMessageSize = Math.min(MAX_RELAY_PACKET_BYTES, options.maxFrameBytes) - SEAL_OVERHEAD_BYTES;
    const created = RelaySeal.create().then(
      (seal) => {
        this.seal = seal;
        if (!this.failed) this.emit(seal.keyFrame); // a stream closed meanwhile sends nothing
      },
      (error: unknown) => this.fail(`cannot seal the relay: ${(error as Error).message}`),
    );
    this.sending = created;
    this.receiving = created;
  }

  /** Open once both keys are in (the seal is ready), until it fails or closes. */
  get isOpen(): boolean {
    return this.seal?.ready === true && !this.failed && this.options.sender.connected;
  }

  get bufferedAmount(): number {
    return this.unacknowledged;
  }

  send(packet: Uint8Array): void {
    if (!this.isOpen) return;
    const seal = this.seal;
    if (seal === undefined) return;
    this.unacknowledged += packet.length;
    // Sealing starts now and runs beside the packets before it; the frames leave in order.
    const sealing = seal.seal(packet.slice()); // the outbox reuses its buffer as soon as this returns
    this.sending = this.sending.then(async () => {
      const frame = await sealing;
      if (!this.failed) this.emit(frame, packet.length);
    });
  }

  /** A frame the service relayed from the peer on this stream. */
  receive(frame: Uint8Array): void {
    if (this.failed) return;
    const decoded = decodeRelayFrame(frame);
    if (decoded.kind === 'invalid') return this.handlers.violation(decoded.reason);
    // Once the keys are in, opening starts at once and runs beside the frames before it; delivery keeps their order.
    const early = decoded.kind === 'sealed' && this.seal?.ready === true ? this.seal.decrypt(decoded.counter, decoded.sealed) : undefined;
    this.receiving = this.receiving.then(async () => {
      const seal = this.seal;
      if (this.failed || seal === undefined) return;
      if (decoded.kind === 'key') {
        if (this.peerKeySeen) return this.handlers.violation('a second key frame on one relay stream');
        this.peerKeySeen = true;
        try {
          await seal.agree(decoded.publicKey, this.options.sid, this.options.localId, this.options.to);
        } catch {
          return this.fail('the peer sent a key that is not a P-256 public key');
        }
        if (!this.failed) this.handlers.open();
        return;
      }
      const packet = await (early ?? seal.decrypt(decoded.counter, decoded.sealed));
      if (typeof packet === 'string') return this.handlers.violation(packet);
      const refused = seal.accept(decoded.counter);
      if (refused?.gap === true) return this.fail(refused.refused);
      if (refused !== undefined) return this.handlers.violation(refused.refused);
      if (!this.failed && typeof packet !== 'string') this.handlers.packet(packet);
    });
  }

  /** What this stream's sealing is keyed by at each end, for its binding (trust/binding.ts): the two ECDH public keys. */
  binding(): ChannelBinding | string {
    const local = this.seal?.keyFrame.subarray(1);
    const remote = this.seal?.peerPublicKey;
    if (local === undefined || remote === undefined) return 'the relay stream has no agreed keys';
    return { kind: 'relay', local: bytesToHex(local), remote: bytesToHex(remote) };
  }

  /** Stops the stream: nothing more is sent or delivered. */
  close(): void {
    this.failed = true;
  }

  private emit(frame: Uint8Array, counted = 0): void {
    this.options.sender.relay(this.options.to, this.options.sid, frame, (ok, reason) => {
      this.unacknowledged -= counted;
      if (!ok) this.fail(reason);
    });
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.handlers.failed(reason);
  }
}
