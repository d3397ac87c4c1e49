/**
 * The sending half of one link: a FIFO of messages and a queue of control records, cut
 * into packets no larger than the peer accepts. Everything waiting when a packet is built
 * goes into it (coalescing); a message too big for the room left spans packets (chunking).
 * Pure: no timers, no channel.
 */
import type { ErrorPayload } from '../../protocol/errors.js';
import {
  CHUNK_FIXED_BYTES,
  HEAD_FIXED_BYTES,
  PACKET_HEADER_BYTES,
  RECORD_HEADER_BYTES,
  encodePacket,
  recordBodyLength,
  type OutgoingRecord,
  type PeerLimits,
} from './codec.js';

export interface OutgoingMessage {
  id: number;
  header: Uint8Array;
  attachment: Uint8Array;
}

interface Queued extends OutgoingMessage {
  written: number;
}

/** The fewest payload bytes worth a record of their own; less room than this ends the packet. */
const MIN_CHUNK_PAYLOAD = 64;

function bodySlice(message: Queued, start: number, end: number): Uint8Array[] {
  const h = message.header.length;
  const parts: Uint8Array[] = [];
  if (start < h) parts.push(message.header.subarray(start, Math.min(end, h)));
  if (end > h) parts.push(message.attachment.subarray(Math.max(start, h) - h, end - h));
  return parts;
}

export class Outbox {
  private readonly messages: Queued[] = [];
  private receipts: number[] = [];
  private readonly control: OutgoingRecord[] = [];
  /**
   * Packets are built here and handed out as views. Data channels copy on send(), and a
   * fresh 256 KiB buffer per packet cost page faults on every one (measured).
   */
  private scratch = new Uint8Array(0);

  enqueue(message: OutgoingMessage): void {
    this.messages.push({ ...message, written: 0 });
  }

  addReceipt(id: number): void {
    this.receipts.push(id);
  }

  addReject(id: number, error: ErrorPayload): void {
    this.control.push({ kind: 'reject', id, error });
  }

  addHello(limits: PeerLimits): void {
    this.control.push({ kind: 'hello', limits });
  }

  /** A liveness ping, unless one is already waiting. */
  addPing(): void {
    if (!this.control.some((r) => r.kind === 'ping')) this.control.push({ kind: 'ping' });
  }

  addBye(): void {
    this.control.push({ kind: 'bye' });
  }

  /** Drops a message not yet fully written (the receiver refused it); true if it was queued. */
  cancel(id: number): boolean {
    const index = this.messages.findIndex((m) => m.id === id);
    if (index < 0) return false;
    this.messages.splice(index, 1);
    return true;
  }

  get isEmpty(): boolean {
    return this.messages.length === 0 && this.receipts.length === 0 && this.control.length === 0;
  }

  /** Ids of the messages still (partly) unsent, in order. */
  queuedIds(): number[] {
    return this.messages.map((m) => m.id);
  }

  /**
   * The next packet of at most `maxBytes`, or null when nothing waits. `onWritten` is told
   * each message whose last byte went into this packet. The packet is a view of a buffer
   * reused by the next call: send (or copy) it before asking for another.
   */
  nextPacket(maxBytes: number, onWritten: (id: number) => void): Uint8Array | null {
    const records: OutgoingRecord[] = [];
    let room = maxBytes - PACKET_HEADER_BYTES;
    const take = (record: OutgoingRecord): void => {
      records.push(record);
      room -= RECORD_HEADER_BYTES + recordBodyLength(record);
    };

    while (this.control.length > 0) {
      const record = this.control[0] as OutgoingRecord;
      if (RECORD_HEADER_BYTES + recordBodyLength(record) > room) break;
      this.control.shift();
      take(record);
    }
    if (this.receipts.length > 0 && room >= RECORD_HEADER_BYTES + 4) {
      const fit = Math.min(this.receipts.length, Math.floor((room - RECORD_HEADER_BYTES) / 4));
      take({ kind: 'receipts', ids: this.receipts.slice(0, fit) });
      this.receipts = this.receipts.slice(fit);
    }

    const completed: number[] = [];
    while (this.messages.length > 0) {
      const message = this.messages[0] as Queued;
      const total = message.header.length + message.attachment.length;
      const fixed = RECORD_HEADER_BYTES + (message.written === 0 ? HEAD_FIXED_BYTES : CHUNK_FIXED_BYTES);
      const payload = Math.min(total - message.written, room - fixed);
      if (payload < Math.min(MIN_CHUNK_PAYLOAD, total - message.written)) break;
      const parts = bodySlice(message, message.written, message.written + payload);
      take(
        message.written === 0
          ? { kind: 'head', id: message.id, jsonLength: message.header.length, attachmentLength: message.attachment.length, parts }
          : { kind: 'chunk', id: message.id, offset: message.written, parts },
      );
      message.written += payload;
      if (message.written < total) break;
      this.messages.shift();
      completed.push(message.id);
    }

    if (records.length === 0) return null;
    if (this.scratch.length < maxBytes) this.scratch = new Uint8Array(maxBytes);
    const packet = encodePacket(records, this.scratch);
    for (const id of completed) onWritten(id);
    return packet;
  }

  /** Empties the outbox, returning the ids of messages that never fully left. */
  clear(): number[] {
    const ids = this.queuedIds();
    this.messages.length = 0;
    this.receipts = [];
    this.control.length = 0;
    return ids;
  }
}
