/**
 * The reliable conversation with one remote participant. It outlives any one path: direct
 * links and relay streams come and go (PeerChannel each), the session keeps the numbering,
 * the messages not yet receipted and what was delivered. When a new stream's peer hello
 * arrives, the session settles what the peer says it has, and rewinds the rest onto the
 * new stream: from where the peer says it holds a message in part (hello.partial), else from
 * its first byte; the receiver drops what it already delivered (by lane and id) and receipts
 * it again. So a path switch loses, duplicates and reorders nothing, and resends little.
 * Of the peer's messages, the session keeps those held in part when their stream ended
 * (`park`) until the next stream takes them over (`openStream`).
 *
 * Each session has a random epoch. A hello names the sender's epoch and the epoch its
 * `delivered` ids refer to, so a peer that restarted its side (a new session) is told apart
 * from one that merely switched path.
 */
import { RoomError, toRoomError, type ErrorPayload } from '../../protocol/errors.js';
import type { Tunables } from '../options.js';
import { LANES, MAX_DATAGRAM_BYTES, MAX_HELLO_PARTIALS, type DatagramChannel, type DatagramMode, type Hello, type Lane, type OutgoingRecord, type PeerLimits, type WireRecord } from '../wire/codec.js';
import { DatagramFilter, Datagrams, type DatagramControl } from '../wire/datagrams.js';
import { Lanes, type OutgoingMessage } from '../wire/outbox.js';
import type { AssembledMessage, IncomingProgress, PartialMessage } from '../wire/reassembler.js';
import { every } from './ticker.js';

interface Pending {
  message: OutgoingMessage;
  resolve(): void;
  reject(error: RoomError): void;
  /** The promise was rejected (TIMEOUT, ABORTED) but the id stays pending until the peer receipts it. */
  settled: boolean;
  writtenAt: number | undefined;
  /** Its last byte was written on some stream: the peer may have it, so an abort is too late. */
  complete: boolean;
  /** Stops listening to the send's AbortSignal. */
  release: (() => void) | undefined;
}

/** What a caller may attach to one send: progress as its bytes are written, and an abort. */
export interface SendControl {
  /** Called (on a microtask, never backwards) with the bytes written so far and the message's size. */
  onProgress?: ((sentBytes: number, totalBytes: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export const abortedError = (): RoomError =>
  new RoomError('ABORTED', 'the send was aborted (its AbortSignal fired) before the message was delivered; the recipient got none of it');

/**
 * The stream the session writes through (a PeerChannel): while active it holds the session's
 * lanes and reports each message whose last byte it wrote; `kick` says there is more to send.
 */
export interface SessionWriter {
  attach(lanes: Lanes, written: (lane: Lane, id: number) => void): void;
  detach(): void;
  kick(): void;
}

/**
 * What became of a message that arrived complete: delivered now, or a resend of one delivered
 * before (either way the sender gets a receipt), or a resend of one refused before (the sender
 * gets the refusal again: its first may have been lost with the path that carried it).
 */
export type IncomingVerdict = 'delivered' | 'duplicate' | { refused: ErrorPayload };

/** Refusals remembered per lane until the peer shows it has settled them (its hello's base). */
const REMEMBERED_REFUSALS = 64;

export interface SessionEvents {
  message(message: AssembledMessage): void;
  /** More of an incoming message spanning several packets arrived. */
  progress(progress: IncomingProgress): void;
  /** The peer aborted a message it had begun sending; what had arrived is discarded. */
  aborted(progress: IncomingProgress): void;
  /** We refused one of the peer's messages (over a limit, malformed) and told it so. */
  refused(error: ErrorPayload): void;
  violation(reason: string): void;
}

const EMPTY = new Uint8Array(0);

function randomEpoch(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class PeerSession {
  readonly epoch = randomEpoch();
  private readonly nextId: [number, number] = [1, 1];
  private readonly pending: [Map<number, Pending>, Map<number, Pending>] = [new Map(), new Map()];
  private readonly lanes = new Lanes();
  /** The last id delivered (or refused) in each lane of the peer's stream. */
  private readonly delivered: [number, number] = [0, 0];
  /**
   * The peer's messages we refused, whose refusal it may not have received yet. A hello
   * claims no more than the first of them as delivered, so that the peer resends it and hears
   * the refusal again, rather than settling it as delivered from the hello.
   */
  private readonly refusedIds: [Map<number, ErrorPayload>, Map<number, ErrorPayload>] = [new Map(), new Map()];
  private peerEpoch: string | undefined;
  private active: SessionWriter | undefined;
  private queued = 0;
  /** Stops the receipt sweep (ticker.ts), while it runs. */
  private sweepTimer: (() => void) | undefined;
  private failure: RoomError | undefined;
  /** What the peer accepts, from its hello; until then, our own limits are assumed. */
  peerLimits: PeerLimits;
  /** The peer's messages held in part when their stream ended, until a new stream takes them over (openStream). */
  private parked: PartialMessage[] = [];
  /** Unordered, lossy and latest messages to the peer; `filter`, which of the peer's are delivered. */
  readonly datagrams = new Datagrams();
  private readonly filter = new DatagramFilter();

  constructor(private readonly tunables: Tunables, private readonly events: SessionEvents) {
    this.peerLimits = { maxJsonBytes: tunables.maxJsonBytes, maxAttachmentBytes: tunables.maxAttachmentBytes };
  }

  /**
   * A new stream of ours opens: its hello, and the peer's messages held in part from streams that
   * ended, which the stream's reassembler takes over (the hello names them, so the peer resumes them).
   */
  openStream(): { hello: Hello; partial: PartialMessage[] } {
    const partial = this.parked;
    this.parked = [];
    const hello = this.hello();
    const resumable = partial.filter((p) => p.id > this.delivered[p.lane]);
    if (resumable.length > 0) hello.partial = resumable.slice(0, MAX_HELLO_PARTIALS).map((p) => [p.lane, p.id, p.received]);
    return { hello, partial: resumable };
  }

  /** A stream ended holding these of the peer's messages in part: kept for the next stream (bounded by maxPendingBytes). */
  park(partial: readonly PartialMessage[]): void {
    for (const p of partial) {
      const at = this.parked.findIndex((q) => q.lane === p.lane && q.id === p.id);
      if (at !== -1 && (this.parked[at]?.received ?? 0) >= p.received) continue;
      if (at !== -1) this.parked.splice(at, 1);
      this.parked.push(p);
    }
    let bytes = this.parked.reduce((sum, p) => sum + p.bytes, 0);
    while (bytes > this.tunables.maxPendingBytes && this.parked.length > 0) bytes -= this.parked.shift()?.bytes ?? 0;
  }

  /** The hello a new stream of ours opens with. */
  hello(): Hello {
    return {
      limits: { maxJsonBytes: this.tunables.maxJsonBytes, maxAttachmentBytes: this.tunables.maxAttachmentBytes },
      delivered: [this.claimed(0), this.claimed(1)],
      epoch: this.epoch,
      peerEpoch: this.peerEpoch ?? '',
      base: [this.base(0), this.base(1)],
      ...(this.datagrams.unorderedBase > 0 ? { unorderedBase: this.datagrams.unorderedBase } : {}),
    };
  }

  /** What a hello says was delivered in `lane`: up to the first refusal the peer may not know of. */
  private claimed(lane: Lane): number {
    for (const id of this.refusedIds[lane].keys()) return Math.min(this.delivered[lane], id - 1);
    return this.delivered[lane];
  }

  /**
   * Whether a bulk (lane 1) message is under way: some of its bytes written and its receipt not
   * in. A stream moves the lane to its bulk channel only when none is, so that no message of
   * the lane is split across two channels (which do not keep order between them).
   */
  get bulkInFlight(): boolean {
    for (const p of this.pending[1].values()) if (p.complete) return true;
    return this.lanes.started(1);
  }

  /** Bytes held for the peer's messages begun on streams that ended. */
  get parkedBytes(): number {
    return this.parked.reduce((sum, p) => sum + p.bytes, 0);
  }

  /** Whether `epoch` is the peer's session as we know it (or we know none yet). */
  knowsEpoch(epoch: string): boolean {
    return this.peerEpoch === undefined || this.peerEpoch === epoch;
  }

  /** Bytes of messages waiting for their receipts. */
  get queuedBytes(): number {
    return this.queued + this.datagrams.unreceiptedBytes;
  }

  /**
   * Sends a datagram (an unordered, lossy or latest message: docs/protocol.md, "Delivery modes").
   * An unordered one resolves on its receipt; a lossy or latest one once written to the path,
   * dropped (the lossy queue overflowed) or superseded (a newer latest value of its type).
   */
  sendDatagram(mode: DatagramMode, type: string, header: Uint8Array, attachment: Uint8Array, control: DatagramControl = {}): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const size = header.length + attachment.length;
    if (size > MAX_DATAGRAM_BYTES) {
      return Promise.reject(new RoomError('MESSAGE_TOO_LARGE', `a ${mode} message carries at most ${MAX_DATAGRAM_BYTES} bytes of JSON and attachment together (one packet); this one has ${size}: send it reliable`));
    }
    const refusal = this.refusal(header, attachment, mode === 'unordered');
    if (refusal !== undefined) return Promise.reject(refusal);
    const sent = this.datagrams.add(mode, type, header, attachment, control);
    this.active?.kick();
    return sent;
  }

  /**
   * Why a message cannot be taken: it is over what the recipient accepts, or (`awaitsReceipt`)
   * the bytes already waiting for this recipient's receipts, reliable and unordered alike, would
   * pass maxQueuedBytes with it.
   */
  private refusal(header: Uint8Array, attachment: Uint8Array, awaitsReceipt: boolean): RoomError | undefined {
    const { maxJsonBytes, maxAttachmentBytes } = this.peerLimits;
    if (header.length > maxJsonBytes || attachment.length > maxAttachmentBytes) {
      return new RoomError(
        'MESSAGE_TOO_LARGE',
        `the recipient accepts at most ${maxJsonBytes} bytes of JSON and ${maxAttachmentBytes} bytes of attachment; this message has ${header.length} and ${attachment.length}`,
      );
    }
    const queued = this.queuedBytes;
    if (awaitsReceipt && queued > 0 && queued + header.length + attachment.length > this.tunables.maxQueuedBytes) {
      return new RoomError('QUEUE_FULL', `${queued} bytes already wait for this recipient's receipts (maxQueuedBytes ${this.tunables.maxQueuedBytes}); await earlier sends before sending more`);
    }
    return undefined;
  }

  /** Datagram records for one packet of the active stream (those of `channel` only, when given); returns the room left. */
  fillDatagrams(records: OutgoingRecord[], room: number, maxRoom: number, channel?: DatagramChannel): number {
    const left = this.datagrams.fill(records, room, maxRoom, Date.now(), channel);
    if (this.datagrams.awaitingReceipts) this.startSweep();
    return left;
  }

  /**
   * A datagram of the peer's arrived: delivered unless it is a resend of an unordered one
   * delivered before, or a latest value older than one delivered. An unordered one is receipted
   * either way (the stream does it), a malformed one too (so that it is not resent), after a violation.
   */
  incomingDatagram(record: Extract<WireRecord, { kind: 'datagram' }>): void {
    const verdict = this.filter.accept(record, this.tunables);
    if (typeof verdict === 'string') this.events.violation(verdict);
    else if (verdict !== undefined) this.events.message(verdict);
  }

  /** Receipts for our unordered datagrams. */
  datagramReceipts(ids: readonly number[]): void {
    const neverSent = this.datagrams.receipts(ids);
    if (neverSent > 0) this.events.violation(`receipts for ${neverSent} unordered message(s) never sent`);
  }

  send(header: Uint8Array, attachment: Uint8Array, control: SendControl = {}): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const { signal, onProgress } = control;
    if (signal?.aborted === true) return Promise.reject(abortedError());
    const refusal = this.refusal(header, attachment, true);
    if (refusal !== undefined) return Promise.reject(refusal);
    const size = header.length + attachment.length;
    const lane: Lane = size > this.tunables.bulkThresholdBytes ? 1 : 0;
    const id = this.nextId[lane]++;
    const message: OutgoingMessage = { lane, id, header, attachment };
    if (onProgress !== undefined) {
      let reported = 0;
      // Never backwards: after a path switch the message may be written again from its start (a peer that does not resume it).
      message.progress = (written) => {
        if (written <= reported) return;
        reported = written;
        queueMicrotask(() => onProgress(written, size));
      };
    }
    this.queued += size;
    return new Promise<void>((resolve, reject) => {
      const p: Pending = { message, resolve, reject, settled: false, writtenAt: undefined, complete: false, release: undefined };
      if (signal !== undefined) {
        const onAbort = (): void => this.abort(lane, id);
        signal.addEventListener('abort', onAbort, { once: true });
        p.release = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending[lane].set(id, p);
      if (this.active !== undefined) {
        this.lanes.enqueue(message);
        this.active.kick();
      }
    });
  }

  /**
   * The caller aborted message `lane:id`. Before its last byte was written, nothing more of it
   * is sent, its bytes are released, the send rejects with ABORTED, and a cancel record takes
   * its place so that the peer discards what it holds. After, the peer may already have it:
   * the abort is too late and the send settles as it would have.
   */
  private abort(lane: Lane, id: number): void {
    const p = this.pending[lane].get(id);
    if (p === undefined || p.settled || p.complete) return;
    this.cancel(p, abortedError());
    this.active?.kick();
  }

  /** Rejects `p`'s send with `error`; it stays pending as a cancel record (no bytes) until the peer receipts it, so a rewind resends the cancel. */
  private cancel(p: Pending, error: RoomError): void {
    const { lane, id } = p.message;
    p.settled = true;
    p.release?.();
    this.queued -= p.message.header.length + p.message.attachment.length;
    p.message = { lane, id, header: EMPTY, attachment: EMPTY, cancelled: true };
    this.lanes.abort(lane, id);
    p.reject(error);
  }

  /**
   * The peer's hello arrived on `channel`: it becomes the stream messages are written to.
   * What the peer has delivered is settled; everything else is written again, from where the
   * peer holds it in part (its hello's `partial`) or from its start.
   */
  activate(writer: SessionWriter, hello: Hello): void {
    if (this.failure !== undefined) return;
    this.peerLimits = hello.limits;
    if (this.peerEpoch !== hello.epoch) {
      if (this.peerEpoch !== undefined) {
        this.events.violation(`the peer restarted its session (epoch ${this.peerEpoch} → ${hello.epoch})`);
        // It gave us up and forgot what it delivered. A message whose last byte reached its old
        // session may have been delivered there: sent again, it could arrive twice. It fails
        // instead (the app decides), and a cancel takes its place; what never got that far is sent.
        for (const lane of LANES) {
          for (const p of this.pending[lane].values()) {
            if (p.complete && p.message.cancelled !== true) {
              this.cancel(p, new RoomError('PARTICIPANT_LEFT', 'the recipient restarted its side of the link (it had given this participant up) before confirming this message, which may or may not have been delivered'));
            }
          }
        }
      }
      if (this.peerEpoch !== undefined) {
        this.datagrams.peerRestarted(new RoomError('PARTICIPANT_LEFT', 'the recipient restarted its side of the link (it had given this participant up) before confirming this unordered message, which may or may not have been delivered'));
      }
      this.filter.reset();
      this.peerEpoch = hello.epoch;
      for (const lane of LANES) this.refusedIds[lane].clear(); // a new peer session numbers afresh
      this.parked = [];
      this.delivered[0] = hello.base[0];
      this.delivered[1] = hello.base[1];
    } else {
      for (const lane of LANES) this.delivered[lane] = Math.max(this.delivered[lane], hello.base[lane]);
    }
    // The peer has settled everything at or below its base: those refusals reached it.
    for (const lane of LANES) for (const id of [...this.refusedIds[lane].keys()]) if (id <= hello.base[lane]) this.refusedIds[lane].delete(id);
    if (hello.peerEpoch === this.epoch) {
      for (const lane of LANES) for (const [id] of this.pending[lane]) if (id <= hello.delivered[lane]) this.settle(lane, id);
    }
    if (this.active !== writer) this.active?.detach();
    this.active = writer;
    writer.attach(this.lanes, (lane, id) => this.written(lane, id));
    // What the peer holds in part from a stream that ended (its hello says), it gets from there on.
    const resumeAt = new Map<string, number>();
    if (hello.peerEpoch === this.epoch) for (const [lane, id, held] of hello.partial ?? []) resumeAt.set(`${lane}:${id}`, held);
    const unsent: Array<OutgoingMessage & { from?: number }> = [];
    for (const lane of LANES) {
      for (const p of this.pending[lane].values()) {
        p.writtenAt = undefined;
        const held = resumeAt.get(`${lane}:${p.message.id}`);
        const total = p.message.header.length + p.message.attachment.length;
        unsent.push(held !== undefined && p.message.cancelled !== true && held < total ? { ...p.message, from: held } : p.message);
      }
    }
    this.lanes.rewind(unsent);
    this.filter.settledUpTo(hello.unorderedBase ?? 0);
    this.datagrams.rewind();
    writer.kick();
  }

  /** `writer` is gone: messages wait for the next stream. */
  /** Whether messages are written to `writer` now. */
  writesTo(writer: SessionWriter): boolean {
    return this.active === writer;
  }

  deactivate(writer: SessionWriter): void {
    if (this.active !== writer) return;
    this.active = undefined;
    writer.detach();
  }

  /** A message arrived complete on some stream: delivered once, in order within its lane. The stream receipts it either way. */
  incoming(message: AssembledMessage): IncomingVerdict {
    const { lane, id } = message;
    const last = this.delivered[lane];
    const refused = this.refusedIds[lane].get(id);
    if (refused !== undefined) return { refused };
    if (id <= last) return 'duplicate'; // a resend of something delivered
    // An honest sender never skips an id; one that does loses the ids it skipped, nothing else.
    if (id !== last + 1) this.events.violation(`message ${lane}:${id} skips ahead of ${last}`);
    this.delivered[lane] = id;
    this.events.message(message);
    return 'delivered';
  }

  /** More of the peer's message arrived; a resend of one delivered before is not news. */
  incomingProgress(progress: IncomingProgress): void {
    if (progress.id > this.delivered[progress.lane]) this.events.progress(progress);
  }

  /** The peer cancelled message `id` (it aborted the send): it counts as handled, and nothing is delivered. */
  cancelledIncoming(lane: Lane, id: number, progress: IncomingProgress | undefined): void {
    const last = this.delivered[lane];
    if (id <= last) return; // a cancel resent on a new stream
    if (id !== last + 1) this.events.violation(`cancel of ${lane}:${id} skips ahead of ${last}`);
    this.delivered[lane] = id;
    if (progress !== undefined) this.events.aborted(progress);
  }

  /** We refused the peer's message `id`: it counts as handled (the stream tells the peer). */
  refusedIncoming(lane: Lane, id: number, error: ErrorPayload): void {
    const last = this.delivered[lane];
    if (id > last + 1) this.events.violation(`refused message ${lane}:${id} skips ahead of ${last}`);
    this.delivered[lane] = Math.max(last, id);
    const refusals = this.refusedIds[lane];
    if (refusals.has(id)) return; // its resend, refused again: told once
    refusals.set(id, error);
    if (refusals.size > REMEMBERED_REFUSALS) refusals.delete(refusals.keys().next().value as number);
    this.events.refused(error);
  }

  /** A receipts record: each id settled; ids never sent are one violation for the record, however many. */
  receipts(lane: Lane, ids: readonly number[]): void {
    let neverSent = 0;
    for (const id of ids) if (!this.settle(lane, id) && this.neverSent(lane, id)) neverSent++;
    if (neverSent > 0) this.events.violation(`receipts for ${neverSent} message(s) in lane ${lane} never sent`);
  }

  rejected(lane: Lane, id: number, error: ErrorPayload): void {
    this.lanes.cancel(lane, id);
    const p = this.take(lane, id);
    if (p === undefined) {
      if (this.neverSent(lane, id)) this.events.violation(`reject for message ${lane}:${id}, which was never sent`);
      return;
    }
    if (!p.settled) p.reject(toRoomError(error));
  }

  /** The message's last byte was handed to the current stream: its receipt is now awaited. */
  private written(lane: Lane, id: number): void {
    const p = this.pending[lane].get(id);
    if (p === undefined) return;
    p.writtenAt = Date.now();
    p.complete = true;
    this.startSweep();
  }

  private startSweep(): void {
    if (this.sweepTimer !== undefined || this.failure !== undefined) return;
    this.sweepTimer = every(Math.max(10, Math.min(1000, this.tunables.receiptTimeoutMs / 4)), false, () => this.sweep());
  }

  private stopSweep(): void {
    this.sweepTimer?.();
    this.sweepTimer = undefined;
  }

  /** Nothing, reliable or unordered, waits for a receipt any more: the sweep stops until the next send. */
  private stopSweepWhenSettled(): void {
    if (this.pending[0].size + this.pending[1].size === 0 && !this.datagrams.awaitingReceipts) this.stopSweep();
  }

  /** Ends the session: every message not yet receipted rejects with `error`. Idempotent. */
  fail(error: RoomError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.parked = [];
    this.active?.detach();
    this.active = undefined;
    this.stopSweep();
    this.lanes.rewind([]);
    this.datagrams.fail(error);
    for (const lane of LANES) {
      const pending = [...this.pending[lane].values()];
      this.pending[lane].clear();
      for (const p of pending) {
        p.release?.();
        if (!p.settled) p.reject(error);
      }
    }
    this.queued = 0;
  }

  /** Every id at or below this is settled in `lane`: never sent again. */
  private base(lane: Lane): number {
    for (const id of this.pending[lane].keys()) return id - 1;
    return this.nextId[lane] - 1;
  }

  private take(lane: Lane, id: number): Pending | undefined {
    const p = this.pending[lane].get(id);
    if (p === undefined) return undefined;
    this.pending[lane].delete(id);
    this.queued -= p.message.header.length + p.message.attachment.length;
    p.release?.();
    this.stopSweepWhenSettled();
    return p;
  }

  /**
   * A message whose receipt is late rejects with TIMEOUT. It stays queued, so if the peer
   * is merely slow it still arrives, once and in order; the caller just stops waiting.
   */
  private sweep(): void {
    const deadline = Date.now() - this.tunables.receiptTimeoutMs;
    for (const lane of LANES) {
      for (const p of this.pending[lane].values()) {
        if (p.settled || p.writtenAt === undefined || p.writtenAt > deadline) continue;
        p.settled = true;
        p.reject(new RoomError('TIMEOUT', `no receipt within ${this.tunables.receiptTimeoutMs} ms; the recipient may be overloaded (the message stays queued and may still arrive)`));
      }
    }
    this.datagrams.sweep(deadline, this.tunables.receiptTimeoutMs);
    this.stopSweepWhenSettled();
  }

  /** Message `id` was delivered: its send resolves. False if it was not pending (settled before, or never sent). */
  private settle(lane: Lane, id: number): boolean {
    const p = this.take(lane, id);
    if (p === undefined) return false;
    if (!p.settled) p.resolve();
    return true;
  }

  /** A receipt or reject for an id not pending is fine if it was settled before, hostile if it was never sent. */
  private neverSent(lane: Lane, id: number): boolean {
    return id >= this.nextId[lane] || id < 1;
  }
}
