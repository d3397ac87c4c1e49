/**
 * The reliable message channel to one remote participant, over one PeerLink: numbering,
 * coalescing, chunking and pacing on the way out; reassembly, ordering and receipts on
 * the way in. `send()` resolves on the recipient's receipt (end to end), rejects with the
 * recipient's refusal, TIMEOUT, or whatever error the channel failed with.
 */
import { RoomError, toRoomError, type ErrorPayload } from '../protocol/errors.js';
import type { Tunables } from './options.js';
import { MAX_PACKET_BYTES, decodePacket, type PeerLimits } from './wire/codec.js';
import { Outbox } from './wire/outbox.js';
import { Pacer, type PacerSink } from './wire/pacer.js';
import { Reassembler, type AssembledMessage } from './wire/reassembler.js';

export interface ChannelTransport {
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  readonly maxMessageSize: number | undefined;
  send(packet: Uint8Array): void;
}

export interface ChannelHandlers {
  /** The peer's hello arrived: it is ready for messages. */
  hello(): void;
  message(message: AssembledMessage): void;
  bye(): void;
  /** Nothing arrived for `livenessTimeoutMs`. */
  silent(): void;
  /** The peer broke the protocol beyond what can be dropped; the link must close. */
  broken(reason: string): void;
  /** We refused one of the peer's messages (over a limit, malformed) and told it so. */
  refused(error: ErrorPayload): void;
  violation(reason: string): void;
}

interface Pending {
  resolve(): void;
  reject(error: RoomError): void;
  writtenAt: number | undefined;
}

/** Used when the implementation does not report the negotiated size: safe in every browser. */
const FALLBACK_MAX_MESSAGE_BYTES = 65_536;

export class PeerChannel {
  private readonly outbox = new Outbox();
  private readonly reassembler: Reassembler;
  private readonly pacer: Pacer;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private lastHeard = Date.now();
  private failure: RoomError | undefined;
  /** What the peer accepts, from its hello; until then, our own limits are assumed. */
  private peerLimits: PeerLimits;
  /** Frames and records dropped because they broke the protocol. */
  violations = 0;

  /** Starts the channel; its first packet is a hello announcing our limits. */
  constructor(
    private readonly transport: ChannelTransport,
    private readonly tunables: Tunables,
    private readonly handlers: ChannelHandlers,
  ) {
    this.reassembler = new Reassembler(tunables);
    this.peerLimits = { maxJsonBytes: tunables.maxJsonBytes, maxAttachmentBytes: tunables.maxAttachmentBytes };
    this.outbox.addHello(this.peerLimits);
    const sink: PacerSink = {
      get isOpen() {
        return transport.isOpen;
      },
      get bufferedAmount() {
        return transport.bufferedAmount;
      },
      maxPacketBytes: Math.max(
        1024,
        Math.min(tunables.maxPacketBytes, transport.maxMessageSize ?? FALLBACK_MAX_MESSAGE_BYTES, MAX_PACKET_BYTES),
      ),
      send: (packet) => transport.send(packet),
    };
    this.pacer = new Pacer(sink, { nextPacket: (max) => this.outbox.nextPacket(max, (id) => this.written(id)) }, {
      highWaterMark: tunables.highWaterMarkBytes,
      lowWaterMark: tunables.lowWaterMarkBytes,
      pollIntervalMs: tunables.pollIntervalMs,
    });
    this.pacer.kick();
    // Any packet proves the peer alive; an idle link pings. Checking twice per interval
    // bounds detection at livenessTimeoutMs + heartbeatIntervalMs / 2. A tick that comes
    // far too late means this process was starved (a blocked event loop, an overloaded
    // machine): the peer's packets may be waiting unread, so it gets a fresh window rather
    // than the blame.
    let sincePing = 0;
    const every = tunables.heartbeatIntervalMs / 2;
    let lastTick = Date.now();
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      if (now - lastTick > every + tunables.livenessTimeoutMs / 2) this.lastHeard = now;
      lastTick = now;
      if (now - this.lastHeard > tunables.livenessTimeoutMs) return handlers.silent();
      sincePing += every;
      if (sincePing >= tunables.heartbeatIntervalMs && this.outbox.isEmpty) {
        sincePing = 0;
        this.outbox.addPing();
        this.pacer.kick();
      }
    }, every);
  }

  send(header: Uint8Array, attachment: Uint8Array): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const { maxJsonBytes, maxAttachmentBytes } = this.peerLimits;
    if (header.length > maxJsonBytes || attachment.length > maxAttachmentBytes) {
      return Promise.reject(
        new RoomError(
          'MESSAGE_TOO_LARGE',
          `the recipient accepts at most ${maxJsonBytes} bytes of JSON and ${maxAttachmentBytes} bytes of attachment; this message has ${header.length} and ${attachment.length}`,
        ),
      );
    }
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, writtenAt: undefined });
      this.outbox.enqueue({ id, header, attachment });
      this.pacer.kick();
    });
  }

  receive(packet: Uint8Array): void {
    if (this.failure !== undefined) return;
    this.lastHeard = Date.now();
    const decoded = decodePacket(packet);
    if (!decoded.ok) return this.violation(decoded.reason);
    if (decoded.unknownRecords > 0) this.violation(`${decoded.unknownRecords} record(s) of unknown kind skipped`);
    for (const record of decoded.records) {
      switch (record.kind) {
        case 'head':
        case 'chunk':
          for (const event of this.reassembler.accept(record)) {
            if (event.kind === 'message') {
              this.outbox.addReceipt(event.message.id);
              this.pacer.kick();
              this.handlers.message(event.message);
            } else if (event.kind === 'reject') {
              this.outbox.addReject(event.id, event.error);
              this.pacer.kick();
              this.handlers.refused(event.error);
            } else if (event.kind === 'violation') {
              this.violation(event.reason);
            } else {
              this.violation(event.reason);
              this.handlers.broken(event.reason);
              return;
            }
          }
          break;
        case 'receipts':
          for (const id of record.ids) {
            const pending = this.settle(id);
            if (pending === undefined) this.stale(id, 'receipt');
            else pending.resolve();
          }
          break;
        case 'reject': {
          this.outbox.cancel(record.id);
          const pending = this.settle(record.id);
          if (pending === undefined) this.stale(record.id, 'reject');
          else pending.reject(toRoomError(record.error));
          break;
        }
        case 'hello':
          this.peerLimits = record.limits;
          this.handlers.hello();
          break;
        case 'ping':
          break;
        case 'bye':
          this.handlers.bye();
          return;
      }
    }
  }

  /** The transport became usable (or writable again): send what waits. */
  resume(): void {
    this.pacer.kick();
  }

  /** Queues a goodbye; it leaves in the next packet. */
  bye(): void {
    this.outbox.addBye();
    this.pacer.kick();
  }

  /** Stops the channel: every message not yet receipted rejects with `error`. Idempotent. */
  fail(error: RoomError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.pacer.stop();
    clearInterval(this.heartbeat);
    this.outbox.clear();
    this.reassembler.clear();
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p !== undefined) this.pending.delete(id);
    if (this.pending.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    return p;
  }

  private written(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    p.writtenAt = Date.now();
    if (this.sweepTimer === undefined) {
      const every = Math.max(10, Math.min(1000, this.tunables.receiptTimeoutMs / 4));
      this.sweepTimer = setInterval(() => this.sweep(), every);
    }
  }

  /** Pending is in id order, which is the order messages were written: stop at the first one still in time. */
  private sweep(): void {
    const deadline = Date.now() - this.tunables.receiptTimeoutMs;
    for (const [id, p] of this.pending) {
      if (p.writtenAt === undefined || p.writtenAt > deadline) break;
      this.settle(id);
      p.reject(new RoomError('TIMEOUT', `no receipt within ${this.tunables.receiptTimeoutMs} ms; the recipient may be gone or overloaded`));
    }
  }

  /** A receipt or reject for an id that is not pending: fine if it timed out, hostile if it was never sent. */
  private stale(id: number, what: string): void {
    if (id >= this.nextId || id < 1) this.violation(`${what} for message ${id}, which was never sent`);
  }

  private violation(reason: string): void {
    this.violations++;
    this.handlers.violation(reason);
  }
}
