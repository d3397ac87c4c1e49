/**
 * Datagrams: messages sent `unordered`, `lossy` or `latest` (docs/protocol.md, "Delivery
 * modes"), each whole in one record of one packet. Two parts, both pure (no timers, no channel):
 * - `Datagrams`, the sending half, owned by the session with one participant: the newest unsent
 *   value per type of `latest`, a short queue of `lossy` ones (the oldest dropped past it), and
 *   the `unordered` ones until their receipts (written again on a new path).
 * - `DatagramFilter`, the receiving half: unordered ones delivered once each, latest ones never
 *   older than the newest delivered of their type.
 */
import { RoomError } from '../../protocol/errors.js';
import { DATAGRAM_FIXED_BYTES, RECORD_HEADER_BYTES, decodeHeader, type DatagramChannel, type DatagramMode, type OutgoingRecord, type PeerLimits, type WireRecord } from './codec.js';
import type { AssembledMessage } from './reassembler.js';

/** Lossy datagrams waiting for room, per participant; past this the oldest is dropped (it is lossy). */
export const MAX_QUEUED_LOSSY = 64;
/** Latest-value types tracked per participant, on either side; past this the least recently sent is forgotten. */
export const MAX_LATEST_TYPES = 1024;
/** Unordered ids a receiver remembers above its floor (those before were all delivered). */
const MAX_UNORDERED_AHEAD = 65_536;

export interface DatagramControl {
  signal?: AbortSignal | undefined;
  onWritten?: (() => void) | undefined;
}

interface Entry {
  mode: DatagramMode;
  type: string;
  id: number;
  header: Uint8Array;
  attachment: Uint8Array;
  resolve(): void;
  reject(error: RoomError): void;
  release: (() => void) | undefined;
  onWritten: (() => void) | undefined;
  /** When its last write went out (unordered ones, awaiting their receipts); `complete`: it was written on some stream. */
  writtenAt: number | undefined;
  complete: boolean;
  settled: boolean;
}

/** What became of the datagrams sent to one participant, for stats and benchmarks. */
export interface DatagramCounts {
  /** Written to a path (an unordered one each time it is written). */
  written: number;
  /** Latest values replaced by a newer one of their type before they were written. */
  superseded: number;
  /** Lossy or latest ones dropped unwritten: the lossy queue overflowed, or one did not fit the path's packets. */
  dropped: number;
}

const size = (e: Entry): number => e.header.length + e.attachment.length;

/** Adds `counts` into `total`. */
export function addCounts(total: DatagramCounts, counts: DatagramCounts): void {
  total.written += counts.written;
  total.superseded += counts.superseded;
  total.dropped += counts.dropped;
}

export class Datagrams {
  private nextUnordered = 1;
  private nextUnreliable = 1;
  private readonly latest = new Map<string, Entry>();
  private lossy: Entry[] = [];
  /**
   * Unordered datagrams not yet receipted, in the order sent; `numbered`, those written at least
   * once, by id (ids are given at the first write, so that one aborted or refused before it leaves
   * no gap in the numbering); `toWrite`, those not written on the current stream.
   */
  private readonly unordered = new Set<Entry>();
  private readonly numbered = new Map<number, Entry>();
  private toWrite: Entry[] = [];
  /** Bytes of `unordered`. */
  private unorderedBytes = 0;
  readonly counts: DatagramCounts = { written: 0, superseded: 0, dropped: 0 };

  /** Queues a datagram; the promise settles as its mode says (docs). */
  add(mode: DatagramMode, type: string, header: Uint8Array, attachment: Uint8Array, control: DatagramControl = {}): Promise<void> {
    if (control.signal?.aborted === true) return Promise.reject(abortedDatagram());
    return new Promise<void>((resolve, reject) => {
      const id = mode === 'unordered' ? 0 : this.nextUnreliable++;
      const entry: Entry = { mode, type, id, header, attachment, resolve, reject, release: undefined, onWritten: control.onWritten, writtenAt: undefined, complete: false, settled: false };
      const { signal } = control;
      if (signal !== undefined) {
        const onAbort = (): void => this.abort(entry);
        signal.addEventListener('abort', onAbort, { once: true });
        entry.release = () => signal.removeEventListener('abort', onAbort);
      }
      if (mode === 'unordered') {
        this.unordered.add(entry);
        this.unorderedBytes += size(entry);
        this.toWrite.push(entry);
      } else if (mode === 'latest') {
        const older = this.latest.get(type);
        this.latest.delete(type); // re-inserted last: the map stays in order of sending
        if (older !== undefined) {
          this.counts.superseded++;
          this.done(older);
        }
        this.latest.set(type, entry);
        if (this.latest.size > MAX_LATEST_TYPES) this.drop(this.latest.values().next().value as Entry);
      } else {
        this.lossy.push(entry);
        if (this.lossy.length > MAX_QUEUED_LOSSY) this.drop(this.lossy[0] as Entry);
      }
    });
  }

  /** Bytes of unordered datagrams awaiting their receipts (they count against maxQueuedBytes like any message). */
  get unreceiptedBytes(): number {
    return this.unorderedBytes;
  }

  /**
   * Appends datagram records for up to `room` bytes, latest ones first, then lossy, then
   * unordered (only those of `channel`, when given); returns the room left. One that could not
   * fit even an empty packet of `maxRoom` bytes is given up: a lossy or latest one dropped, an
   * unordered one rejected with MESSAGE_TOO_LARGE.
   */
  fill(records: OutgoingRecord[], room: number, maxRoom: number, now: number, channel?: DatagramChannel): number {
    const fits = (e: Entry): 'yes' | 'later' | 'never' => {
      const bytes = RECORD_HEADER_BYTES + DATAGRAM_FIXED_BYTES + size(e);
      return bytes <= room ? 'yes' : bytes <= maxRoom ? 'later' : 'never';
    };
    const take = (e: Entry): void => {
      if (e.mode === 'unordered' && e.id === 0) {
        e.id = this.nextUnordered++;
        this.numbered.set(e.id, e);
      }
      records.push({ kind: 'datagram', mode: e.mode, id: e.id, jsonLength: e.header.length, parts: [e.header, e.attachment] });
      room -= RECORD_HEADER_BYTES + DATAGRAM_FIXED_BYTES + size(e);
      this.counts.written++;
      e.onWritten?.();
    };
    if (channel === undefined || channel === 'lossy') {
      for (const e of [...this.latest.values()]) {
        const fit = fits(e);
        if (fit === 'later') continue;
        this.latest.delete(e.type);
        if (fit === 'never') this.drop(e);
        else take(e), this.done(e);
      }
      while (this.lossy.length > 0) {
        const e = this.lossy[0] as Entry;
        const fit = fits(e);
        if (fit === 'later') break;
        if (fit === 'never') this.drop(e);
        else this.lossy.shift(), take(e), this.done(e);
      }
    }
    if (channel === undefined || channel === 'unordered') {
      while (this.toWrite.length > 0) {
        const e = this.toWrite[0] as Entry;
        const fit = fits(e);
        if (fit === 'later') break;
        this.toWrite.shift();
        if (fit === 'never') {
          this.forget(e);
          this.refuse(e, new RoomError('MESSAGE_TOO_LARGE', `an unordered message of ${size(e)} bytes does not fit one packet of this path (${maxRoom - RECORD_HEADER_BYTES - DATAGRAM_FIXED_BYTES} bytes: a relay through a service with a small payload limit); send it reliable`));
          continue;
        }
        take(e);
        e.writtenAt = now;
        e.complete = true;
      }
    }
    return room;
  }

  /** Receipts for unordered datagrams: each settles. Returns how many name ids never sent (a violation). */
  receipts(ids: readonly number[]): number {
    let neverSent = 0;
    for (const id of ids) {
      const e = this.numbered.get(id);
      if (e === undefined) {
        if (id >= this.nextUnordered || id < 1) neverSent++;
        continue;
      }
      this.forget(e);
      const at = this.toWrite.indexOf(e);
      if (at !== -1) this.toWrite.splice(at, 1);
      this.done(e);
    }
    return neverSent;
  }

  /** The last unordered id below every one still awaiting its receipt: a hello's `unorderedBase`. */
  get unorderedBase(): number {
    for (const id of this.numbered.keys()) return id - 1; // given in increasing order: the first is the lowest
    return this.nextUnordered - 1;
  }

  /** A new stream: every unordered datagram not receipted is written again (the receiver drops what it has). */
  rewind(): void {
    this.toWrite = [...this.unordered];
    for (const e of this.toWrite) e.writtenAt = undefined;
  }

  /**
   * The peer restarted its session: an unordered datagram already written may have been
   * delivered to the old one, so it fails (PARTICIPANT_LEFT) rather than risk arriving twice.
   */
  peerRestarted(error: RoomError): void {
    for (const e of [...this.unordered]) {
      if (!e.complete) continue;
      this.forget(e);
      this.refuse(e, error);
    }
    this.toWrite = [...this.unordered];
  }

  /** Unordered datagrams written before `deadline` and still without a receipt: their sends reject with TIMEOUT (they stay pending). */
  sweep(deadline: number, timeoutMs: number): void {
    for (const e of this.unordered) {
      if (e.writtenAt === undefined || e.writtenAt > deadline) continue;
      this.refuse(e, new RoomError('TIMEOUT', `no receipt within ${timeoutMs} ms for an unordered message; it stays queued and may still arrive`));
    }
  }

  /** Whether unordered datagrams await their receipts (the session's sweep then runs). */
  get awaitingReceipts(): boolean {
    return this.unordered.size > 0;
  }

  /** Every datagram not yet settled rejects with `error`. */
  fail(error: RoomError): void {
    const all = [...this.latest.values(), ...this.lossy, ...this.unordered];
    this.latest.clear();
    this.lossy = [];
    this.unordered.clear();
    this.numbered.clear();
    this.unorderedBytes = 0;
    this.toWrite = [];
    for (const e of all) this.refuse(e, error);
  }

  private abort(e: Entry): void {
    if (e.settled) return;
    if (e.mode === 'unordered') {
      if (e.complete || !this.toWrite.includes(e)) return; // written: too late
      this.toWrite.splice(this.toWrite.indexOf(e), 1);
      this.forget(e); // never written: it had no id yet
    } else if (!this.unqueue(e)) return;
    this.refuse(e, abortedDatagram());
  }

  /** A lossy or latest datagram given up unwritten: its send resolves (loss is its contract), counted. */
  private drop(e: Entry): void {
    this.unqueue(e);
    this.counts.dropped++;
    this.done(e);
  }

  /** Takes a lossy or latest datagram out of its queue, if it is still there. */
  private unqueue(e: Entry): boolean {
    if (e.mode === 'latest') return this.latest.get(e.type) === e && this.latest.delete(e.type);
    const at = this.lossy.indexOf(e);
    if (at !== -1) this.lossy.splice(at, 1);
    return at !== -1;
  }

  /** An unordered datagram is no longer pending. */
  private forget(e: Entry): void {
    if (this.unordered.delete(e)) this.unorderedBytes -= size(e);
    this.numbered.delete(e.id);
  }

  /** The send resolves (once). */
  private done(e: Entry): void {
    if (e.settled) return;
    e.settled = true;
    e.release?.();
    e.resolve();
  }

  /** The send rejects with `error` (once). */
  private refuse(e: Entry, error: RoomError): void {
    if (e.settled) return;
    e.settled = true;
    e.release?.();
    e.reject(error);
  }
}

const abortedDatagram = (): RoomError => new RoomError('ABORTED', 'the send was aborted (its AbortSignal fired) before the message was written; the recipient got none of it');

/** The receiving half: which arriving datagrams are delivered. */
export class DatagramFilter {
  /** Every unordered id up to here was delivered; `ahead`, those delivered beyond it. */
  private floor = 0;
  private readonly ahead = new Set<number>();
  /** The newest latest-value id delivered per type, in order of arrival. */
  private readonly newest = new Map<string, number>();

  /** The peer's session is new: nothing of the old one's numbering applies. */
  reset(): void {
    this.floor = 0;
    this.ahead.clear();
    this.newest.clear();
  }

  /** The peer's hello: it will never send an unordered id at or below `base` again. */
  settledUpTo(base: number): void {
    if (base <= this.floor) return;
    this.floor = base;
    for (const id of this.ahead) if (id <= base) this.ahead.delete(id);
    this.absorb();
  }

  /**
   * A datagram of the peer's: the message to deliver; undefined to drop it (a resend of an
   * unordered one delivered before, or a latest value older than one delivered); or why it is
   * malformed (a violation). The stream receipts an unordered one whatever this says, so that
   * it is not sent again.
   */
  accept(record: Extract<WireRecord, { kind: 'datagram' }>, limits: PeerLimits): AssembledMessage | string | undefined {
    const header = decodeHeader(record.bytes.subarray(0, record.jsonLength));
    if (typeof header === 'string' || header.request !== undefined || header.replyTo !== undefined) {
      return `datagram ${record.mode}:${record.id}: ${typeof header === 'string' ? header : 'a request or reply may not be a datagram'}`;
    }
    const attachmentLength = record.bytes.length - record.jsonLength;
    if (record.jsonLength > limits.maxJsonBytes || attachmentLength > limits.maxAttachmentBytes) return `datagram ${record.mode}:${record.id} is over this participant's limits`;
    if (record.mode === 'unordered' ? !this.unordered(record.id) : record.mode === 'latest' && !this.latest(header.type, record.id)) return undefined;
    return {
      lane: 0,
      id: record.id,
      delivery: record.mode,
      type: header.type,
      message: header.message,
      attachment: attachmentLength > 0 ? record.bytes.slice(record.jsonLength) : undefined,
      broadcast: header.broadcast,
    };
  }

  /** An unordered datagram: true to deliver it, false for a resend of one delivered. */
  unordered(id: number): boolean {
    if (id <= this.floor || this.ahead.has(id)) return false;
    this.ahead.add(id);
    this.absorb();
    // Only a peer skipping ids can push this far: what it skipped is lost, nothing else.
    while (this.ahead.size > MAX_UNORDERED_AHEAD) {
      let lowest = Infinity;
      for (const ahead of this.ahead) lowest = Math.min(lowest, ahead);
      this.floor = lowest;
      this.ahead.delete(lowest);
      this.absorb();
    }
    return true;
  }

  /** A latest-value datagram of `type`: true unless one sent after it was delivered already. */
  latest(type: string, id: number): boolean {
    const newest = this.newest.get(type);
    if (newest !== undefined && id <= newest) return false;
    this.newest.delete(type);
    this.newest.set(type, id);
    if (this.newest.size > MAX_LATEST_TYPES) this.newest.delete(this.newest.keys().next().value as string);
    return true;
  }

  private absorb(): void {
    while (this.ahead.delete(this.floor + 1)) this.floor++;
  }
}
