/**
 * The receiving half of one link: rebuilds messages from head and chunk records and hands
 * them out in the order the sender numbered them. Memory is bounded by the limits, checked
 * against the lengths a head declares before anything is allocated. A peer that lies
 * (wrong ids, offsets, lengths, headers) gets its message refused, never an exception.
 * Pure: no channel, no timers.
 */
import type { ErrorPayload } from '../../protocol/errors.js';
import { decodeHeader, type WireRecord } from './codec.js';

export interface ReassemblyLimits {
  maxJsonBytes: number;
  maxAttachmentBytes: number;
  /** Messages begun but not complete (or complete but waiting for an earlier one). */
  maxIncompleteMessages: number;
  /** Bytes held for such messages. */
  maxPendingBytes: number;
}

export interface AssembledMessage {
  id: number;
  type: string;
  message: Record<string, unknown>;
  attachment: Uint8Array | undefined;
  broadcast: boolean;
}

export type ReassemblyEvent =
  | { kind: 'message'; message: AssembledMessage }
  /** Tell the sender its message `id` was refused, and why. */
  | { kind: 'reject'; id: number; error: ErrorPayload }
  /** Something the sender should never have sent; dropped and counted. */
  | { kind: 'violation'; reason: string }
  /** The sender made us hold more than the limits allow: the link must close. */
  | { kind: 'fatal'; reason: string };

interface Assembly {
  json: Uint8Array;
  attachment: Uint8Array;
  received: number;
  done: AssembledMessage | 'skip' | undefined;
}

const REMEMBERED_REFUSALS = 64;
/**
 * Finished or refused messages wait here for an earlier, unfinished one (delivery is in id
 * order). An honest sender finishes each message before the next, so this stays tiny; a
 * peer that makes it grow past this many is cut off.
 */
const MAX_WAITING = 64;

export class Reassembler {
  private nextHeadId = 1;
  private nextDeliverId = 1;
  private readonly assemblies = new Map<number, Assembly>();
  /** Ids refused recently: their remaining chunks are discarded quietly. */
  private readonly refused = new Set<number>();
  private pending = 0;

  constructor(private readonly limits: ReassemblyLimits) {}

  get pendingBytes(): number {
    return this.pending;
  }

  /** Messages begun and not yet complete. */
  get incompleteMessages(): number {
    let n = 0;
    for (const assembly of this.assemblies.values()) if (assembly.done === undefined) n++;
    return n;
  }

  /** Entries held in all: incomplete, plus finished or refused ones waiting for an earlier id. */
  get heldMessages(): number {
    return this.assemblies.size;
  }

  accept(record: Extract<WireRecord, { kind: 'head' | 'chunk' }>): ReassemblyEvent[] {
    return record.kind === 'head' ? this.acceptHead(record) : this.acceptChunk(record);
  }

  clear(): void {
    this.assemblies.clear();
    this.pending = 0;
  }

  private acceptHead(head: Extract<WireRecord, { kind: 'head' }>): ReassemblyEvent[] {
    if (head.id !== this.nextHeadId) {
      return [{ kind: 'violation', reason: `head id ${head.id} out of sequence (expected ${this.nextHeadId})` }];
    }
    if (this.assemblies.size >= this.limits.maxIncompleteMessages + MAX_WAITING) {
      return [{ kind: 'fatal', reason: `${this.assemblies.size} messages held waiting for message ${this.nextDeliverId} to finish` }];
    }
    this.nextHeadId++;
    const { jsonLength, attachmentLength, id } = head;
    const total = jsonLength + attachmentLength;
    const refuse = (error: ErrorPayload, violation?: string): ReassemblyEvent[] => {
      this.assemblies.set(id, { json: new Uint8Array(0), attachment: new Uint8Array(0), received: 0, done: 'skip' });
      this.remember(id);
      const events: ReassemblyEvent[] = [{ kind: 'reject', id, error }];
      if (violation !== undefined) events.push({ kind: 'violation', reason: violation });
      return [...events, ...this.deliverInOrder()];
    };
    if (jsonLength === 0 || head.bytes.length > total) {
      return refuse({ code: 'INVALID_MESSAGE', message: 'malformed message head' }, `head ${id} lengths do not add up`);
    }
    if (jsonLength > this.limits.maxJsonBytes) {
      return refuse({ code: 'MESSAGE_TOO_LARGE', message: `message JSON of ${jsonLength} bytes exceeds the recipient's limit of ${this.limits.maxJsonBytes}` });
    }
    if (attachmentLength > this.limits.maxAttachmentBytes) {
      return refuse({
        code: 'MESSAGE_TOO_LARGE',
        message: `attachment of ${attachmentLength} bytes exceeds the recipient's limit of ${this.limits.maxAttachmentBytes}`,
      });
    }
    if (this.incompleteMessages >= this.limits.maxIncompleteMessages || this.pending + total > this.limits.maxPendingBytes) {
      return refuse({ code: 'MESSAGE_TOO_LARGE', message: 'the recipient has too many incomplete messages from you' }, `reassembly limit hit by ${id}`);
    }
    const assembly: Assembly = { json: new Uint8Array(jsonLength), attachment: new Uint8Array(attachmentLength), received: 0, done: undefined };
    this.assemblies.set(id, assembly);
    this.pending += total;
    return this.append(id, assembly, head.bytes);
  }

  private acceptChunk(chunk: Extract<WireRecord, { kind: 'chunk' }>): ReassemblyEvent[] {
    const assembly = this.assemblies.get(chunk.id);
    if (assembly === undefined || assembly.done !== undefined) {
      if (this.refused.has(chunk.id)) return [];
      return [{ kind: 'violation', reason: `chunk for unknown message ${chunk.id}` }];
    }
    const total = assembly.json.length + assembly.attachment.length;
    if (chunk.offset !== assembly.received || chunk.bytes.length > total - assembly.received) {
      this.abandon(chunk.id, assembly);
      return [
        { kind: 'reject', id: chunk.id, error: { code: 'INVALID_MESSAGE', message: 'message chunks arrived corrupted' } },
        { kind: 'violation', reason: `chunk of ${chunk.id} at offset ${chunk.offset} (expected ${assembly.received})` },
        ...this.deliverInOrder(),
      ];
    }
    return this.append(chunk.id, assembly, chunk.bytes);
  }

  private append(id: number, assembly: Assembly, bytes: Uint8Array): ReassemblyEvent[] {
    const { json, attachment } = assembly;
    let at = assembly.received;
    let from = 0;
    if (at < json.length) {
      const n = Math.min(json.length - at, bytes.length);
      json.set(bytes.subarray(0, n), at);
      at += n;
      from = n;
    }
    if (from < bytes.length) attachment.set(bytes.subarray(from), at - json.length);
    assembly.received += bytes.length;
    if (assembly.received < json.length + attachment.length) return [];

    const header = decodeHeader(json);
    if (typeof header === 'string') {
      this.abandon(id, assembly);
      return [
        { kind: 'reject', id, error: { code: 'INVALID_MESSAGE', message: header } },
        { kind: 'violation', reason: `message ${id}: ${header}` },
        ...this.deliverInOrder(),
      ];
    }
    assembly.done = {
      id,
      type: header.type,
      message: header.message,
      attachment: attachment.length > 0 ? attachment : undefined,
      broadcast: header.broadcast,
    };
    return this.deliverInOrder();
  }

  private abandon(id: number, assembly: Assembly): void {
    this.pending -= assembly.json.length + assembly.attachment.length;
    assembly.json = new Uint8Array(0);
    assembly.attachment = new Uint8Array(0);
    assembly.done = 'skip';
    this.remember(id);
  }

  private remember(id: number): void {
    this.refused.add(id);
    if (this.refused.size > REMEMBERED_REFUSALS) {
      const oldest = this.refused.values().next().value;
      if (oldest !== undefined) this.refused.delete(oldest);
    }
  }

  private deliverInOrder(): ReassemblyEvent[] {
    const events: ReassemblyEvent[] = [];
    for (;;) {
      const assembly = this.assemblies.get(this.nextDeliverId);
      if (assembly === undefined || assembly.done === undefined) break;
      this.assemblies.delete(this.nextDeliverId);
      this.nextDeliverId++;
      if (assembly.done === 'skip') continue;
      this.pending -= assembly.json.length + assembly.attachment.length;
      events.push({ kind: 'message', message: assembly.done });
    }
    return events;
  }
}
