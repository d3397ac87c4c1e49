/**
 * The paths of one messaging client to the rest of its room: one Peer per remote
 * participant, and the routing of signals and relayed packets to them. Who initiates is
 * the pair's id order (`initiates`): both sides decide alike whatever order they learned of
 * each other in, which across several service processes is not one order (two participants
 * enabling at once on two processes may both find, or both be told of, each other). The
 * pair keeps its roles for repairs and for the relay. Initiations wait for a slot of the
 * process-wide limiter. Signals from a participant not known yet (its offer can overtake
 * the service's word about it) are held briefly and replayed when it is.
 */
import type { ErrorPayload, RoomError } from '../protocol/errors.js';
import type { RelayEnvelope, SignalEnvelope } from '../protocol/signaling.js';
import { negotiationLimiter } from './peer/limiter.js';
import { Lingering } from './peer/lingering.js';
import type { Logger, RtcImplementation, Tunables } from './options.js';
import type { LinkKind, Route } from './participant.js';
import { Peer, type LinkCloseReason, type PeerSignaling } from './peer/peer.js';
import type { PeerSession } from './peer/session.js';
import type { AssembledMessage, IncomingProgress } from './wire/reassembler.js';
import { addCounts, type DatagramCounts } from './wire/datagrams.js';
import type { Trust } from './trust/trust.js';

export type { LinkCloseReason } from './peer/peer.js';

export interface MeshEvents {
  /** A message to `peerId` can now be delivered. */
  open(peerId: string): void;
  /** …and `peerId` lists us too. */
  confirmed(peerId: string): void;
  /** `peerId` is given up (never called for peers closed by `remove()`/`closeAll()`). */
  closed(peerId: string, reason: LinkCloseReason, detail: string): void;
  /** Messages to `peerId` now go `kind`. */
  path(peerId: string, kind: LinkKind): void;
  route(peerId: string, route: Route): void;
  message(peerId: string, message: AssembledMessage): void;
  /** More of a large message from `peerId` arrived. */
  progress(peerId: string, progress: IncomingProgress): void;
  /** `peerId` aborted a message it had begun sending. */
  aborted(peerId: string, progress: IncomingProgress): void;
  /** We refused one of `peerId`'s messages (over a limit, malformed) and told it so. */
  refused(peerId: string, error: ErrorPayload): void;
  /** A frame from `peerId` broke the protocol and was dropped. */
  violation(peerId: string, reason: string): void;
}

/** What the mesh needs of the signaling client: what a peer needs, and the service's signal and relay pushes. */
export interface MeshSignaling extends PeerSignaling {
  on(event: 'signal', listener: (envelope: SignalEnvelope) => void): () => void;
  on(event: 'relay', listener: (envelope: RelayEnvelope) => void): () => void;
}

export interface MeshOptions {
  rtc: RtcImplementation;
  rtcConfig: Record<string, unknown> & { iceServers: unknown[] };
  tunables: Tunables;
  logger: Logger;
  relayAllowed: boolean;
  signaling: MeshSignaling;
  /** Whether signals and relayed frames from `peerId` are taken (no: it is banned as hostile). */
  accepts(peerId: string): boolean;
  events: MeshEvents;
  /** This participant's id: of a pair, the lower id offers. */
  localId: string;
  /** The largest frame the service relays. */
  relayFrameBytes(): number;
  /** How errors name participant `peerId` (by name, with its id). */
  describe(peerId: string): string;
  /** Who this participant trusts and how its streams prove their ends (trust/trust.ts). */
  trust: Trust;
  /** The name the service gives `peerId` (pinned fingerprints are by name). */
  nameOf(peerId: string): string | undefined;
}

/**
 * How long a leaving client waits, after its goodbyes, before closing its links: for them to
 * arrive (the peer then goes silent, and leaves the close to us), and to hear whether a peer is
 * leaving too. It does not poll the channels' buffers for its goodbye to drain: a poll is a call into
 * the channel, which @roamhq/wrtc may crash on as a peer's close arrives (docs/stacks.md). A pair
 * closes sooner when its peer answers (over the relay, or a Python participant).
 */
const BYE_GRACE_MS = 150;

/** How long a link to a peer that is leaving stays open for that peer to close its end first. */
export const LEAVER_CLOSES_MS = 2_000;

/** Of a pair, the lower id offers. */
export const initiates = (localId: string, peerId: string): boolean => localId < peerId;

/** Signals held for participants not known yet: per participant, how many and how long; and for how many. */
const EARLY_SIGNALS = { perPeer: 32, maxAgeMs: 10_000, maxPeers: 64 } as const;

export class Mesh {
  private readonly peers = new Map<string, Peer>();
  /** Datagram counts of peers gone, so that the totals cover this mesh's whole life. */
  private readonly retired: DatagramCounts = { written: 0, superseded: 0, dropped: 0 };
  private readonly early = new Map<string, { since: number; signals: SignalEnvelope[] }>();
  /** Links to peers that said goodbye, open until those close their ends (lingering.ts). */
  private readonly lingering = new Lingering(LEAVER_CLOSES_MS);
  /** The service's pushes for the mesh, subscribed to directly for as long as it lives. */
  private readonly unsubscribe: Array<() => void>;

  constructor(private readonly options: MeshOptions) {
    const { signaling, accepts, logger } = options;
    this.unsubscribe = [
      signaling.on('signal', (envelope) => {
        if (accepts(envelope.from)) this.handleSignal(envelope);
      }),
      // Socket.IO hands browsers an ArrayBuffer and Node a Buffer.
      signaling.on('relay', ({ from, sid, data }) => {
        const bytes: unknown = data;
        const frame = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : undefined;
        if (frame === undefined || typeof from !== 'string' || typeof sid !== 'string') return logger.debug({ from }, 'malformed relay event dropped');
        if (accepts(from)) this.peers.get(from)?.handleRelay(sid, frame);
      }),
    ];
  }

  /** Starts the paths to `peerId`: as initiator (offering now) or as responder (awaiting its offer). */
  connect(peerId: string): void {
    if (this.peers.has(peerId)) return;
    const initiator = initiates(this.options.localId, peerId);
    const { events, logger } = this.options;
    let peer: Peer | undefined;
    const mine = (): boolean => peer !== undefined && this.peers.get(peerId) === peer;
    // The one place a peer's events get its id; its session's events go straight to these too.
    peer = new Peer(
      peerId,
      initiator,
      {
        rtc: this.options.rtc,
        rtcConfig: this.options.rtcConfig,
        tunables: this.options.tunables,
        logger,
        relayAllowed: this.options.relayAllowed,
        limiter: negotiationLimiter,
        signaling: this.options.signaling,
        localId: this.options.localId,
        relayFrameBytes: this.options.relayFrameBytes,
        describe: () => this.options.describe(peerId),
        lingering: this.lingering,
        auth: () => this.options.trust.forStream(this.options.localId, peerId, () => this.options.nameOf(peerId)),
        othersHeardWithin: (ms) => [...this.peers].some(([id, other]) => id !== peerId && other.heardWithin(ms)),
      },
      {
        open: () => events.open(peerId),
        confirmed: () => events.confirmed(peerId),
        closed: (reason, detail) => {
          if (!mine()) return;
          this.forget(peerId);
          events.closed(peerId, reason, detail);
        },
        path: (kind) => events.path(peerId, kind),
        route: (route) => events.route(peerId, route),
        message: (message) => events.message(peerId, message),
        progress: (progress) => events.progress(peerId, progress),
        aborted: (progress) => events.aborted(peerId, progress),
        refused: (error) => events.refused(peerId, error),
        violation: (reason) => events.violation(peerId, reason),
      },
    );
    this.peers.set(peerId, peer);
    const held = this.early.get(peerId);
    this.early.delete(peerId);
    if (held !== undefined && Date.now() - held.since <= EARLY_SIGNALS.maxAgeMs) for (const envelope of held.signals) peer.handleSignal(envelope);
  }

  has(peerId: string): boolean {
    return this.peers.has(peerId);
  }

  /** Whether `peerId` has answered at all (signalled or relayed to us, or linked). */
  answered(peerId: string): boolean {
    return this.peers.get(peerId)?.answered === true;
  }

  private handleSignal(envelope: SignalEnvelope): void {
    const peer = this.peers.get(envelope.from);
    if (peer === undefined) return this.holdEarly(envelope);
    peer.handleSignal(envelope);
  }

  private holdEarly(envelope: SignalEnvelope): void {
    const now = Date.now();
    for (const [id, held] of this.early) if (now - held.since > EARLY_SIGNALS.maxAgeMs) this.early.delete(id);
    const held = this.early.get(envelope.from);
    if (held === undefined && this.early.size >= EARLY_SIGNALS.maxPeers) {
      this.options.logger.debug({ from: envelope.from }, 'signal from an unknown participant dropped');
      return;
    }
    if (held === undefined) this.early.set(envelope.from, { since: now, signals: [envelope] });
    else if (held.signals.length < EARLY_SIGNALS.perPeer) held.signals.push(envelope);
  }

  /** The session with `peerId` once it can carry messages. */
  session(peerId: string): PeerSession | undefined {
    const peer = this.peers.get(peerId);
    return peer?.isOpen === true ? peer.session : undefined;
  }

  /** Bytes waiting for receipts (outgoing) and held for unfinished messages (incoming), over every peer. */
  bytes(): { outgoing: number; incoming: number } {
    let outgoing = 0;
    let incoming = 0;
    for (const peer of this.peers.values()) {
      outgoing += peer.session.queuedBytes;
      incoming += peer.incomingBytes;
    }
    return { outgoing, incoming };
  }

  /** The service lost `peerId`'s connection; `silent`: it went quiet rather than closed (it may be hung, and back). */
  markAway(peerId: string, silent = false): void {
    this.peers.get(peerId)?.markAway(silent);
  }

  markBack(peerId: string): void {
    this.peers.get(peerId)?.markBack();
  }

  /** Our connection to the service dropped. */
  signalingLost(): void {
    for (const peer of [...this.peers.values()]) peer.signalingLost();
  }

  /**
   * Closes the paths to `peerId` without notifying (the service says it left); its pending sends
   * reject with `error`. Its direct link lingers, silent, for it to close its end first.
   */
  remove(peerId: string, error: RoomError): void {
    this.early.delete(peerId);
    const peer = this.peers.get(peerId);
    this.forget(peerId);
    peer?.dispose(error, true);
  }

  private forget(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined) return;
    this.peers.delete(peerId);
    addCounts(this.retired, peer.session.datagrams.counts);
  }

  /** What became of the datagrams sent over this mesh's life (wire/datagrams.ts). */
  datagramCounts(): DatagramCounts {
    const total = { ...this.retired };
    for (const peer of this.peers.values()) addCounts(total, peer.session.datagrams.counts);
    return total;
  }

  /** Test hook: breaks the direct link to `peerId` as a network failure would. */
  breakLink(peerId: string): boolean {
    return this.peers.get(peerId)?.breakDirectLink() ?? false;
  }

  /**
   * Says goodbye on every open path and closes each pair once its peer answers (BYE_GRACE_MS at
   * most), then waits for the links left for their peers to close (LEAVER_CLOSES_MS at most).
   * Pending sends reject with `error`.
   */
  async closeAll(error: RoomError): Promise<void> {
    for (const stop of this.unsubscribe.splice(0)) stop();
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const peer of peers) peer.quiesce(error);
    const told = peers.filter((peer) => peer.bye());
    const deadline = Date.now() + BYE_GRACE_MS;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (told.every((p) => p.closed) || Date.now() >= deadline) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
    for (const peer of peers) peer.dispose(error);
    await this.lingering.settle();
  }
}
