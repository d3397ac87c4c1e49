/**
 * One stream to one remote participant, over a direct link or the relay: framing,
 * pacing, reassembly and liveness. It opens with a hello and, once the session makes it
 * the active stream, writes the session's messages; what it receives goes to the session,
 * which delivers, deduplicates and settles.
 *
 * A direct link's stream may gain a bulk channel (`attachBulk`): bulk messages (lane 1) then
 * go there, paced on their own, and control records and small messages never wait behind
 * them. The lane moves only while none of its messages is under way, and bulk packets that
 * arrive before the peer's hello wait for it (the two channels keep no order between them).
 *
 * It may gain datagram channels too (`attachDatagrams`): unordered messages on one, lossy and
 * latest ones on the other, each paced on its own with small marks (a latest value waits in the
 * session, where a newer one can replace it, rather than in a channel's buffer). Without them,
 * datagrams go first in the stream's own packets, after control records.
 */
import type { ErrorPayload } from '../../protocol/errors.js';
import type { Tunables } from '../options.js';
import type { PeerSession, SessionWriter } from './session.js';
import { MAX_PACKET_BYTES, PACKET_HEADER_BYTES, channelOf, decodePacket, encodePacket, type DatagramChannel, type Hello, type Lane, type OutgoingRecord, type WireRecord } from '../wire/codec.js';
import { Outbox, type Lanes } from '../wire/outbox.js';
import { Pacer, type PacerSink } from '../wire/pacer.js';
import { Reassembler } from '../wire/reassembler.js';
import { noteStarved } from './starvation.js';
import { every } from './ticker.js';
import type { ChannelBinding } from '../trust/binding.js';
import type { StreamAuth } from '../trust/trust.js';

export interface ChannelTransport {
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  readonly maxMessageSize: number | undefined;
  /** Pacing marks for this transport, when it needs tighter ones than the tunables'. */
  readonly waterMarks?: { high: number; low: number };
  send(packet: Uint8Array): void;
  /** Where the transport has a drain event (a browser's data channel): see PacerSink.whenDrained. */
  whenDrained?(low: number, drained: () => void): (() => void) | undefined;
}

export interface ChannelHandlers {
  /** The peer's hello arrived on `channel` (and, with a binding, proved it): the stream is ready for messages. */
  hello(hello: Hello, channel: PeerChannel): void;
  /** The peer said goodbye; `answer`: it answers ours (it stays, and leaves the link for us to close). */
  bye(answer: boolean): void;
  /**
   * Nothing arrived for the liveness period (`livenessMs`), told once per silence. The stream
   * stays open (its heartbeats go on) until closed: if it hears again, `revived` says so.
   */
  silent(): void;
  /** Nothing arrived for half the liveness period, told once per silence: time to check the path (and the service). */
  quiet?(): void;
  /** The stream heard again after `silent`. */
  revived?(): void;
  /** The peer broke the protocol beyond what can be dropped; the stream must close. */
  broken(reason: string): void;
  /** The peer did not prove that this stream ends at its identity key (trust/binding.ts); the stream must close. */
  unauthenticated(reason: string): void;
  violation(reason: string): void;
}

/** Used when the implementation does not report the negotiated size: safe in every browser. */
const FALLBACK_MAX_MESSAGE_BYTES = 65_536;

/** How often an idle stream's heartbeat is a probe, whose pong gives a round-trip sample. */
const RTT_SAMPLE_MS = 5_000;

/** Bulk- and datagram-channel bytes held until the peer's hello arrives on the control channel; past this the stream breaks. */
const MAX_EARLY_BULK_BYTES = 8 * 1024 * 1024;

/**
 * A datagram channel's pacing marks: a few packets at most wait in its buffer, so that a latest
 * value is replaced in the session rather than queued stale behind older ones.
 */
export const DATAGRAM_WATER_MARKS = { high: 4 * 1024, low: 1024 } as const;

/**
 * The bulk channel's pacing: 64 KiB packets, at most 256 KiB buffered. libwebrtc's SCTP send
 * buffer is 256 KiB for the whole association; past it, every channel's sends wait in the
 * channel and are retried in the order the channels were made, and a message being sent holds
 * the others until its last fragment is out (no I-DATA). With the bulk channel buffering 2 MiB
 * in 256 KiB packets, cursors on the datagram channel beside a 64 MiB attachment were p99
 * 0.6-1.5 s old; with these marks, 38-47 ms, the attachment as fast (bench:cursors, 2026-12-07).
 */
export const BULK_PACING = { high: 256 * 1024, low: 64 * 1024, packetBytes: 64 * 1024 } as const;

export interface ChannelOptions {
  /** This stream can take a bulk channel (a direct link): the hello says so. */
  bulk?: boolean;
  /** This stream's link can restart ICE (a direct link on a stack that does): the hello says so. */
  restart?: boolean;
  /** This stream can take datagram channels (a direct link): the hello says so. */
  datagrams?: boolean;
  /** Its heartbeat ticks on an interval of its own rather than with the process's others (rtc.ts, sharesTicks). */
  ownTicks?: boolean;
  /**
   * The stream's binding (trust/binding.ts): the hello carries its nonce and key, the peer's hello
   * is answered with an auth record, and the stream is ready only once the peer's auth record
   * checks out. Every stream a Peer opens has one; only unit tests make streams without.
   */
  auth?: { stream: StreamAuth; binding: () => ChannelBinding | string };
}

/** How long a peer may take to send its auth record after its hello, before it counts as refusing to authenticate. */
export const AUTH_TIMEOUT_MS = 10_000;
/** A direct attempt whose time is up refuses a peer whose proof is still missing this long after its hello; a later hello is a slow path, retried. */
export const PROOF_GRACE_MS = 2_000;

/**
 * Past these, a stream's peer is not merely buggy: the stream closes (`broken`). Dropped
 * frames are cheap, but each costs a log line and some work; a message begun and then
 * abandoned or refused for want of memory may have made us allocate its whole size.
 */
export const STREAM_BOUNDS = { violations: 256, abandonedMessages: 16 } as const;

/** What a stream takes before it is ready: the peer's hello and proof, and heartbeats. */
const UNREADY_RECORDS: ReadonlySet<WireRecord['kind']> = new Set(['hello', 'auth', 'ping', 'probe', 'pong']);

export class PeerChannel implements SessionWriter {
  /** The session's lanes while this is its active stream (attach/detach), and where written messages are reported. */
  private lanes: Lanes | undefined;
  private onWritten: (lane: Lane, id: number) => void = () => {};
  private readonly outbox = new Outbox();
  private readonly reassembler: Reassembler;
  private readonly pacer: Pacer;
  /** Stops the heartbeat (ticker.ts: shared with every stream of this period). */
  private readonly stopHeartbeat: () => void;
  private lastHeard = Date.now();
  /** Where the current silence stands: told `quiet`, then `silent` (reset by any packet). */
  private silence: 'none' | 'quiet' | 'silent' = 'none';
  private closed = false;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Waiting for a pong: every probe is sent after the stream's hello, so any pong proves the hello was handled. */
  private readonly pongWaiters = new Set<(confirmed: boolean) => void>();
  /** Frames and records dropped because they broke the protocol. */
  private violations = 0;
  private abandoned = 0;
  private helloSeen = false;
  /** The peer's hello, held until its auth record proves the stream (when the stream has a binding). */
  private peerHello: Hello | undefined;
  /** When the peer's hello came (its proof is due within AUTH_TIMEOUT_MS). */
  private helloAt = 0;
  /** The stream is ready: the peer's hello is in and, when it has a binding, proved. */
  private ready = false;
  private authTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly auth: ChannelOptions['auth'];
  /** Round trips measured by heartbeat probes (RFC 6298's smoothing): liveness and probe timeouts follow them. */
  private srtt: number | undefined;
  private rttvar = 0;
  /** When the heartbeat's last probe left (its pong gives a round trip). */
  private heartbeatProbeAt: number | undefined;
  private readonly tunables: Tunables;
  /** The bulk channel's own outbox and pacer, once attached; `bulkLane`: lane 1 goes there now. */
  private bulk: { outbox: Outbox; pacer: Pacer } | undefined;
  private bulkLane = false;
  /** Datagram channels attached, each with its pacer. */
  private readonly datagramPacers = new Map<DatagramChannel, Pacer>();
  /** Bulk and datagram packets that came before the peer's hello, with the channel each came on. */
  private earlyBulk: Array<[DatagramChannel | 'bulk', Uint8Array]> = [];
  private earlyBulkBytes = 0;

  /** Starts the stream; its first packet is a hello. */
  constructor(
    private readonly transport: ChannelTransport,
    private readonly session: PeerSession,
    tunables: Tunables,
    private readonly handlers: ChannelHandlers,
    options: ChannelOptions = {},
  ) {
    this.tunables = tunables;
    this.reassembler = new Reassembler(tunables);
    const { hello, partial } = session.openStream();
    this.reassembler.adopt(partial);
    if (options.bulk === true) hello.bulk = true;
    if (options.restart === true) hello.restart = true;
    if (options.datagrams === true) hello.datagrams = true;
    this.auth = options.auth;
    if (this.auth !== undefined) Object.assign(hello, this.auth.stream.hello());
    this.outbox.addHello(hello);
    this.pacer = this.pace(transport, (max) =>
      this.outbox.nextPacket(max, this.lanes, this.onWritten, this.bulkLane ? 0 : undefined, this.lanes === undefined ? undefined : (records, room) => this.sharedDatagrams(records, room, max)),
    );
    this.pacer.kick();
    // Any packet proves the peer alive; an idle stream probes, and the pong measures the round
    // trip. Checking twice per interval bounds detection at the liveness timeout (livenessTimeoutMs,
    // or more on a slow or lossy path: livenessMs) + heartbeatIntervalMs / 2. Time is elapsed
    // time, not ticks: a background tab's timers run late. A tick that comes far too late means
    // this process was starved (a blocked event loop, an overloaded machine, a throttled tab):
    // the peer's packets may be waiting unread, so it gets a fresh window rather than the blame.
    const period = tunables.heartbeatIntervalMs / 2;
    let lastTick = Date.now();
    let lastBeat = lastTick;
    let lastProbe = lastTick - RTT_SAMPLE_MS; // the first heartbeat probes
    this.stopHeartbeat = every(period, options.ownTicks === true, (now) => {
      if (now - lastTick > period + tunables.livenessTimeoutMs / 2) {
        this.lastHeard = now;
        noteStarved(now);
        lastTick = now;
        // Nothing is sent on this tick: the events queued while the process stood still (a channel
        // closed under it) go first. @roamhq/wrtc crashed (SIGSEGV in RTCDataChannel::Send) when a
        // heartbeat went out on a channel the peer had closed meanwhile.
        return;
      }
      lastTick = now;
      const unheard = now - this.lastHeard;
      if (unheard > this.livenessMs / 2 && this.silence === 'none') {
        this.silence = 'quiet';
        // A pong to a probe sent before or during a silence, arriving after it, measures the silence, not the path.
        this.heartbeatProbeAt = undefined;
        handlers.quiet?.();
      }
      if (unheard > this.livenessMs && this.silence !== 'silent') {
        this.silence = 'silent';
        handlers.silent();
      }
      if (this.closed) return; // a silent stream that stays open keeps its heartbeat: it is how the peer hears it again
      if (now - lastBeat >= tunables.heartbeatIntervalMs && this.outbox.isEmpty && (this.lanes?.isEmpty ?? true)) {
        lastBeat = now;
        // A probe (its pong measures the round trip) every RTT_SAMPLE_MS, a ping otherwise: an idle
        // link's heartbeat stays one small packet a second each way.
        if (this.heartbeatProbeAt === undefined && now - lastProbe >= RTT_SAMPLE_MS && this.silence === 'none') {
          lastProbe = now;
          this.heartbeatProbeAt = now;
          this.outbox.addProbe();
        } else this.outbox.addPing();
        this.pacer.kick();
      }
    });
    this.livenessFloorMs = tunables.livenessTimeoutMs;
  }

  private readonly livenessFloorMs: number;

  /** A pacer writing `next` packets to `transport`. */
  private pace(transport: ChannelTransport, next: (max: number) => Uint8Array | null, marks = transport.waterMarks): Pacer {
    const { tunables } = this;
    const sink: PacerSink = {
      get isOpen() {
        return transport.isOpen;
      },
      get bufferedAmount() {
        return transport.bufferedAmount;
      },
      maxPacketBytes: Math.max(1024, Math.min(tunables.maxPacketBytes, transport.maxMessageSize ?? FALLBACK_MAX_MESSAGE_BYTES, MAX_PACKET_BYTES)),
      send: (packet) => transport.send(packet),
      whenDrained: (low, drained) => transport.whenDrained?.(low, drained),
    };
    return new Pacer(sink, { nextPacket: next }, {
      highWaterMark: marks?.high ?? tunables.highWaterMarkBytes,
      lowWaterMark: marks?.low ?? tunables.lowWaterMarkBytes,
      pollIntervalMs: tunables.pollIntervalMs,
    });
  }

  /** The link's bulk channel opened: bulk messages go there from the next one not already under way. */
  attachBulk(transport: ChannelTransport): void {
    if (this.closed || this.bulk !== undefined) return;
    const outbox = new Outbox();
    this.bulk = { outbox, pacer: this.pace(transport, (max) => (this.bulkLane ? outbox.nextPacket(Math.min(max, BULK_PACING.packetBytes), this.lanes, this.onWritten, 1) : null), BULK_PACING) };
    this.moveBulkLane();
  }

  /** Datagrams of the channels not attached go in the stream's own packets. */
  private sharedDatagrams(records: OutgoingRecord[], room: number, max: number): number {
    const own = this.datagramPacers;
    if (own.size === 2) return room;
    const channel = own.has('lossy') ? 'unordered' : own.has('unordered') ? 'lossy' : undefined;
    return this.session.fillDatagrams(records, room, max - PACKET_HEADER_BYTES, channel);
  }

  /** A datagram channel of the link opened: the datagrams it is for go there from now on. */
  attachDatagrams(channel: DatagramChannel, transport: ChannelTransport): void {
    if (this.closed || this.datagramPacers.has(channel)) return;
    const pacer = this.pace(transport, (max) => {
      if (this.lanes === undefined) return null;
      const records: OutgoingRecord[] = [];
      this.session.fillDatagrams(records, max - PACKET_HEADER_BYTES, max - PACKET_HEADER_BYTES, channel);
      return records.length === 0 ? null : encodePacket(records);
    }, DATAGRAM_WATER_MARKS);
    this.datagramPacers.set(channel, pacer);
    pacer.kick();
  }

  /** A packet on a datagram channel: datagram records of that channel's modes only. */
  receiveDatagrams(channel: DatagramChannel, packet: Uint8Array): void {
    if (this.closed) return;
    this.heard();
    if (!this.ready) return this.holdEarly(channel, packet);
    const decoded = decodePacket(packet);
    if (!decoded.ok) return this.violation(decoded.reason);
    if (decoded.records.some((r) => r.kind !== 'datagram' || channelOf(r.mode) !== channel)) {
      return this.violation(`a record other than a ${channel} datagram on the ${channel} channel`);
    }
    this.handle(decoded.records);
  }

  private holdEarly(channel: DatagramChannel | 'bulk', packet: Uint8Array): void {
    this.earlyBulkBytes += packet.length;
    if (this.earlyBulkBytes > MAX_EARLY_BULK_BYTES) return this.break(`more than ${MAX_EARLY_BULK_BYTES} bytes on the bulk and datagram channels before the stream was ready`);
    this.earlyBulk.push([channel, packet.slice()]);
  }

  private moveBulkLane(): void {
    if (this.bulk === undefined || this.bulkLane || this.session.bulkInFlight) return;
    this.bulkLane = true;
    this.bulk.pacer.kick();
  }

  /** A packet on the bulk channel: lane 1's head, chunk and cancel records only. */
  receiveBulk(packet: Uint8Array): void {
    if (this.closed) return;
    this.heard();
    if (!this.ready) return this.holdEarly('bulk', packet);
    const decoded = decodePacket(packet);
    if (!decoded.ok) return this.violation(decoded.reason);
    if (decoded.records.some((r) => !((r.kind === 'head' || r.kind === 'chunk' || r.kind === 'cancel') && r.lane === 1))) {
      return this.violation('a record other than a bulk message on the bulk channel');
    }
    this.handle(decoded.records);
  }
  /** A retransmission timeout from the measured round trips (srtt + 4 rttvar), once there are any. */
  get rtoMs(): number | undefined {
    return this.srtt === undefined ? undefined : this.srtt + 4 * this.rttvar;
  }

  /**
   * How long the stream may hear nothing before it counts as dead: livenessTimeoutMs, or three
   * retransmission timeouts where the path is that slow (a satellite hop, a lossy or bloated link).
   */
  get livenessMs(): number {
    const rto = this.rtoMs;
    return rto === undefined ? this.livenessFloorMs : Math.max(this.livenessFloorMs, 3 * rto);
  }

  /** The session makes this its active stream: messages are now written from `lanes`. */
  attach(lanes: Lanes, written: (lane: Lane, id: number) => void): void {
    this.lanes = lanes;
    this.onWritten = written;
  }

  detach(): void {
    this.lanes = undefined;
    this.onWritten = () => {};
  }

  /** There is something new to send. */
  kick(): void {
    if (this.closed) return;
    this.moveBulkLane();
    this.pacer.kick();
    this.bulk?.pacer.kick();
    for (const pacer of this.datagramPacers.values()) pacer.kick();
  }

  receipt(lane: Lane, id: number): void {
    this.outbox.addReceipt(lane, id);
    this.kick();
  }

  reject(lane: Lane, id: number, error: ErrorPayload): void {
    this.outbox.addReject(lane, id, error);
    this.kick();
  }

  /**
   * Asks the peer to answer at once; `answer(alive)` is told whether anything arrived
   * within `timeoutMs`. Used when the service says the peer's connection dropped.
   */
  probe(timeoutMs: number, answer: (alive: boolean) => void): void {
    if (this.closed) return answer(false);
    const asked = Date.now();
    this.outbox.addProbe();
    this.kick();
    clearTimeout(this.probeTimer);
    const check = (): void => {
      this.probeTimer = undefined;
      if (this.closed) return answer(false);
      if (this.lastHeard > asked) return answer(true);
      if (Date.now() - asked >= timeoutMs) return answer(false);
      this.probeTimer = setTimeout(check, 20);
    };
    this.probeTimer = setTimeout(check, 20);
  }

  /**
   * Calls `done(true)` once the peer has handled everything sent on this stream so far (its
   * answer to a probe sent now comes back: the stream is ordered), or `done(false)` after
   * `timeoutMs`. A responder uses it to know its hello, and so its place in the peer's
   * presence, has arrived.
   */
  confirm(timeoutMs: number, done: (confirmed: boolean) => void): void {
    if (this.closed) return done(false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (confirmed: boolean): void => {
      if (!this.pongWaiters.delete(finish)) return;
      clearTimeout(timer);
      done(confirmed);
    };
    this.pongWaiters.add(finish);
    timer = setTimeout(() => finish(false), timeoutMs);
    this.outbox.addProbe();
    this.kick();
  }

  receive(packet: Uint8Array): void {
    if (this.closed) return;
    this.heard();
    const decoded = decodePacket(packet);
    if (!decoded.ok) return this.violation(decoded.reason);
    if (decoded.unknownRecords > 0) this.violation(`${decoded.unknownRecords} record(s) of unknown kind skipped`);
    this.handle(decoded.records);
    if (this.ready && this.earlyBulk.length > 0) {
      const early = this.earlyBulk.splice(0);
      this.earlyBulkBytes = 0;
      for (const [channel, held] of early) {
        if (channel === 'bulk') this.receiveBulk(held);
        else this.receiveDatagrams(channel, held);
      }
    }
  }

  private handle(records: readonly WireRecord[]): void {
    for (const record of records) {
      if (this.closed) return;
      // Until the stream is ready (the peer's hello in and proved), only its hello, its proof and heartbeats count.
      if (!this.ready && !UNREADY_RECORDS.has(record.kind)) {
        this.violation(`a ${record.kind} record before the stream was ready`);
        continue;
      }
      switch (record.kind) {
        case 'head':
        case 'chunk':
          for (const event of this.reassembler.accept(record)) {
            if (event.kind === 'message') {
              const verdict = this.session.incoming(event.message); // delivered or a resend: receipted either way
              if (typeof verdict === 'object') this.reject(event.message.lane, event.message.id, verdict.refused);
              else this.receipt(event.message.lane, event.message.id);
            } else if (event.kind === 'progress') {
              this.session.incomingProgress(event.progress);
            } else if (event.kind === 'reject') {
              this.session.refusedIncoming(event.lane, event.id, event.error);
              this.reject(event.lane, event.id, event.error);
            } else {
              if (event.costly === true && ++this.abandoned > STREAM_BOUNDS.abandonedMessages) {
                return this.break(`more than ${STREAM_BOUNDS.abandonedMessages} messages begun and abandoned or refused`);
              }
              this.violation(event.reason);
            }
            if (this.closed) return;
          }
          break;
        case 'cancel':
          this.session.cancelledIncoming(record.lane, record.id, this.reassembler.cancel(record.lane, record.id));
          this.receipt(record.lane, record.id); // so the sender stops keeping it
          break;
        case 'receipts':
          this.session.receipts(record.lane, record.ids);
          if (record.lane === 1) this.moveBulkLane();
          break;
        case 'reject':
          this.session.rejected(record.lane, record.id, record.error);
          if (record.lane === 1) this.moveBulkLane();
          break;
        case 'hello':
          // One per stream: each makes the session rewind everything pending onto this stream.
          if (this.helloSeen) return this.break('a second hello on one stream');
          this.helloSeen = true;
          // A peer that restarted its session will not resume what its old one had begun.
          if (!this.session.knowsEpoch(record.hello.epoch)) this.reassembler.dropResumed();
          if (this.auth === undefined) {
            this.becomeReady(record.hello);
            break;
          }
          this.answerHello(record.hello);
          break;
        case 'auth':
          this.checkAuth(record.body);
          break;
        case 'probe':
          this.outbox.addPong();
          this.kick();
          break;
        case 'pong':
          if (this.heartbeatProbeAt !== undefined) this.sampleRtt(Date.now() - this.heartbeatProbeAt);
          this.heartbeatProbeAt = undefined;
          for (const waiter of [...this.pongWaiters]) waiter(true);
          break;
        case 'datagram':
          this.session.incomingDatagram(record);
          if (record.mode === 'unordered') {
            this.outbox.addDatagramReceipt(record.id);
            this.kick();
          }
          break;
        case 'datagram-receipts':
          this.session.datagramReceipts(record.ids);
          break;
        case 'ping':
          break;
        case 'bye':
          this.handlers.bye(record.answer === true);
          return;
      }
    }
  }

  /** The peer's hello is in: our proof goes out, and the peer has AUTH_TIMEOUT_MS to send its own. */
  private answerHello(hello: Hello): void {
    const auth = this.auth;
    if (auth === undefined) return;
    const answer = auth.stream.answer(hello, auth.binding());
    if (typeof answer === 'string') return this.unauthenticated(answer);
    this.peerHello = hello;
    this.helloAt = Date.now();
    this.outbox.addAuth(answer);
    this.kick();
    this.authTimer = setTimeout(() => this.expireProof(), AUTH_TIMEOUT_MS);
  }

  /**
   * The peer said hello at least `minWaitMs` ago and its proof has not come: refuse it now
   * (true), as a path that must open sooner than AUTH_TIMEOUT_MS does when its time is up. False
   * when no proof is awaited, or the hello is too recent to blame the peer (a slow path, not a
   * withheld proof: the proof follows the hello on the same reliable channel).
   */
  expireProof(minWaitMs = 0): boolean {
    if (this.peerHello === undefined || this.ready || this.closed || Date.now() - this.helloAt < minWaitMs) return false;
    this.unauthenticated(`no proof of its identity key within ${Date.now() - this.helloAt} ms of its hello`);
    return true;
  }

  private checkAuth(body: Uint8Array): void {
    if (this.auth === undefined || this.ready) return this.violation('an auth record on a stream that takes none (or a second one)');
    const refused = this.auth.stream.check(body);
    if (refused !== undefined) return this.unauthenticated(refused);
    clearTimeout(this.authTimer);
    if (this.peerHello !== undefined) this.becomeReady(this.peerHello);
  }

  private becomeReady(hello: Hello): void {
    this.ready = true;
    this.peerHello = undefined;
    this.handlers.hello(hello, this);
  }

  private unauthenticated(reason: string): void {
    if (this.closed) return;
    this.close();
    this.handlers.unauthenticated(reason);
  }

  /** A packet arrived: the stream is alive (again, after a silence: `revived`). */
  private heard(): void {
    this.lastHeard = Date.now();
    const was = this.silence;
    this.silence = 'none';
    if (was === 'silent') this.handlers.revived?.();
  }

  /** Queues a goodbye; it leaves in the next packet. */
  bye(): void {
    this.outbox.addBye();
    this.kick();
  }

  /** Answers the peer's goodbye with ours, sent now: the stream closes right after. */
  answerBye(): void {
    if (this.closed) return;
    this.outbox.addBye(true);
    this.pacer.flush();
  }

  /** Whether anything arrived on this stream within the last `ms`. */
  heardWithin(ms: number): boolean {
    return !this.closed && Date.now() - this.lastHeard < ms;
  }

  /** Bytes held for the peer's unfinished messages on this stream. */
  get pendingBytes(): number {
    return this.reassembler.pendingBytes;
  }

  /** Stops the stream (the session keeps its messages). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacer.stop();
    this.bulk?.pacer.stop();
    this.bulk?.outbox.clear();
    for (const pacer of this.datagramPacers.values()) pacer.stop();
    this.earlyBulk = [];
    this.stopHeartbeat();
    clearTimeout(this.probeTimer);
    clearTimeout(this.authTimer);
    for (const waiter of [...this.pongWaiters]) waiter(false);
    this.outbox.clear();
    this.session.park(this.reassembler.park());
    this.session.deactivate(this);
  }

  private sampleRtt(sample: number): void {
    if (this.srtt === undefined) {
      this.srtt = sample;
      this.rttvar = sample / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
  }

  private violation(reason: string): void {
    if (++this.violations > STREAM_BOUNDS.violations) return this.break(`more than ${STREAM_BOUNDS.violations} malformed frames`);
    this.handlers.violation(reason);
  }

  /** The peer broke the protocol past dropping: this stream ends (the peer decides on repairs). */
  private break(reason: string): void {
    if (this.closed) return;
    this.close();
    this.handlers.broken(reason);
  }
}

