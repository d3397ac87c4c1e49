/**
 * A direct path to a peer: one link (PeerLink, or a fake), the stream on it once it opens, the
 * signals its session still takes, its timers, and its silent state. This module makes one,
 * wires the link's events to the Peer's (each only while the path is the Peer's current one),
 * and moves it between ready, kept while silent, and heard again. What to do about each event
 * (repair, relay, give up) is the Peer's (peer.ts).
 */
import type { Route } from '../participant.js';
import { PROOF_GRACE_MS, type PeerChannel } from './channel.js';
import { SessionSignals } from './guard.js';
import { openLink, type Link } from './link.js';
import type { Lingering } from './lingering.js';
import type { PeerContext } from './peer-context.js';
import { LinkRestarts } from './restarts.js';
import { watchRoute } from './route-watch.js';

export interface DirectPath {
  sid: string;
  link: Link;
  /** Its stream, once the link is open. */
  channel: PeerChannel | undefined;
  /** The peer's hello came on it, and it has not gone silent since: messages can take it. */
  ready: boolean;
  /** The signals this session still takes. */
  signals: SessionSignals;
  /** Gives the negotiation slot back (the initiator's), until the link opens. */
  release: (() => void) | undefined;
  /** No hello within directTimeoutMs (the initiator's). */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the peer's hello arrived on it. */
  readyAt: number | undefined;
  /** Stops reading its route (set while it is ready). */
  stopRouteWatch: (() => void) | undefined;
  /** Opens the relay beside a first link that is slow (the initiator's). */
  relayTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Its stream went silent and the link is kept (not `ready`): while no other path is ready,
   * it may come back by itself (the network returned) or through an ICE restart.
   */
  suspended: boolean;
  /** Its ICE restarts while it is silent (the initiator's). */
  restarts: LinkRestarts;
}

/** What the path tells its Peer; none of it once the path is no longer the Peer's current one. */
export interface DirectPathEvents {
  /** Whether `path` is still the Peer's direct path (and the Peer is not closed). */
  current(path: DirectPath): boolean;
  /** Its link is open (its `connect`, or data first): its stream starts. */
  opened(path: DirectPath): void;
  /** It is lost: its link closed or failed, or (`timedOut`) no hello came within directTimeoutMs. */
  lost(path: DirectPath, detail: string, timedOut: boolean): void;
  /** The peer broke the rules of the link (a data channel it may not open, text on the bulk channel). */
  broken(path: DirectPath, reason: string): void;
  /** A pair's first link is slow to open (relayAfterMs): time to relay beside it. */
  slow(path: DirectPath): void;
  /** An ICE restart had its time and the link is still silent (restarts.ts). */
  restartExpired(path: DirectPath): void;
}

export interface DirectPathOptions {
  /** The peer's id, and the link session's. */
  to: string;
  sid: string;
  initiator: boolean;
  release: (() => void) | undefined;
  /** The pair has never had a path: a slow first link gets the relay beside it. */
  first: boolean;
  context: Pick<PeerContext, 'rtc' | 'rtcConfig' | 'tunables' | 'signaling' | 'logger' | 'links'>;
}

/**
 * An initiator keeps its negotiation slot this long after its own gathering completes, unless
 * its link opens first (an honest link opens soon after gathering): honest links keep the
 * limiter's old rule (a slot until the link opens), while a peer that never answers frees its
 * slot soon. Holding slots to the 2 s cap let a few stalled sybils keep a newcomer waiting
 * seconds (docs/performance.md, "Measurements behind the code").
 */
const SLOT_AFTER_GATHERING_MS = 250;

/** Makes a direct path: its link (which offers at once, for the initiator) and its timers. */
export function openDirectPath(options: DirectPathOptions, events: DirectPathEvents): DirectPath {
  const { to, sid, initiator, context } = options;
  const { tunables } = context;
  let path: DirectPath | undefined;
  const isCurrent = (): boolean => path !== undefined && events.current(path);
  const link = (context.links ?? openLink)(
    { initiator, rtc: context.rtc, config: context.rtcConfig },
    {
      signal: (data) => {
        if (isCurrent()) context.signaling.signal({ to, sid, data });
      },
      open: () => {
        if (path !== undefined && isCurrent()) events.opened(path);
        else path?.channel?.kick();
      },
      data: (bytes) => {
        if (path === undefined || !isCurrent()) return;
        // The responder's `connect` can trail the first data by tens of ms: data proves the link is open.
        if (path.channel === undefined) events.opened(path);
        path.channel?.receive(bytes);
      },
      close: (reason, local) => {
        if (path === undefined || !isCurrent()) return;
        if (local) context.logger.warn({ peerId: to, detail: reason }, 'a direct link could not be opened: this side\'s WebRTC stack failed');
        events.lost(path, reason, false);
      },
      broken: (reason) => {
        if (path !== undefined && isCurrent()) events.broken(path, reason);
      },
      // The slot limits concurrent negotiations; waiting long for a peer that may never answer needs none.
      gathered: () => {
        const release = path?.release;
        if (release !== undefined) setTimeout(release, SLOT_AFTER_GATHERING_MS);
      },
      bulkOpen: () => {
        if (isCurrent()) path?.channel?.attachBulk(link.bulk);
      },
      bulkData: (bytes) => {
        if (path === undefined || !isCurrent()) return;
        if (path.channel === undefined) events.opened(path);
        path.channel?.receiveBulk(bytes);
      },
      datagramsOpen: (channel) => {
        if (isCurrent()) path?.channel?.attachDatagrams(channel, link.datagrams[channel]);
      },
      datagramData: (channel, bytes) => {
        if (path === undefined || !isCurrent()) return;
        if (path.channel === undefined) events.opened(path);
        path.channel?.receiveDatagrams(channel, bytes);
      },
    },
  );
  const signals = new SessionSignals(initiator);
  const made: DirectPath = {
    sid,
    link,
    channel: undefined,
    ready: false,
    release: options.release,
    timer: undefined,
    readyAt: undefined,
    stopRouteWatch: undefined,
    relayTimer: undefined,
    signals,
    suspended: false,
    restarts: new LinkRestarts(link, signals, () => {
      if (isCurrent()) events.restartExpired(made);
    }),
  };
  path = made;
  if (initiator) {
    made.timer = setTimeout(() => {
      if (!isCurrent() || made.ready) return;
      // Open, and the peer said hello, but never proved it: refused, not merely slow.
      if (made.channel?.expireProof(PROOF_GRACE_MS) === true) return;
      events.lost(made, `no direct link within ${tunables.directTimeoutMs} ms`, true);
    }, tunables.directTimeoutMs);
    // Make before break, while the pair has never had a path: a first direct link slow to open gets
    // the relay beside it, and replaces it when it opens. (Repairs keep their rule: the relay after
    // a second failure in a row.)
    if (options.first) {
      made.relayTimer = setTimeout(() => {
        if (isCurrent() && !made.ready) events.slow(made);
      }, Math.min(tunables.relayAfterMs, tunables.directTimeoutMs));
    }
  }
  return made;
}

/** The peer's hello came on it: messages can take it; its route is read (`route`) while it is up. */
export function directReady(path: DirectPath, route: (route: Route) => void): void {
  path.ready = true;
  clearTimeout(path.timer);
  clearTimeout(path.relayTimer);
  path.readyAt = Date.now();
  path.stopRouteWatch ??= watchRoute(path.link, route);
}

/** Its stream went silent: kept, not ready. */
export function suspendDirect(path: DirectPath): void {
  path.ready = false;
  path.suspended = true;
  path.stopRouteWatch?.();
  path.stopRouteWatch = undefined;
}

/** Its stream is heard again after a silence: ready again, on the same stream. */
export function reviveDirect(path: DirectPath, route: (route: Route) => void): void {
  path.suspended = false;
  path.restarts.stop();
  directReady(path, route);
}

/**
 * Ends it: its timers, its restarts, its route reading, its negotiation slot, its stream and its
 * link; with `lingering`, the link's connection stays open (silent) for the peer to close first.
 */
export function closeDirectPath(path: DirectPath, lingering?: Lingering): void {
  clearTimeout(path.timer);
  clearTimeout(path.relayTimer);
  path.restarts.stop();
  path.stopRouteWatch?.();
  path.release?.();
  path.channel?.close();
  if (lingering === undefined) path.link.close();
  else lingering.hold((closed) => path.link.closeLater(closed));
}
