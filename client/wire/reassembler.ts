/**
 * The receiving half of one link or relay stream: rebuilds messages from head and chunk
 * records, in two lanes. It hands each message out as soon as its last byte arrives;
 * ordering and deduplication across streams are the session's (PeerSession), which knows
 * what was delivered before. Memory is bounded by the limits, checked against the lengths
 * a head declares before anything is allocated. A peer that lies (wrong ids, offsets,
 * lengths, headers) gets its message refused, never an exception. Pure: no channel, no timers.
 * When its stream ends, what it holds in part is handed out (`park`) for the next stream's
 * reassembler to take over (`adopt`), so that the sender can resume rather than start again.
 */
import type { ErrorPayload } from '../../protocol/errors.js';
import { decodeHeader, type DatagramMode, type Lane, type MessageHeader, type WireRecord } from './codec.js';

export interface ReassemblyLimits {
  maxJsonBytes: number;
  maxAttachmentBytes: number;
  /** Messages begun but not complete. */
  maxIncompleteMessages: number;
  /** Bytes held for such messages. */
  maxPendingBytes: number;
}

export interface AssembledMessage {
  lane: Lane;
  id: number;
  /** How it was sent, when not `reliable` (a datagram: `id` is then in its own numbering, `lane` meaningless). */
  delivery?: DatagramMode;
  type: string;
  message: Record<string, unknown>;
  attachment: Uint8Array | undefined;
  broadcast: boolean;
  /** A request's number (the sender awaits a reply). */
  request?: number;
  /** The request this replies to, and the handler's error if it failed. */
  replyTo?: number;
  error?: MessageHeader['error'];
}

/** How far a message spanning several packets has come: from its JSON header on, after each of its records. */
export interface IncomingProgress {
  lane: Lane;
  id: number;
  type: string;
  receivedBytes: number;
  totalBytes: number;
}

export type ReassemblyEvent =
  | { kind: 'message'; message: AssembledMessage }
  /** More of an unfinished message arrived (never for one that arrives in a single record). */
  | { kind: 'progress'; progress: IncomingProgress }
  /** The message `id` of `lane` was refused: tell the sender why. */
  | { kind: 'reject'; lane: Lane; id: number; error: ErrorPayload }
  /** Something the sender should never have sent; dropped and counted. `costly`: a message begun and abandoned, or refused for want of memory. */
  | { kind: 'violation'; reason: string; costly?: true };

interface Assembly {
  json: Uint8Array;
  attachment: Uint8Array;
  received: number;
  /** Decoded as soon as the JSON bytes are complete, so progress can name the type. */
  header: MessageHeader | undefined;
  /** Carried over from a stream that ended (adopt): its sender may resume it, or start it again with a head. */
  resumed?: true;
}

/** A message held in part when its stream ended, for the next stream to continue (PeerSession keeps it meanwhile). */
export interface PartialMessage {
  lane: Lane;
  id: number;
  /** Bytes held so far. */
  readonly received: number;
  /** Its bytes: what a new stream's reassembler takes over. */
  readonly assembly: unknown;
  readonly bytes: number;
}

const REMEMBERED_REFUSALS = 64;

const key = (lane: Lane, id: number): number => id * 2 + lane;

export class Reassembler {
  /** The last head id seen in each lane: heads come in increasing order within a stream. */
  private readonly lastHead: [number, number] = [0, 0];
  private readonly assemblies = new Map<number, Assembly>();
  /** Messages refused recently: their remaining chunks are discarded quietly. */
  private readonly refused = new Set<number>();
  private pending = 0;

  constructor(private readonly limits: ReassemblyLimits) {}

  get pendingBytes(): number {
    return this.pending;
  }

  /** Messages begun and not yet complete. */
  get incompleteMessages(): number {
    return this.assemblies.size;
  }

  accept(record: Extract<WireRecord, { kind: 'head' | 'chunk' }>): ReassemblyEvent[] {
    return record.kind === 'head' ? this.acceptHead(record) : this.acceptChunk(record);
  }

  clear(): void {
    this.assemblies.clear();
    this.pending = 0;
  }

  /** The stream ends: its unfinished messages, handed out (for the next stream to continue) rather than dropped. */
  park(): PartialMessage[] {
    const parked: PartialMessage[] = [];
    for (const [k, assembly] of this.assemblies) {
      const lane = (k % 2) as Lane;
      if (assembly.received > 0) parked.push({ lane, id: (k - lane) / 2, received: assembly.received, assembly, bytes: assembly.json.length + assembly.attachment.length });
    }
    this.clear();
    return parked;
  }

  /** Takes over messages a stream that ended held in part: their chunks continue here, from where they were. */
  adopt(parked: readonly PartialMessage[]): void {
    for (const partial of parked) {
      const k = key(partial.lane, partial.id);
      if (this.assemblies.has(k)) continue;
      const assembly = { ...(partial.assembly as Assembly), resumed: true as const };
      this.assemblies.set(k, assembly);
      this.pending += partial.bytes;
    }
  }

  /** The peer restarted its session: messages carried over are of its old numbering, and will not be resumed. */
  dropResumed(): void {
    for (const [k, assembly] of [...this.assemblies]) {
      if (assembly.resumed !== true) continue;
      this.assemblies.delete(k);
      this.pending -= assembly.json.length + assembly.attachment.length;
    }
  }

  /**
   * The sender aborted message `lane:id`: what was assembled is dropped (its memory freed) and
   * any chunk still on its way is discarded. Returns how far it had come, if it had begun.
   */
  cancel(lane: Lane, id: number): IncomingProgress | undefined {
    const assembly = this.assemblies.get(key(lane, id));
    this.lastHead[lane] = Math.max(this.lastHead[lane], id);
    if (assembly === undefined) return undefined;
    this.abandon(lane, id, assembly);
    const { header } = assembly;
    if (header === undefined) return undefined;
    return { lane, id, type: header.type, receivedBytes: assembly.received, totalBytes: assembly.json.length + assembly.attachment.length };
  }

  private acceptHead(head: Extract<WireRecord, { kind: 'head' }>): ReassemblyEvent[] {
    const { lane, id, jsonLength, attachmentLength } = head;
    const carried = this.assemblies.get(key(lane, id));
    if (carried?.resumed === true) {
      // Its sender starts it again from its first byte (it does not resume, or not this one): begin afresh.
      this.assemblies.delete(key(lane, id));
      this.pending -= carried.json.length + carried.attachment.length;
    }
    if (id <= this.lastHead[lane]) {
      return [{ kind: 'violation', reason: `head ${lane}:${id} out of sequence (last was ${this.lastHead[lane]})` }];
    }
    this.lastHead[lane] = id;
    // A sender writes one message of a lane at a time: a new head means the unfinished one is abandoned.
    const abandoned: ReassemblyEvent[] = [];
    for (const [k, assembly] of this.assemblies) {
      if (k % 2 !== lane || (k - lane) / 2 > id) continue; // a later one can only be carried over, and resumed after this
      this.abandon(lane, (k - lane) / 2, assembly);
      // One carried over from an ended stream may simply not be resumed (its sender settled it meanwhile): no blame.
      if (assembly.resumed !== true) abandoned.push({ kind: 'violation', reason: `message ${lane}:${(k - lane) / 2} abandoned unfinished by head ${id}`, costly: true });
    }
    return [...abandoned, ...this.begin(head)];
  }

  private begin(head: Extract<WireRecord, { kind: 'head' }>): ReassemblyEvent[] {
    const { lane, id, jsonLength, attachmentLength } = head;
    const total = jsonLength + attachmentLength;
    const refuse = (error: ErrorPayload, violation?: string, costly = false): ReassemblyEvent[] => {
      this.remember(lane, id);
      const events: ReassemblyEvent[] = [{ kind: 'reject', lane, id, error }];
      if (violation !== undefined) events.push(costly ? { kind: 'violation', reason: violation, costly } : { kind: 'violation', reason: violation });
      return events;
    };
    if (jsonLength === 0 || head.bytes.length > total) {
      return refuse({ code: 'INVALID_MESSAGE', message: 'malformed message head' }, `head ${lane}:${id} lengths do not add up`);
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
    if (this.assemblies.size >= this.limits.maxIncompleteMessages || this.pending + total > this.limits.maxPendingBytes) {
      return refuse({ code: 'MESSAGE_TOO_LARGE', message: 'the recipient has too many incomplete messages from you' }, `reassembly limit hit by ${lane}:${id}`, true);
    }
    const assembly: Assembly = { json: new Uint8Array(jsonLength), attachment: new Uint8Array(attachmentLength), received: 0, header: undefined };
    this.assemblies.set(key(lane, id), assembly);
    this.pending += total;
    return this.append(lane, id, assembly, head.bytes);
  }

  private acceptChunk(chunk: Extract<WireRecord, { kind: 'chunk' }>): ReassemblyEvent[] {
    const { lane, id } = chunk;
    const assembly = this.assemblies.get(key(lane, id));
    if (assembly === undefined) {
      if (this.refused.has(key(lane, id))) return [];
      return [{ kind: 'violation', reason: `chunk for unknown message ${lane}:${id}` }];
    }
    const total = assembly.json.length + assembly.attachment.length;
    if (chunk.offset !== assembly.received || chunk.bytes.length > total - assembly.received) {
      this.abandon(lane, id, assembly);
      return [
        { kind: 'reject', lane, id, error: { code: 'INVALID_MESSAGE', message: 'message chunks arrived corrupted' } },
        { kind: 'violation', reason: `chunk of ${lane}:${id} at offset ${chunk.offset} (expected ${assembly.received})` },
      ];
    }
    return this.append(lane, id, assembly, chunk.bytes);
  }

  private append(lane: Lane, id: number, assembly: Assembly, bytes: Uint8Array): ReassemblyEvent[] {
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
    const total = json.length + attachment.length;
    if (assembly.header === undefined && assembly.received >= json.length) {
      // The JSON is complete: decode it now, so that a bad header is refused before the attachment arrives.
      const header = decodeHeader(json);
      if (typeof header === 'string') {
        this.abandon(lane, id, assembly);
        return [
          { kind: 'reject', lane, id, error: { code: 'INVALID_MESSAGE', message: header } },
          { kind: 'violation', reason: `message ${lane}:${id}: ${header}` },
        ];
      }
      assembly.header = header;
    }
    const { header } = assembly;
    if (assembly.received < total) {
      return header === undefined ? [] : [{ kind: 'progress', progress: { lane, id, type: header.type, receivedBytes: assembly.received, totalBytes: total } }];
    }

    this.assemblies.delete(key(lane, id));
    this.pending -= total;
    if (header === undefined) return []; // unreachable: complete implies the JSON is too
    const message: AssembledMessage = {
      lane,
      id,
      type: header.type,
      message: header.message,
      attachment: attachment.length > 0 ? attachment : undefined,
      broadcast: header.broadcast,
    };
    if (header.request !== undefined) message.request = header.request;
    if (header.replyTo !== undefined) message.replyTo = header.replyTo;
    if (header.error !== undefined) message.error = header.error;
    return [{ kind: 'message', message }];
  }

  private abandon(lane: Lane, id: number, assembly: Assembly): void {
    this.assemblies.delete(key(lane, id));
    this.pending -= assembly.json.length + assembly.attachment.length;
    this.remember(lane, id);
  }

  private remember(lane: Lane, id: number): void {
    this.refused.add(key(lane, id));
    if (this.refused.size > REMEMBERED_REFUSALS) {
      const oldest = this.refused.values().next().value;
      if (oldest !== undefined) this.refused.delete(oldest);
    }
  }
}
