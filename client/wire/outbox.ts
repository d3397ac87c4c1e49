/**
 * The sending half, cut into packets no larger than the peer accepts. Two parts:
 * - `Lanes`, owned by the session with one participant: the messages waiting to be
 *   written, in two lanes. It outlives links: after a path switch it is rewound to hold
 *   every message not yet receipted, from its first byte.
 * - `Outbox`, owned by one link or relay stream: its control records and receipts, and
 *   the packet builder, which fills what room control leaves with message bytes.
 * Everything waiting when a packet is built goes into it (coalescing); a message too big
 * for the room left spans packets (chunking). Pure: no timers, no channel.
 */
import type { ErrorPayload } from '../../protocol/errors.js';
import {
  CHUNK_FIXED_BYTES,
  HEAD_FIXED_BYTES,
  PACKET_HEADER_BYTES,
  RECORD_HEADER_BYTES,
  receiptsThatFit,
  encodePacket,
  recordBodyLength,
  type Hello,
  type Lane,
  type OutgoingRecord,
} from './codec.js';

export interface OutgoingMessage {
  lane: Lane;
  id: number;
  header: Uint8Array;
  attachment: Uint8Array;
  /** Aborted before its last byte was written: a cancel record goes in its place. */
  cancelled?: boolean;
  /** Told the bytes written so far each time a packet takes more of the message. */
  progress?: (written: number) => void;
}

interface Queued extends OutgoingMessage {
  written: number;
}

/** The fewest payload bytes worth a record of their own; less room than this ends the packet. */
const MIN_CHUNK_PAYLOAD = 64;
/**
 * Lane 0 goes first in every packet, so a small message waits for at most the packets
 * already buffered. So that a stream of small messages cannot starve a big one either,
 * lane 1 goes first after this many packets in a row that left it no room.
 */
const MAX_BULK_SKIPS = 3;
const EMPTY = new Uint8Array(0);
/** A cancel record's size: record header, lane, id. */
const CANCEL_BYTES = RECORD_HEADER_BYTES + 5;

function bodySlice(message: Queued, start: number, end: number): Uint8Array[] {
  const h = message.header.length;
  const parts: Uint8Array[] = [];
  if (start < h) parts.push(message.header.subarray(start, Math.min(end, h)));
  if (end > h) parts.push(message.attachment.subarray(Math.max(start, h) - h, end - h));
  return parts;
}

/**
 * A lane's queue: an array read from a moving head, because `Array.prototype.shift()` on
 * tens of thousands of queued messages copies the rest each time (it dominated a sender's
 * profile in a burst of small messages: docs/performance.md). Compacted once the read part dominates.
 */
class Queue {
  private items: Queued[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  first(): Queued | undefined {
    return this.items[this.head];
  }

  push(item: Queued): void {
    this.items.push(item);
  }

  shift(): void {
    this.head++;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  /** Where the first item `matches` accepts is, or -1. */
  private indexOf(matches: (item: Queued) => boolean): number {
    for (let i = this.head; i < this.items.length; i++) if (matches(this.items[i] as Queued)) return i;
    return -1;
  }

  find(matches: (item: Queued) => boolean): Queued | undefined {
    const at = this.indexOf(matches);
    return at === -1 ? undefined : this.items[at];
  }

  /** Removes the first item `matches` accepts; true if there was one. */
  remove(matches: (item: Queued) => boolean): boolean {
    const at = this.indexOf(matches);
    if (at !== -1) this.items.splice(at, 1);
    return at !== -1;
  }

  sortById(): void {
    this.items = this.items.slice(this.head).sort((a, b) => a.id - b.id);
    this.head = 0;
  }

  ids(): number[] {
    return this.items.slice(this.head).map((m) => m.id);
  }
}

export class Lanes {
  private readonly queues: [Queue, Queue] = [new Queue(), new Queue()];
  private bulkSkips = 0;

  enqueue(message: OutgoingMessage): void {
    this.queues[message.lane].push({ ...message, written: 0 });
  }

  /**
   * Replaces everything queued with `messages` (each lane in id order), none of them written yet,
   * or, with `from`, written up to there already: the receiver holds that much, and it resumes.
   */
  rewind(messages: Iterable<OutgoingMessage & { from?: number }>): void {
    this.queues[0].clear();
    this.queues[1].clear();
    for (const { from, ...message } of messages) this.queues[message.lane].push({ ...message, written: from ?? 0 });
    for (const queue of this.queues) queue.sortById();
  }

  /** Drops a message not yet fully written (the receiver refused it); true if it was queued. */
  cancel(lane: Lane, id: number): boolean {
    return this.queues[lane].remove((m) => m.id === id);
  }

  /**
   * The sender aborted a message not yet fully written: nothing more of it is written, and a
   * cancel record takes its place in the lane (the receiver discards what it holds and
   * counts the id as handled, so the lane's numbering has no gap). True if it was queued.
   */
  abort(lane: Lane, id: number): boolean {
    const queue = this.queues[lane];
    const message = queue.find((m) => m.id === id);
    if (message === undefined) return false;
    message.cancelled = true;
    message.header = message.attachment = EMPTY; // the bytes can be collected now
    delete message.progress;
    return true;
  }

  get isEmpty(): boolean {
    return this.queues[0].length === 0 && this.queues[1].length === 0;
  }

  /** Whether the first message waiting in `lane` has had some of its bytes written (it must finish where it began). */
  started(lane: Lane): boolean {
    return (this.queues[lane].first()?.written ?? 0) > 0;
  }

  /** Ids still (partly) unwritten in `lane`, in order. */
  queuedIds(lane: Lane): number[] {
    return this.queues[lane].ids();
  }

  /**
   * Appends head/chunk records for up to `room` bytes to `records`; returns the room left.
   * `completed` gets the lane and id of each message whose last byte went in.
   */
  fill(records: OutgoingRecord[], room: number, completed: Array<[Lane, number]>, only?: Lane): number {
    // A stream with a bulk channel writes each lane on its own channel.
    if (only !== undefined) return this.fillLane(only, records, room, completed);
    const bulkFirst = this.bulkSkips >= MAX_BULK_SKIPS && this.queues[1].length > 0;
    const order: Lane[] = bulkFirst ? [1, 0] : [0, 1];
    for (const lane of order) room = this.fillLane(lane, records, room, completed);
    if (this.queues[1].length === 0 || records.some((r) => (r.kind === 'head' || r.kind === 'chunk') && r.lane === 1)) this.bulkSkips = 0;
    else this.bulkSkips++;
    return room;
  }

  private fillLane(lane: Lane, records: OutgoingRecord[], room: number, completed: Array<[Lane, number]>): number {
    const queue = this.queues[lane];
    while (queue.length > 0) {
      const message = queue.first() as Queued;
      if (message.cancelled === true) {
        if (room < CANCEL_BYTES) break;
        records.push({ kind: 'cancel', lane, id: message.id });
        room -= CANCEL_BYTES;
        queue.shift();
        continue;
      }
      const total = message.header.length + message.attachment.length;
      const fixed = RECORD_HEADER_BYTES + (message.written === 0 ? HEAD_FIXED_BYTES : CHUNK_FIXED_BYTES);
      const payload = Math.min(total - message.written, room - fixed);
      if (payload < Math.min(MIN_CHUNK_PAYLOAD, total - message.written)) break;
      const parts = bodySlice(message, message.written, message.written + payload);
      const record: OutgoingRecord =
        message.written === 0
          ? { kind: 'head', lane, id: message.id, jsonLength: message.header.length, attachmentLength: message.attachment.length, parts }
          : { kind: 'chunk', lane, id: message.id, offset: message.written, parts };
      records.push(record);
      room -= RECORD_HEADER_BYTES + recordBodyLength(record);
      message.written += payload;
      message.progress?.(message.written);
      if (message.written < total) break;
      queue.shift();
      completed.push([lane, message.id]);
    }
    return room;
  }
}

export class Outbox {
  private readonly receipts: [number[], number[]] = [[], []];
  /** Receipts for the peer's unordered datagrams. */
  private datagramReceipts: number[] = [];
  private readonly control: OutgoingRecord[] = [];
  /**
   * Packets are built here and handed out as views. Data channels copy on send(), and a
   * fresh 256 KiB buffer per packet cost page faults on every one (measured).
   */
  private scratch = new Uint8Array(0);

  addReceipt(lane: Lane, id: number): void {
    this.receipts[lane].push(id);
  }

  addDatagramReceipt(id: number): void {
    this.datagramReceipts.push(id);
  }

  addReject(lane: Lane, id: number, error: ErrorPayload): void {
    this.control.push({ kind: 'reject', lane, id, error });
  }

  addHello(hello: Hello): void {
    this.control.push({ kind: 'hello', hello });
  }

  /** The stream's auth record (trust/binding.ts), after the hello. */
  addAuth(body: Uint8Array): void {
    this.control.push({ kind: 'auth', body });
  }

  /** A liveness ping, unless one is already waiting. */
  addPing(): void {
    if (!this.control.some((r) => r.kind === 'ping')) this.control.push({ kind: 'ping' });
  }

  /** Asks the peer for an immediate pong. */
  addProbe(): void {
    if (!this.control.some((r) => r.kind === 'probe')) this.control.push({ kind: 'probe' });
  }

  /** Answers a probe: sent after everything the peer's probe followed was handled. */
  addPong(): void {
    if (!this.control.some((r) => r.kind === 'pong')) this.control.push({ kind: 'pong' });
  }

  /** A goodbye; `answer`: one answering the peer's. */
  addBye(answer = false): void {
    this.control.push(answer ? { kind: 'bye', answer } : { kind: 'bye' });
  }

  /** Nothing of this outbox's own waits (the lanes are the session's). */
  get isEmpty(): boolean {
    return this.receipts[0].length === 0 && this.receipts[1].length === 0 && this.datagramReceipts.length === 0 && this.control.length === 0;
  }

  /**
   * The next packet of at most `maxBytes`, or null when nothing waits: control records and
   * receipts first, then datagrams (`datagrams` appends their records for the room it is given,
   * returning the room left), then message bytes from `lanes` (when this outbox may carry messages).
   * `onWritten` is told each message whose last byte went into this packet. The packet is
   * a view of a buffer reused by the next call: send (or copy) it before asking for another.
   */
  nextPacket(
    maxBytes: number,
    lanes: Lanes | undefined,
    onWritten: (lane: Lane, id: number) => void,
    only?: Lane,
    datagrams?: (records: OutgoingRecord[], room: number) => number,
  ): Uint8Array | null {
    const records: OutgoingRecord[] = [];
    let room = maxBytes - PACKET_HEADER_BYTES;
    while (this.control.length > 0) {
      const record = this.control[0] as OutgoingRecord;
      const size = RECORD_HEADER_BYTES + recordBodyLength(record);
      if (size > room) break;
      this.control.shift();
      records.push(record);
      room -= size;
    }
    for (const lane of [0, 1] as const) {
      const waiting = this.receipts[lane];
      const fit = Math.min(waiting.length, receiptsThatFit(room));
      if (fit === 0) continue;
      const record: OutgoingRecord = { kind: 'receipts', lane, ids: waiting.splice(0, fit) };
      records.push(record);
      room -= RECORD_HEADER_BYTES + recordBodyLength(record);
    }
    const acks = Math.min(this.datagramReceipts.length, receiptsThatFit(room, 0));
    if (acks > 0) {
      records.push({ kind: 'datagram-receipts', ids: this.datagramReceipts.splice(0, acks) });
      room -= RECORD_HEADER_BYTES + 4 * acks;
    }
    if (datagrams !== undefined) room = datagrams(records, room);
    const completed: Array<[Lane, number]> = [];
    if (lanes !== undefined) lanes.fill(records, room, completed, only);
    if (records.length === 0) return null;
    if (this.scratch.length < maxBytes) this.scratch = new Uint8Array(maxBytes);
    const packet = encodePacket(records, this.scratch);
    for (const [lane, id] of completed) onWritten(lane, id);
    return packet;
  }

  clear(): void {
    this.receipts[0].length = 0;
    this.receipts[1].length = 0;
    this.datagramReceipts = [];
    this.control.length = 0;
  }
}
