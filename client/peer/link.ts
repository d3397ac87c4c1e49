/**
 * One WebRTC connection to one remote participant: the only module that knows simple-peer.
 * It turns simple-peer's events into callbacks and hides its traps: public STUN in its
 * default config, and the ICE-complete timer it leaves running after destroy (which keeps a
 * Node process alive for up to 5 s). Liveness is the channel's job (heartbeats), not ICE's:
 * ICE takes ~30 s to call a vanished peer `failed`.
 *
 * A link carries simple-peer's data channel (control records and small messages) and, once
 * both hellos say the peers take it, a second one for bulk messages (`bulk`, label
 * BULK_CHANNEL_LABEL), opened by the initiator after the connection is up: its own SCTP
 * stream, so that heartbeats, receipts and small messages never wait behind an attachment.
 * Likewise two datagram channels (DATAGRAM_CHANNELS: unordered; unordered without retransmission)
 * once both hellos say `datagrams`.
 */
import SimplePeer from 'simple-peer';
import type { SignalData } from '../../protocol/signaling.js';
import type { RtcImplementation } from '../options.js';
import type { CandidateType, Route } from '../participant.js';
import { BULK_CHANNEL_LABEL, DATAGRAM_CHANNELS, type DatagramChannel } from '../wire/codec.js';
import { starvedRecently } from './starvation.js';
import { restartsIce, takesDatagramChannels, takesBulkChannel } from '../rtc.js';
import type { ChannelBinding } from '../trust/binding.js';

/** The data channels a link may add to simple-peer's, by what they carry. */
type Extra = 'bulk' | DatagramChannel;
const EXTRA_CHANNELS: Record<Extra, { label: string; init: { ordered: boolean; maxRetransmits?: number } }> = {
  bulk: { label: BULK_CHANNEL_LABEL, init: { ordered: true } },
  ...DATAGRAM_CHANNELS,
};
const EXTRA_BY_LABEL = new Map(Object.entries(EXTRA_CHANNELS).map(([extra, { label }]) => [label, extra as Extra]));

/** For this long after the process stood still, a send asks the stack whether the channel is still open. */
const STALL_CHECK_MS = 5_000;

/** What getStats() resolves with, in every stack: a Map, or an RTCStatsReport (which has forEach). */
interface StatsReport {
  forEach(callback: (entry: Record<string, unknown>) => void): void;
}

export interface PeerLinkHandlers {
  signal(data: SignalData): void;
  open(): void;
  data(bytes: Uint8Array): void;
  /**
   * The link closed. `local`: it could not work for a reason on this side (the WebRTC stack
   * threw creating the connection, its offer or answer, or its channel), which is worth a
   * warning rather than a quiet fallback to the relay.
   */
  close(reason: string, local: boolean): void;
  /** This side finished gathering ICE candidates (the costly part of starting a link: sockets are opened for it). */
  gathered(): void;
  /** The peer broke the rules of the connection (e.g. opened a second data channel); the link is closed without `close`. */
  broken(reason: string): void;
  /** The bulk channel is open (`bulk` can send). */
  bulkOpen(): void;
  /** A message on the bulk channel. */
  bulkData(bytes: Uint8Array): void;
  /** A datagram channel is open (`datagrams[channel]` can send). */
  datagramsOpen(channel: DatagramChannel): void;
  /** A message on a datagram channel. */
  datagramData(channel: DatagramChannel, bytes: Uint8Array): void;
}

/** A channel besides simple-peer's (the bulk one, a datagram one), as the stream writes to it. */
export interface ExtraTransport {
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  readonly maxMessageSize: number | undefined;
  send(packet: Uint8Array): void;
  whenDrained(low: number, drained: () => void): (() => void) | undefined;
}

/** A data channel as every stack has it (the browser's RTCDataChannel, @roamhq/wrtc's, node-datachannel's polyfill). */
interface RawChannel {
  readonly label: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  binaryType: string;
  bufferedAmountLowThreshold: number;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: Uint8Array): void;
  close(): void;
  addEventListener?(type: 'bufferedamountlow', listener: () => void): void;
  removeEventListener?(type: 'bufferedamountlow', listener: () => void): void;
}

export interface PeerLinkOptions {
  initiator: boolean;
  /** A stack as resolveRtc() returns it: the browser's own, or adapted (rtc.ts). */
  rtc: RtcImplementation;
  /** RTCPeerConnection configuration; `iceServers` is always set (never simple-peer's default). */
  config: Record<string, unknown> & { iceServers: unknown[] };
}

interface DataChannelEvent {
  channel?: RawChannel | null;
}

interface DrainingChannel {
  bufferedAmountLowThreshold: number;
  addEventListener(type: 'bufferedamountlow', listener: () => void): void;
  removeEventListener(type: 'bufferedamountlow', listener: () => void): void;
}

interface SimplePeerInternals {
  _pc?: {
    sctp?: { maxMessageSize?: number } | null;
    ondatachannel: ((event: DataChannelEvent) => void) | null;
    createDataChannel(label: string, init: { ordered: boolean; maxRetransmits?: number }): RawChannel;
  } | null;
  _iceCompleteTimer?: ReturnType<typeof setTimeout> | null;
}

/** At most this many signals of one ICE restart are kept to be sent again (its offer and candidates). */
const MAX_RESTART_SIGNALS = 64;

/** simple-peer's error codes for a failure of this side's own stack (not of the network, nor of what the peer sent). */
const LOCAL_FAILURES = new Set(['ERR_WEBRTC_SUPPORT', 'ERR_PC_CONSTRUCTOR', 'ERR_CREATE_OFFER', 'ERR_CREATE_ANSWER', 'ERR_SET_LOCAL_DESCRIPTION']);

export class PeerLink {
  /** The DTLS fingerprints of the descriptions sent and taken (sdpFingerprints): the stream's binding. */
  private readonly fingerprints: { local?: string | undefined; remote?: string | undefined } = {};
  /** Its stack restarts ICE in place (a browser's, @roamhq/wrtc): the stream's hello says so. */
  readonly restartsIce: boolean;
  /** Its stack takes a second data channel for bulk messages (rtc.ts says which): the hello says so. */
  readonly takesBulk: boolean;
  /** Its stack takes the two datagram channels (rtc.ts says which): the hello says so. */
  readonly takesDatagrams: boolean;
  private readonly peer: SimplePeer.Instance;
  private closed = false;
  /** closeLater(): the connection itself is closed by whoever holds the function it returned. */
  private deferDestroy = false;
  /** A getStats() call under way (selectedRoute), which the close waits for. */
  private statsCall: Promise<unknown> | undefined;
  /** Tracked from events: reading the channel's readyState is a native call into @roamhq/wrtc's network thread. */
  private opened = false;
  /** The runtime's own WebRTC (a browser's), whose `bufferedamountlow` event can be relied on; @roamhq/wrtc has none. */
  private readonly nativeDrainEvent: boolean;
  /** The channels besides simple-peer's (bulk, datagrams), once opened (by the initiator) or adopted (by the responder), and which of them are open. */
  private readonly extras = new Map<Extra, RawChannel>();
  private readonly extrasOpen = new Set<Extra>();
  /** The signals of the last ICE restart (its offer, then its candidates), sent again if the restart must be repeated unanswered. */
  private restartSignals: SignalData[] | undefined;
  private restarting = false;

  constructor(options: PeerLinkOptions, private readonly handlers: PeerLinkHandlers) {
    this.restartsIce = restartsIce(options.rtc);
    this.takesBulk = takesBulkChannel(options.rtc);
    this.takesDatagrams = takesDatagramChannels(options.rtc);
    const own = (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    this.nativeDrainEvent = typeof own === 'function' && options.rtc.RTCPeerConnection === own;
    this.peer = new SimplePeer({
      initiator: options.initiator,
      wrtc: options.rtc as SimplePeer.Options['wrtc'],
      config: options.config as RTCConfiguration,
      trickle: true,
      channelConfig: { ordered: true },
    });
    // A description goes out before its candidates. node-datachannel gathers while it creates
    // the offer, so simple-peer emits candidates first, and the responder (which starts a
    // session on the offer) dropped them as stale: it then learned the offerer's address only
    // from its checks, and its first DTLS flight was often lost (a 1 s stall).
    let described = false;
    const early: SignalData[] = [];
    this.peer.on('signal', (data: SignalData) => {
      if (this.restarting && data.type === 'offer') {
        this.restarting = false;
        this.restartSignals = [];
      }
      if (this.restartSignals !== undefined && this.restartSignals.length < MAX_RESTART_SIGNALS && (data.type === 'offer' || data.type === 'candidate')) this.restartSignals.push(data);
      if (data.type === 'offer' || data.type === 'answer') {
        described = true;
        if (!this.noteFingerprints('local', data.sdp)) return;
        handlers.signal(data);
        for (const candidate of early.splice(0)) handlers.signal(candidate);
      } else if (described || data.type !== 'candidate') handlers.signal(data);
      else early.push(data);
    });
    this.peer.on('connect', () => {
      this.opened = true;
      handlers.open();
    });
    this.peer.on('data', (data: Uint8Array) => {
      this.opened = true; // the answering side's channel carries data before simple-peer's `connect`
      handlers.data(data);
    });
    this.peer.on('error', (error: Error & { code?: string }) => {
      const local = error.code !== undefined && LOCAL_FAILURES.has(error.code);
      this.finish(local ? `${error.code}: ${error.message}` : (error.code ?? error.message), true, local);
    });
    this.peer.on('close', () => this.finish('closed by peer'));
    this.peer.once('_iceComplete', () => handlers.gathered()); // simple-peer's own event: the null candidate, or its 5 s timer
    this.guardDataChannels(options.initiator);
    this.bulk = this.transport('bulk');
    this.datagrams = { unordered: this.transport('unordered'), lossy: this.transport('lossy') };
  }

  /** One of the extra channels as a transport, usable once it is open. */
  private transport(extra: Extra): ExtraTransport {
    const link = this;
    const name = `${extra} channel`;
    return {
      get isOpen(): boolean {
        return link.extrasOpen.has(extra) && !link.closed;
      },
      get bufferedAmount(): number {
        // Never read from a channel whose connection is closed: a native read after close is how @roamhq/wrtc crashes.
        return link.closed ? 0 : (link.extras.get(extra)?.bufferedAmount ?? 0);
      },
      get maxMessageSize(): number | undefined {
        return link.maxMessageSize;
      },
      send: (packet) => {
        if (!this.extrasOpen.has(extra) || this.closed) return;
        const channel = this.extras.get(extra);
        if (this.closedWhileStalled(channel, name)) return;
        try {
          channel?.send(packet);
        } catch (error) {
          this.finish(`send failed on the ${name}: ${(error as Error).message}`);
        }
      },
      whenDrained: (low, drained) => this.drainEvent(this.extras.get(extra), low, drained),
    };
  }

  /**
   * A link carries simple-peer's data channel (the initiator's) and at most one of each extra
   * channel (bulk, datagrams), which the initiator opens. simple-peer would make any channel the
   * peer opens later its own (and keep reading the old one), so any other channel, a second of
   * a kind, or any channel opened towards the initiator, closes the link as a protocol violation.
   */
  private guardDataChannels(initiator: boolean): void {
    const pc = (this.peer as unknown as SimplePeerInternals)._pc;
    if (pc == null) return;
    const accept = pc.ondatachannel;
    let channels = initiator ? 1 : 0;
    pc.ondatachannel = (event) => {
      const channel = event.channel;
      const extra = channel == null ? undefined : EXTRA_BY_LABEL.get(channel.label);
      if (!initiator && channels === 1 && extra !== undefined && channel != null && !this.extras.has(extra)) return this.adopt(extra, channel);
      if (++channels === 1 && accept !== null) return accept(event);
      try {
        event.channel?.close();
      } catch {
        // closing is best effort; the link closes anyway
      }
      if (this.closed) return;
      this.finish('the peer opened a second data channel', false);
      this.handlers.broken('the peer opened a second data channel');
    };
  }

  /**
   * The data channel is usable, as far as its events tell: open since `connect` or the first
   * data, until the link finishes. A channel the peer closed before simple-peer noticed
   * makes `send()` throw, which finishes the link.
   */
  get isOpen(): boolean {
    return this.opened && !this.closed;
  }

  get bufferedAmount(): number {
    return this.peer.bufferSize;
  }

  /** Opens the bulk channel (the initiator, once the peer's hello says it takes one). */
  openBulk(): void {
    this.open('bulk');
  }

  /** Opens the datagram channels (the initiator, once the peer's hello says it takes them). */
  openDatagrams(): void {
    this.open('unordered');
    this.open('lossy');
  }

  private open(extra: Extra): void {
    const pc = (this.peer as unknown as SimplePeerInternals)._pc;
    if (this.closed || pc == null || this.extras.has(extra)) return;
    const { label, init } = EXTRA_CHANNELS[extra];
    try {
      this.adopt(extra, pc.createDataChannel(label, { ...init }));
    } catch (error) {
      this.finish(`could not open the ${extra} channel: ${(error as Error).message}`);
    }
  }

  private adopt(extra: Extra, channel: RawChannel): void {
    this.extras.set(extra, channel);
    channel.binaryType = 'arraybuffer';
    const opened = (): void => {
      if (this.extrasOpen.has(extra) || this.closed) return;
      this.extrasOpen.add(extra);
      if (extra === 'bulk') this.handlers.bulkOpen();
      else this.handlers.datagramsOpen(extra);
    };
    channel.onopen = opened;
    channel.onmessage = ({ data }) => {
      if (this.closed) return;
      const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : undefined;
      if (bytes === undefined) return this.finish(`the ${extra} channel carried text`, false), this.handlers.broken(`the ${extra} channel carried text`);
      opened(); // data proves it open (its open event can trail the first message)
      if (extra === 'bulk') this.handlers.bulkData(bytes);
      else this.handlers.datagramData(extra, bytes);
    };
    // A channel that ends while the link lives takes the link with it: what it carried is resent on the next.
    channel.onclose = () => this.finish(`the ${extra} channel closed`);
    channel.onerror = () => this.finish(`the ${extra} channel failed`);
    if (channel.readyState === 'open') opened();
  }

  /** The bulk channel as a transport (a channel.ts ChannelTransport), usable once `bulkOpen` was told. */
  readonly bulk: ExtraTransport;
  /** The datagram channels as transports, each usable once `datagramsOpen` told of it. */
  readonly datagrams: Record<DatagramChannel, ExtraTransport>;


  /** The largest message the connection accepts, once negotiated (undefined where the implementation does not say). */
  get maxMessageSize(): number | undefined {
    const size = (this.peer as unknown as SimplePeerInternals)._pc?.sctp?.maxMessageSize;
    return typeof size === 'number' && size > 0 ? size : undefined;
  }

  /**
   * The selected candidate pair, from the connection's stats: candidate types, the protocol to
   * the first hop (for a local TURN candidate, the protocol to the TURN server), and the round
   * trip. Undefined when the stack reports none (yet).
   */
  async selectedRoute(): Promise<Route | undefined> {
    const pc = (this.peer as unknown as { _pc?: { getStats?: () => Promise<StatsReport> } | null })._pc;
    if (this.closed || pc == null || typeof pc.getStats !== 'function') return undefined;
    const stats = new Map<string, Record<string, unknown>>();
    const call = pc.getStats();
    this.statsCall = call;
    let report: StatsReport;
    try {
      report = await call;
    } finally {
      if (this.statsCall === call) this.statsCall = undefined;
    }
    report.forEach((entry) => stats.set(String(entry['id']), entry));
    const all = [...stats.values()];
    const selectedId = all.find((s) => s['type'] === 'transport' && typeof s['selectedCandidatePairId'] === 'string')?.['selectedCandidatePairId'];
    const pair =
      (typeof selectedId === 'string' ? stats.get(selectedId) : undefined) ??
      all.find((s) => s['type'] === 'candidate-pair' && s['selected'] === true) ?? // Firefox
      all.find((s) => s['type'] === 'candidate-pair' && s['nominated'] === true && s['state'] === 'succeeded');
    if (pair === undefined) return undefined;
    const local = stats.get(String(pair['localCandidateId']));
    const remote = stats.get(String(pair['remoteCandidateId']));
    const route: Route = {};
    const type = (candidate: Record<string, unknown> | undefined): CandidateType | undefined => {
      const value = candidate?.['candidateType'];
      return value === 'host' || value === 'srflx' || value === 'prflx' || value === 'relay' ? value : undefined;
    };
    const localType = type(local);
    const remoteType = type(remote);
    if (localType !== undefined) route.local = localType;
    if (remoteType !== undefined) route.remote = remoteType;
    const protocol = localType === 'relay' ? (local?.['relayProtocol'] ?? local?.['protocol']) : local?.['protocol'];
    if (protocol === 'udp' || protocol === 'tcp' || protocol === 'tls') route.protocol = protocol;
    const rtt = pair['currentRoundTripTime'];
    if (typeof rtt === 'number' && Number.isFinite(rtt)) route.rttMs = rtt * 1000;
    return route;
  }

  /** In browsers: `drained()` once the data channel's buffer falls below `low` (its bufferedamountlow event). */
  whenDrained(low: number, drained: () => void): (() => void) | undefined {
    return this.drainEvent((this.peer as unknown as { _channel?: DrainingChannel | null })._channel ?? undefined, low, drained);
  }

  private drainEvent(channel: DrainingChannel | RawChannel | undefined, low: number, drained: () => void): (() => void) | undefined {
    const add = channel?.addEventListener?.bind(channel);
    const remove = channel?.removeEventListener?.bind(channel);
    if (!this.nativeDrainEvent || channel === undefined || add === undefined || remove === undefined) return undefined;
    channel.bufferedAmountLowThreshold = low;
    const onLow = (): void => {
      remove('bufferedamountlow', onLow);
      drained();
    };
    add('bufferedamountlow', onLow);
    return () => remove('bufferedamountlow', onLow);
  }

  signal(data: SignalData): void {
    if (this.closed) return;
    if ((data.type === 'offer' || data.type === 'answer') && !this.noteFingerprints('remote', data.sdp)) return;
    try {
      this.peer.signal(data as SimplePeer.SignalData);
    } catch (error) {
      this.finish(`bad signal: ${(error as Error).message}`);
    }
  }

  /**
   * Restarts ICE on this connection (the initiator's call): an offer with fresh ICE credentials,
   * so that candidates are gathered again (from a new address, after a move) and checked anew,
   * while DTLS, SCTP, the data channels and whatever they have in flight carry on. While the
   * last restart's offer is still unanswered (lost on the way: the peer's connection to the
   * service was down), its signals are sent again instead: simple-peer would queue a new one
   * behind it for ever.
   */
  restartIce(): 'new' | 'again' | 'none' {
    const internals = this.peer as unknown as SimplePeerInternals & { offerOptions?: Record<string, unknown>; negotiate(): void; _isNegotiating?: boolean };
    if (this.closed || internals._pc == null) return 'none';
    if (internals._isNegotiating === true) {
      for (const signal of this.restartSignals ?? []) this.handlers.signal(signal);
      return 'again';
    }
    internals.offerOptions = { ...internals.offerOptions, iceRestart: true };
    this.restarting = true;
    this.restartSignals = undefined;
    try {
      internals.negotiate();
    } catch (error) {
      this.finish(`could not restart ICE: ${(error as Error).message}`);
      return 'none';
    }
    return 'new';
  }

  /** Asks the initiator to restart ICE (the responder's call: simple-peer's own request signal). */
  requestRestart(): void {
    if (!this.closed) this.handlers.signal({ type: 'renegotiate', renegotiate: true });
  }

  send(packet: Uint8Array): void {
    if (!this.isOpen) return;
    if (this.closedWhileStalled((this.peer as unknown as { _channel?: { readyState?: string } | null })._channel, 'data channel')) return;
    try {
      this.peer.send(packet);
    } catch (error) {
      this.finish(`send failed: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.finish('closed locally', false);
  }

  /**
   * Ends the link as `close()` does (nothing more is sent, read or reported), but leaves its
   * connection for the peer to close (lingering.ts): `closed` is called once the peer's close
   * has arrived and simple-peer has torn everything down (or at once if already closed).
   * Returns the function that closes it now.
   */
  closeLater(closed: () => void): () => void {
    if (this.closed) {
      closed();
      return () => {};
    }
    this.deferDestroy = true;
    this.peer.once('close', closed);
    this.finish('closed locally', false);
    return () => this.destroyWhenIdle();
  }

  /**
   * After this process stood still (SIGSTOP, a blocked loop, a suspended laptop), a channel may
   * have closed without its event having reached us yet: asks the stack before a send, since
   * @roamhq/wrtc crashes (SIGSEGV) sending on such a channel, and finishes the link if it did. A
   * native call, so only then.
   */
  private closedWhileStalled(channel: { readyState?: string } | null | undefined, which: string): boolean {
    if (!starvedRecently(STALL_CHECK_MS) || channel?.readyState === 'open') return false;
    this.finish(`the ${which} is ${String(channel?.readyState)} after this process stood still`);
    return true;
  }

  /**
   * What this link's encryption is keyed by at each end, for the stream's binding (trust/binding.ts):
   * the DTLS fingerprints of our session description and of the peer's. DTLS refuses a certificate
   * that is not the one the peer's description names, so these are the certificates in use.
   */
  binding(): ChannelBinding | string {
    const { local, remote } = this.fingerprints;
    if (local === undefined || remote === undefined) return `no DTLS fingerprint in the ${local === undefined ? 'local' : 'remote'} session description`;
    return { kind: 'dtls', local, remote };
  }

  /**
   * Notes the DTLS fingerprints of a description we sent or took (not read back from the
   * connection: adaptStack in rtc.ts). A later one (an ICE restart) must name the same: false,
   * and the link finishes, if it names others.
   */
  private noteFingerprints(side: 'local' | 'remote', sdp: string): boolean {
    const found = sdpFingerprints(sdp);
    const before = this.fingerprints[side];
    if (before === undefined) this.fingerprints[side] = found;
    else if (found !== before) {
      this.finish(`the ${side} description of a renegotiation names other DTLS fingerprints`);
      return false;
    }
    return true;
  }

  /** Fault injection: closes the RTCPeerConnection underneath, as a failing network would; the link then finishes on its own events. */
  breakConnection(): boolean {
    const pc = (this.peer as unknown as { _pc?: { close(): void } | null })._pc;
    if (this.closed || pc == null) return false;
    pc.close();
    return true;
  }

  private finish(reason: string, notify = true, local = false): void {
    if (this.closed) return;
    this.closed = true;
    const internals = this.peer as unknown as SimplePeerInternals;
    const clearIceTimer = (): void => {
      if (internals._iceCompleteTimer) clearTimeout(internals._iceCompleteTimer);
    };
    clearIceTimer();
    this.peer.once('close', clearIceTimer); // simple-peer destroys on a microtask; a candidate may start the timer meanwhile
    this.peer.removeAllListeners('signal');
    this.peer.removeAllListeners('data');
    // The extra channels let go while their connection still lives: nothing reaches one after the
    // connection's close (reading or closing a channel of a closed connection crashes @roamhq/wrtc).
    for (const channel of this.extras.values()) {
      channel.onopen = null;
      channel.onmessage = null;
      channel.onclose = null;
      channel.onerror = null;
    }
    this.extras.clear();
    this.extrasOpen.clear();
    this.peer.on('error', () => {}); // errors racing the destroy must not become uncaught
    if (!this.deferDestroy) this.destroyWhenIdle();
    if (notify) this.handlers.close(reason, local);
  }

  /** A stats call still running in the native stack finishes before its connection is closed under it. */
  private destroyWhenIdle(): void {
    if (this.statsCall === undefined) this.peer.destroy();
    else void this.statsCall.then(() => undefined, () => undefined).then(() => this.peer.destroy());
  }
}

/** A link as a Peer drives it: a PeerLink, or a fake one in tests. */
export type Link = Pick<
  PeerLink,
  | 'restartsIce'
  | 'takesBulk'
  | 'takesDatagrams'
  | 'isOpen'
  | 'bufferedAmount'
  | 'maxMessageSize'
  | 'bulk'
  | 'datagrams'
  | 'signal'
  | 'send'
  | 'close'
  | 'closeLater'
  | 'openBulk'
  | 'openDatagrams'
  | 'restartIce'
  | 'requestRestart'
  | 'whenDrained'
  | 'selectedRoute'
  | 'breakConnection'
  | 'binding'
>;

/**
 * The DTLS certificate fingerprints a session description names (`a=fingerprint:` lines, session or
 * media level), normalised (algorithm lower case, hex upper case), deduplicated and sorted; or
 * undefined when it names none.
 */
export function sdpFingerprints(sdp: string | undefined): string | undefined {
  const found = new Set<string>();
  for (const match of (sdp ?? '').matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)) found.add(`${match[1]?.toLowerCase()} ${match[2]?.toUpperCase()}`);
  return found.size === 0 ? undefined : [...found].sort().join(',');
}

/** Makes a link: `openLink` (a PeerLink) unless a test gives another. */
export type LinkFactory = (options: PeerLinkOptions, handlers: PeerLinkHandlers) => Link;

export const openLink: LinkFactory = (options, handlers) => new PeerLink(options, handlers);
