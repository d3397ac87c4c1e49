/**
 * The paths to one remote participant, and the choice among them. A pair has one
 * initiator for its whole life (the lower id, see ../mesh.ts): it offers every direct link,
 * first and repairs alike, and starts the relay; the responder answers. The session
 * (PeerSession) writes to whichever stream's hello came last, direct preferred: when a
 * direct link opens while relayed, the pair upgrades.
 *
 * - A direct link that fails is offered again at once, then with backoff (1 s doubling to 30 s).
 *   Failures count as "in a row" until a link has stayed up for STABLE_LINK_MS (10 s).
 * - When no direct link opens within `directTimeoutMs`, or links keep failing, the
 *   initiator starts a relay stream through the service (unless `relay: false`).
 * - With no path for `connectTimeoutMs`, or none possible (the service is gone too), the
 *   participant is given up: `closed`.
 *
 * A path's own workings are apart: direct-path.ts (a link, its timers, kept while silent),
 * relay-path.ts (a sealed relay stream); the rules, as pure functions, in repair.ts and
 * restarts.ts. What the Peer is given and tells: peer-context.ts.
 */
import { RoomError } from '../../protocol/errors.js';
import { MAX_REFUSE_REASON_CHARS, type SignalEnvelope } from '../../protocol/signaling.js';
import type { LinkKind } from '../participant.js';
import { sharesTicks } from '../rtc.js';
import type { Hello } from '../wire/codec.js';
import { PeerChannel, type ChannelHandlers } from './channel.js';
import { closeDirectPath, directReady, openDirectPath, reviveDirect, suspendDirect, type DirectPath } from './direct-path.js';
import { PeerGuard } from './guard.js';
import type { LinkCloseReason, PeerContext, PeerEvents } from './peer-context.js';
import { closeRelayPath, openRelayPath, type RelayPath } from './relay-path.js';
import { afterDirectLoss, afterPathLoss, nextPhase, relayRetryAfter, type PeerPhase, type PeerPhaseEvent } from './repair.js';
import { PeerSession } from './session.js';
import { starvedRecently } from './starvation.js';

export type { LinkCloseReason, PeerContext, PeerEvents, PeerSignaling } from './peer-context.js';

/** How long a responder waits to hear that its hello arrived before it counts the pair as confirmed anyway. */
const CONFIRM_TIMEOUT_MS = 3_000;

export function randomSid(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** How many closed relay streams a peer remembers, to drop their late frames quietly. */
const RETIRED_RELAYS = 8;

export class Peer {
  readonly session: PeerSession;
  private direct: DirectPath | undefined;
  private relay: (RelayPath) | undefined;
  private phase: PeerPhase = 'connecting';
  /** A path once carried a hello: the participant is listed (until the pair closes). */
  private listed = false;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Relay streams failed in a row with the service up, and the timer of the next (the initiator's). */
  private relayFailures = 0;
  private relayRetry: ReturnType<typeof setTimeout> | undefined;
  private giveUpTimer: ReturnType<typeof setTimeout> | undefined;
  private attempting = false;
  /** The service says this participant's connection dropped; it stays only while a link answers. */
  private away = false;
  private current: LinkKind | undefined;
  private readonly guard = new PeerGuard();
  /** The pair lost the service (ours, or its end's connection to it) while relayed, or its end went silent: waiting for it, not giving up. */
  private waitingForService = false;
  /** The path lost while waiting was the relay: when the peer is back, relay again at once. */
  private lostRelay = false;
  /** Something came from the peer (a signal, a relayed frame): it answers, so a link may well open. */
  private heard = false;
  /** The first offer got its negotiation slot (the give-up clock restarts then, not while queued). */
  private offered = false;
  /**
   * Relay streams this side closed (a direct link replaced them): frames of theirs still on the
   * way are dropped, not taken for a new stream (which the guard would count against the peer).
   */
  private readonly retiredRelays: string[] = [];
  /** The last path was lost because it went silent (liveness), not because it closed. */
  private silentLoss = false;
  /**
   * The client is closing (the error its pending sends get): no new link or relay stream is
   * started (a connection created and destroyed at once is how @roamhq/wrtc crashes).
   */
  private quiet: RoomError | false = false;

  constructor(
    readonly id: string,
    readonly initiator: boolean,
    private readonly context: PeerContext,
    private readonly events: PeerEvents,
  ) {
    this.session = new PeerSession(context.tunables, events);
    if (initiator) this.offer();
    // The give-up clock counts from our first offer, not from its wait for a negotiation slot
    // (other peers' negotiations): an offer queued behind many arms it when its slot comes.
    if (!this.attempting) this.armGiveUp();
  }

  get isOpen(): boolean {
    return this.listed && this.phase !== 'closed';
  }

  /** Moves the phase (repair.ts has the table). */
  private to(event: PeerPhaseEvent): void {
    this.phase = nextPhase(this.phase, event);
  }

  /** Whether the peer has shown any sign of life (signalled or relayed to us). enable() waits only for such peers. */
  get answered(): boolean {
    return this.heard || this.isOpen;
  }

  /** Bytes held for this participant's unfinished messages, on every stream. */
  get incomingBytes(): number {
    return (this.direct?.channel?.pendingBytes ?? 0) + (this.relay?.channel?.pendingBytes ?? 0) + this.session.parkedBytes;
  }

  handleSignal(envelope: SignalEnvelope): void {
    if (this.phase === 'closed') return;
    const { data } = envelope;
    // It refused our binding on some stream of ours: no stream to it will do, so stop now rather than at connectTimeoutMs.
    if (data.type === 'refuse') return this.giveUp('unauthenticated', `it refused our stream: ${String(data.reason).slice(0, MAX_REFUSE_REASON_CHARS)}`, false);
    if (!this.initiator && data.type === 'offer' && envelope.sid !== this.direct?.sid) {
      if (!this.newSession('link')) return;
      this.closeDirect();
      this.direct = this.createDirect(envelope.sid, false, undefined);
    }
    const path = this.direct;
    if (path === undefined || envelope.sid !== path.sid) {
      this.context.logger.debug({ from: this.id, sid: envelope.sid }, 'stale signal dropped');
      return;
    }
    const admitted = path.signals.admit(data.type);
    if (admitted === 'take') {
      this.heard = true;
      // The responder asks for an ICE restart (its side of the link went silent).
      if (data.type === 'renegotiate') return void this.restartDirect(path, true);
      return path.link.signal(data);
    }
    if (admitted === 'drop') return this.context.logger.debug({ from: this.id, type: data.type }, 'signal dropped: not one this session takes');
    this.events.violation(admitted.violation);
  }

  /** The peer starts a new link or relay session: fine, unless it does so far more often than repairs explain. */
  private newSession(what: 'link' | 'relay'): boolean {
    const hostile = this.guard.sessionStarted(what, Date.now());
    if (hostile !== undefined) this.giveUp('hostile', hostile);
    return hostile === undefined;
  }

  /** A packet the service relayed from this participant. */
  handleRelay(sid: string, packet: Uint8Array): void {
    if (this.phase === 'closed') return;
    if (!this.context.relayAllowed) {
      this.context.logger.debug({ from: this.id }, 'relayed packet dropped: relaying is off');
      return;
    }
    if (this.relay?.sid !== sid) {
      if (this.initiator) return; // only the initiator starts relay streams; this one is stale
      if (this.retiredRelays.includes(sid)) return this.context.logger.debug({ from: this.id, sid }, 'late frame of a closed relay stream dropped');
      if (!this.newSession('relay')) return;
      this.closeRelay();
      this.relay = this.createRelay(sid);
    }
    this.heard = true;
    this.relay.transport.receive(packet);
  }

  /**
   * The service reports this participant's connection dropped: keep it only if a direct link
   * still answers. `silent`: the connection went quiet rather than closed (a hung process, a lost
   * network), so it may come back: the pair waits for it, messages queued, up to connectTimeoutMs.
   */
  markAway(silent = false): void {
    if (this.phase === 'closed') return;
    this.away = true;
    // Its paths went silent before its connection dropped (a hung process whose own Socket.IO gave
    // up as it woke, a network that dropped): not someone leaving, whose links close, not fade.
    const fadedFirst = this.listed && (this.phase === 'repairing' || this.phase === 'waiting') && this.silentLoss;
    if (silent || fadedFirst) this.waitingForService = true;
    const channel = this.direct?.ready === true ? this.direct.channel : undefined;
    // Relayed (its end of the relay is gone with its connection), or silent: wait for it to come back.
    // A relay stream only just started (beside the repair of a link that closed) is no such path:
    // a closed tab closes its links, and then its connection.
    const relayed = this.relay?.ready === true;
    if (channel === undefined && (relayed || this.waitingForService)) {
      this.closeRelay();
      return this.pathLost('its connection to the service dropped', relayed);
    }
    if (channel === undefined) return this.giveUp('failed', 'its connection to the service dropped and no direct link is up');
    // Not stretched by measured round trips: a background tab's throttled timers inflate them, and a closed tab must go soon.
    const waitMs = this.context.tunables.probeTimeoutMs;
    channel.probe(waitMs, (alive) => {
      if (alive || !this.away) return;
      if (this.waitingForService) return this.armGiveUp(); // silent: its link will time out; the pair waits for it
      this.giveUp('failed', `its connection to the service dropped and its link did not answer within ${Math.round(waitMs)} ms`);
    });
  }

  /** The service reports this participant again (it reconnected). */
  markBack(): void {
    this.away = false;
    if (this.phase === 'closed' || this.hasReadyPath()) return;
    const suspended = this.direct?.suspended === true ? this.direct : undefined;
    // A silent link kept meanwhile is restarted first: the initiator sends its restart offer (again,
    // as one sent while the peer was away was lost), the responder asks for one.
    if (!this.initiator) return suspended?.signals.restartable === true ? suspended.link.requestRestart() : undefined;
    // Messages wait: relay at once (a relay stream begun while it was away is begun again: its
    // keys went to its old connection), and repair the direct link beside it.
    if (this.relay?.ready !== true) this.closeRelay();
    if (this.lostRelay || this.listed) this.startRelay();
    this.offer(true);
  }

  /** Our own connection to the service dropped: relay streams end (a relayed pair waits for the service), links carry on. */
  signalingLost(): void {
    if (this.relay !== undefined) {
      const relayed = this.direct?.ready !== true;
      this.closeRelay();
      this.pathLost('the relay needs the service, which is unreachable', relayed);
    }
  }

  /** No more repairs: the client is closing, and pending sends will reject with `error`. */
  quiesce(error: RoomError): void {
    this.quiet = error;
    clearTimeout(this.retryTimer);
    clearTimeout(this.relayRetry);
  }

  /**
   * Says goodbye on the stream in use (direct preferred, as messages are); false when no stream
   * is up to carry it. An answer, or the peer's own goodbye, closes this pair (heardBye); closeAll()
   * waits for that, or its grace, before closing it anyway.
   */
  bye(): boolean {
    const channel = this.readyChannel();
    channel?.bye();
    return channel !== undefined;
  }

  private readyChannel(): PeerChannel | undefined {
    const path = this.direct?.ready === true ? this.direct : this.relay?.ready === true ? this.relay : undefined;
    return path?.channel;
  }

  /**
   * The peer said goodbye. One end of a link closes it, and the other waits, silent, for that
   * close to arrive: @roamhq/wrtc crashes now and then when a channel's close arrives from the
   * peer while this process calls into that channel (docs/stacks.md). If we stay, we wait, silent
   * (over the relay, which has no native channel, we answer first: the leaver closes sooner). If
   * we are leaving too: on an answer we close; if both of us said goodbye, the initiator closes
   * and the other waits. Not answering on a direct link is deliberate: a leaver that does not wait
   * (a browser tab closing) may be gone as the answer goes, and that send is the crash.
   */
  private heardBye(answer: boolean): void {
    if (this.quiet !== false) return this.dispose(this.quiet, !answer && !this.initiator);
    if (this.direct?.ready !== true) this.readyChannel()?.answerBye();
    this.giveUp('bye', 'said goodbye', false, true);
  }

  /** Whether this participant's direct link was heard from within `ms`. */
  heardWithin(ms: number): boolean {
    return this.direct?.ready === true && this.direct.channel?.heardWithin(ms) === true;
  }

  /**
   * Closes everything without notifying; pending sends reject with `error`. `linger`: the peer is
   * leaving, and the direct link's connection stays open for it to close its end first (closeDirectPath).
   */
  dispose(error: RoomError, linger = false): void {
    if (this.phase === 'closed') return;
    this.to('end');
    clearTimeout(this.retryTimer);
    clearTimeout(this.relayRetry);
    clearTimeout(this.giveUpTimer);
    this.closeDirect(linger);
    this.closeRelay();
    this.session.fail(error);
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Test hook: closes the direct link's RTCPeerConnection, as a network failure would. */
  breakDirectLink(): boolean {
    return this.direct?.link.breakConnection() ?? false;
  }

  /** The next direct attempt: an ICE restart of a silent link kept meanwhile, if it can be, else a new link. `fresh`: restart now, even if one is under way. */
  private offer(fresh = false): void {
    const suspended = this.direct?.suspended === true ? this.direct : undefined;
    if (suspended !== undefined && this.restartDirect(suspended, fresh)) return;
    if (this.attempting || this.quiet !== false || this.phase === 'closed' || !this.context.signaling.connected) return;
    this.attempting = true;
    clearTimeout(this.retryTimer);
    // Peers whose links keep failing (or never answer) queue behind those negotiating afresh.
    void this.context.limiter.acquire(this.failures).then((release) => {
      this.attempting = false;
      if (this.phase === 'closed' || this.hasReadyDirect()) return release();
      if (!this.offered) {
        this.offered = true;
        if (!this.listed) this.armGiveUp();
      }
      this.closeDirect();
      this.direct = this.createDirect(randomSid(), true, release);
    });
  }

  private createDirect(sid: string, initiator: boolean, release: (() => void) | undefined): DirectPath {
    return openDirectPath(
      { to: this.id, sid, initiator, release, first: !this.listed, context: this.context },
      {
        current: (path) => this.phase !== 'closed' && this.direct === path,
        opened: (path) => this.directOpened(path),
        lost: (_path, detail, timedOut) => this.directLost(detail, timedOut),
        broken: (_path, reason) => this.broken(reason, (detail) => this.directLost(detail)),
        slow: () => this.startRelay(),
        // A restart that had its time with the link still silent: the next repair (a new link, or the
        // restart sent again). One the peer asked for while the link still worked here counts for nothing.
        restartExpired: (path) => {
          if (path.suspended) this.offer();
          else path.restarts.stop();
        },
      },
    );
  }

  private directOpened(path: DirectPath): void {
    if (path.channel !== undefined) return;
    path.release?.();
    path.release = undefined;
    const bulk = path.link.takesBulk;
    const datagrams = path.link.takesDatagrams;
    const restart = path.link.restartsIce;
    const channel = new PeerChannel(path.link, this.session, this.context.tunables, this.handlers((hello) => {
      // Both take the bulk or datagram channels: the initiator opens them (the responder adopts them as they arrive).
      // Datagram channels first: libwebrtc retries channels' held sends in the order they were made (channel.ts, BULK_PACING).
      if (this.initiator && datagrams && hello.datagrams === true) path.link.openDatagrams();
      if (this.initiator && bulk && hello.bulk === true) path.link.openBulk();
      if (restart && hello.restart === true) path.signals.allowRestarts();
      directReady(path, (route) => {
        if (this.direct === path) this.events.route(route);
      });
      this.closeRelay();
      this.session.activate(channel, hello);
    }, (detail) => this.directLost(detail), path), {
      bulk,
      datagrams,
      restart,
      ownTicks: !sharesTicks(this.context.rtc),
      auth: { stream: this.context.auth(), binding: () => path.link.binding() },
    });
    path.channel = channel;
    if (path.link.bulk.isOpen) channel.attachBulk(path.link.bulk);
    for (const kind of ['unordered', 'lossy'] as const) if (path.link.datagrams[kind].isOpen) channel.attachDatagrams(kind, path.link.datagrams[kind]);
  }

  /** A relay stream: its channel starts once the two sides' keys are agreed (the transport opens). */
  private createRelay(sid: string): RelayPath {
    return openRelayPath(
      { to: this.id, sid, context: this.context },
      {
        current: (path) => this.relay === path && this.phase !== 'closed',
        opened: (path) => this.relayOpened(path),
        lost: (path, detail) => this.relayLost(path, detail),
        violation: (reason) => this.events.violation(reason),
      },
    );
  }

  private relayOpened(path: RelayPath): void {
    const channel: PeerChannel = new PeerChannel(path.transport, this.session, this.context.tunables, this.handlers((hello) => {
      path.ready = true;
      path.hello = hello;
      this.relayFailures = 0;
      if (this.direct?.ready === true) return;
      // The relay came before a silent link came back: messages take the relay, and the
      // link is replaced later (a direct attempt with backoff), not revived under it.
      if (this.direct?.suspended === true) {
        this.closeDirect(); // (which moves messages here)
        if (this.initiator) this.retryDirect(1_000);
      }
      if (!this.session.writesTo(channel)) this.session.activate(channel, hello);
    }, (detail) => this.relayLost(path, detail)), { auth: { stream: this.context.auth(), binding: () => path.transport.binding() } });
    path.channel = channel;
  }

  private relayLost(path: RelayPath, detail: string): void {
    if (this.relay !== path || this.phase === 'closed') return;
    this.closeRelay();
    this.pathLost(`relay: ${detail}`);
    this.relayAgain();
  }

  /** The relay stream failed with the service up: the initiator begins another (repair.ts, relayRetryAfter). */
  private relayAgain(): void {
    if (!this.initiator || this.phase === 'closed' || this.away || this.direct?.ready === true || !this.context.signaling.connected) return;
    clearTimeout(this.relayRetry);
    this.relayRetry = setTimeout(() => {
      if (this.phase !== 'closed' && this.direct?.ready !== true) this.startRelay();
    }, relayRetryAfter(++this.relayFailures));
  }

  private startRelay(): void {
    if (!this.initiator || this.quiet !== false || !this.context.relayAllowed || this.relay !== undefined || !this.context.signaling.connected) return;
    this.context.logger.info({ peerId: this.id }, 'no direct link yet: relaying through the service meanwhile');
    this.relay = this.createRelay(randomSid());
  }

  /**
   * Handlers of one stream: `onHello` makes it ready (and, normally, the one messages take) once
   * the peer's hello is in and its binding proved; the path is known before the peer is listed.
   */
  private handlers(onHello: (hello: Hello) => void, lost: (detail: string) => void, direct?: DirectPath): ChannelHandlers {
    return {
      hello: (hello, channel) => {
        if (this.phase === 'closed') return;
        onHello(hello);
        this.pathChanged();
        this.reachable(channel);
      },
      bye: (answer) => this.heardBye(answer),
      silent: () => {
        this.silentLoss = true;
        if (direct?.ready === true) return this.directSilent(direct);
        lost(`nothing heard for ${this.context.tunables.livenessTimeoutMs} ms`);
      },
      // Half the liveness period without a packet: if this host's network changed, the connection
      // to the service may be dead too, unnoticed; checking it now saves waiting for its ping.
      quiet: () => this.context.signaling.verify(this.id, () => this.context.logger.warn({ peerId: this.id }, 'the signaling service did not answer after a link went quiet: reconnecting to it')),
      revived: () => {
        if (direct !== undefined) this.directRevived(direct);
      },
      broken: (reason) => this.broken(reason, lost),
      // Not the participant the service named, or someone between us: nothing more to or from it.
      unauthenticated: (reason) => this.giveUp('unauthenticated', reason, true),
      violation: (reason) => this.events.violation(reason),
    };
  }

  /** The peer broke the protocol beyond dropping a frame: the stream closes, and repeated breaks make the peer hostile. */
  private broken(reason: string, lost: (detail: string) => void): void {
    if (this.phase === 'closed') return;
    this.events.violation(`stream closed: ${reason}`);
    const hostile = this.guard.streamBroken(reason, Date.now());
    if (hostile !== undefined) return this.giveUp('hostile', hostile);
    lost(`protocol violation: ${reason}`);
  }

  private directLost(detail: string, timedOut = false): void {
    if (this.direct?.suspended === true) {
      // A silent link kept for a restart closed (its failure counted when it went silent): the repair it stood for comes now.
      this.context.logger.debug({ peerId: this.id, detail }, 'a silent direct link closed');
      this.closeDirect();
      if (this.initiator) this.retryDirect(0);
      return;
    }
    const readyAt = this.direct?.readyAt;
    this.closeDirect();
    this.countDirectLoss(readyAt, timedOut);
    this.pathLost(`direct: ${detail}`);
  }

  /** A direct link that was ready at `readyAt` (or never) is lost: one more failure in a row, and the relay if repair.ts says so. */
  private countDirectLoss(readyAt: number | undefined, timedOut: boolean): void {
    const next = afterDirectLoss({ failures: this.failures, upForMs: readyAt === undefined ? undefined : Date.now() - readyAt, timedOut });
    this.failures = next.failures;
    if (next.startRelay) this.startRelay();
  }

  /**
   * The direct stream went silent: the path is lost (the relay takes over where it can, and
   * the repair starts) but the link is kept while no other path is ready, so that if the
   * network comes back (or an ICE restart finds the new one), the stream carries on with
   * nothing rebuilt or resent: what was in flight on it arrives.
   */
  private directSilent(path: DirectPath): void {
    if (this.direct !== path || this.phase === 'closed') return;
    suspendDirect(path);
    this.countDirectLoss(path.readyAt, false);
    // The relay is ready already (its hello came while the link still carried messages): messages
    // take it, and the link is not kept (a link heard again later would find them elsewhere).
    if (this.relay?.ready === true) this.closeDirect();
    else if (!this.initiator && path.signals.restartable) path.link.requestRestart();
    this.pathLost(`direct: nothing heard for ${Math.round(path.channel?.livenessMs ?? this.context.tunables.livenessTimeoutMs)} ms (the link is kept while it is repaired)`);
  }

  /** A silent link's stream heard again (the network came back, or an ICE restart found a path): it carries messages again. */
  private directRevived(path: DirectPath): void {
    if (this.direct !== path || !path.suspended || this.phase === 'closed') return;
    reviveDirect(path, (route) => {
      if (this.direct === path) this.events.route(route);
    });
    clearTimeout(this.retryTimer);
    this.closeRelay(); // started beside it, not ready yet (a ready one would have replaced the link)
    this.context.logger.info({ peerId: this.id }, 'the direct link is heard again: it carries on, nothing rebuilt or resent');
    this.pathChanged();
    this.reachable();
  }

  /**
   * Restarts ICE on `path`'s link (the initiator's) instead of replacing it (restarts.ts says
   * when it is replaced after all); whether it did, or one is under way, so that no new link is
   * made. `fresh`: now, even if one is under way (the peer just came back to the service).
   */
  private restartDirect(path: DirectPath, fresh: boolean): boolean {
    if (!path.signals.restartable || !this.initiator || this.quiet !== false || this.phase === 'closed' || path.restarts.failed) return false;
    if (!this.context.signaling.connected) return true; // no repair can start now; the link is kept for when the service is back
    if (path.restarts.underWay && !fresh) return true;
    this.context.logger.info({ peerId: this.id }, 'restarting ICE on the direct link');
    path.restarts.start();
    return true;
  }

  /**
   * The direct link stopped carrying messages (silent, closed, or replaced by a new offer): if
   * the relay is ready (its hello came while the link still carried them, so the session stayed
   * on the link), messages take it now.
   */
  private fallBackToRelay(): void {
    const relay = this.relay;
    if (this.phase === 'closed' || relay?.ready !== true || relay.channel === undefined || relay.hello === undefined || this.direct?.ready === true) return;
    if (this.session.writesTo(relay.channel)) return;
    this.session.activate(relay.channel, relay.hello);
    this.pathChanged();
  }

  /** A path went away: give up, or repair and wait. */
  private pathLost(detail: string, relayed = false): void {
    if (this.phase === 'closed') return;
    this.context.logger.info({ peerId: this.id, detail }, 'path to participant lost');
    const plan = afterPathLoss({
      otherPathReady: this.hasReadyPath(),
      onlyRelayLeft: this.relay?.ready === true && this.direct?.ready !== true,
      away: this.away,
      serviceReachable: this.context.signaling.connected,
      initiator: this.initiator,
      failures: this.failures,
      relayed: relayed || this.waitingForService || starvedRecently(this.context.tunables.connectTimeoutMs),
      othersAlive: this.context.othersHeardWithin(2 * this.context.tunables.heartbeatIntervalMs),
    });
    if (relayed) this.lostRelay = true;
    if (plan.action === 'carry-on') {
      this.pathChanged();
      if (plan.retryInMs !== undefined) this.retryDirect(plan.retryInMs);
      return;
    }
    this.current = undefined;
    if (plan.action === 'give-up') return this.giveUp('failed', `${detail}; no other path while the service cannot reach it`);
    if (plan.action === 'wait-for-service') {
      // Messages wait in the session (bounded by maxQueuedBytes); the pair stays listed for up to connectTimeoutMs.
      this.waitingForService = true;
      this.to('wait');
      return this.armGiveUp();
    }
    this.to('path-lost');
    this.armGiveUp();
    this.unlessPresent(detail);
    if (plan.retryInMs !== undefined) this.retryDirect(plan.retryInMs);
  }

  /** The next direct attempt, in `ms`. */
  private retryDirect(ms: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.offer(), ms);
  }

  /**
   * With every path down, asks the service whether the participant is still there. No is
   * final: its process (or a service process that took it along) is gone, so waiting
   * `connectTimeoutMs` for a repair would only keep a ghost in the presence list.
   */
  private unlessPresent(detail: string): void {
    void this.context.signaling.isPresent(this.id).then((present) => {
      // A participant whose connection went silent is not in the service's list until it comes back: that is no departure.
      if (present === false && !this.hasReadyPath() && !this.waitingForService) this.giveUp('failed', `${detail}; the service no longer has it`);
    });
  }

  /**
   * A path is usable: its stream is ready (the peer's hello in, its binding proved). Our proof
   * may still be on its way, so we probe on `channel`: the pong means the peer handled our proof
   * (records are handled in order), so it lists us too.
   */
  private reachable(channel?: PeerChannel): void {
    clearTimeout(this.giveUpTimer);
    this.giveUpTimer = undefined;
    this.waitingForService = false;
    this.lostRelay = false;
    this.silentLoss = false;
    this.to('path-up');
    if (this.listed) return;
    this.listed = true;
    this.events.open();
    if (channel === undefined) return this.events.confirmed();
    channel.confirm(CONFIRM_TIMEOUT_MS, () => {
      if (this.isOpen) this.events.confirmed();
    });
  }

  private pathChanged(): void {
    const kind: LinkKind | undefined = this.direct?.ready === true ? 'direct' : this.relay?.ready === true ? 'relayed' : undefined;
    if (kind !== undefined) this.setPath(kind);
  }

  /** Messages take `kind` now; told also before the peer is listed, so its participant object shows the path from the start. */
  private setPath(kind: LinkKind): void {
    if (kind === this.current) return;
    this.current = kind;
    this.events.path(kind);
  }

  private armGiveUp(): void {
    if (this.giveUpTimer !== undefined) return;
    const ms = this.context.tunables.connectTimeoutMs;
    this.giveUpTimer = setTimeout(() => {
      this.giveUpTimer = undefined;
      if (this.hasReadyPath()) return;
      // A relayed end that never came back is gone, not unreachable: it left the service.
      if (this.waitingForService) return this.giveUp('failed', `it did not come back to the service within ${ms} ms`);
      this.giveUp('timeout', `no path within ${ms} ms${this.context.relayAllowed ? '' : ' (relaying is off)'}`);
    }, ms);
  }

  /** Ends everything with this participant; `tellPeer` says why over the service (a refusal of its binding, from our own check). */
  private giveUp(reason: LinkCloseReason, detail: string, tellPeer = false, linger = false): void {
    if (this.phase === 'closed') return;
    if (tellPeer && this.context.signaling.connected) {
      const sid = this.direct?.sid ?? this.relay?.sid ?? randomSid();
      this.context.signaling.signal({ to: this.id, sid, data: { type: 'refuse', reason: detail.slice(0, MAX_REFUSE_REASON_CHARS) } });
    }
    this.dispose(
      reason === 'unauthenticated'
        ? new RoomError('PEER_AUTHENTICATION_FAILED', `${this.context.describe()} failed authentication: ${detail}`)
        : new RoomError('PARTICIPANT_LEFT', `the link to ${this.context.describe()} closed (${detail})`),
      linger,
    );
    this.events.closed(reason, detail);
  }

  private hasReadyDirect(): boolean {
    return this.direct?.ready === true;
  }

  private hasReadyPath(): boolean {
    return this.direct?.ready === true || this.relay?.ready === true;
  }

  private closeDirect(linger = false): void {
    const path = this.direct;
    if (path === undefined) return;
    this.direct = undefined;
    closeDirectPath(path, linger ? this.context.lingering : undefined);
    this.fallBackToRelay();
  }

  private closeRelay(): void {
    const path = this.relay;
    if (path === undefined) return;
    this.relay = undefined;
    this.retiredRelays.push(path.sid);
    if (this.retiredRelays.length > RETIRED_RELAYS) this.retiredRelays.shift();
    closeRelayPath(path);
  }
}
