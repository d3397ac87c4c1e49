/**
 * What a Peer is given (its context: the stack, the tunables, the signaling client, the
 * limiter, how to make links) and what it tells (its events). peer.ts is the Peer itself.
 */
import type { SignalRequest } from '../../protocol/signaling.js';
import type { Limiter } from './limiter.js';
import type { Logger, RtcImplementation, Tunables } from '../options.js';
import type { LinkKind, Route } from '../participant.js';
import type { LinkFactory } from './link.js';
import type { Lingering } from './lingering.js';
import type { SessionEvents } from './session.js';
import type { RelaySender } from './relay-transport.js';
import type { StreamAuth } from '../trust/trust.js';

/**
 * `hostile`: the peer broke the rules past what repairs explain (guard.ts); `unauthenticated`: a
 * stream to it did not prove its identity key (trust/binding.ts). Either way it is not linked
 * again for a while.
 */
export type LinkCloseReason = 'bye' | 'failed' | 'timeout' | 'hostile' | 'unauthenticated';

/** What a peer reports; the session's own events (message, refused, violation) go straight to the same handlers. */
export interface PeerEvents extends SessionEvents {
  /** A message to this participant can now be delivered (first path up). */
  open(): void;
  /** …and this participant lists us too (for a responder: its probe through the first path came back). */
  confirmed(): void;
  /** Given up; never called after `dispose()`. */
  closed(reason: LinkCloseReason, detail: string): void;
  /** The path messages take changed. */
  path(kind: LinkKind): void;
  /** The direct link's selected candidate pair, read now and then while it is up. */
  route(route: Route): void;
}

/** What a peer needs of the signaling client. */
export interface PeerSignaling extends RelaySender {
  signal(request: SignalRequest): void;
  /** Whether the service still has this participant; undefined when it cannot say. */
  isPresent(id: string): Promise<boolean | undefined>;
  /** A link to `id` went quiet: check that our own connection to the service still answers (and reconnect if not). */
  verify(id: string, dead?: () => void): void;
}

export interface PeerContext {
  rtc: RtcImplementation;
  rtcConfig: Record<string, unknown> & { iceServers: unknown[] };
  tunables: Tunables;
  logger: Logger;
  relayAllowed: boolean;
  limiter: Limiter;
  signaling: PeerSignaling;
  /** This participant's id (it names the direction of a relay stream's keys). */
  localId: string;
  /** The largest frame the service relays (from the payload limit it announced). */
  relayFrameBytes(): number;
  /** Whether some other participant's direct link was heard from within `ms` (this side's network works). */
  othersHeardWithin(ms: number): boolean;
  /** How errors name the remote participant (by name, with its id). */
  describe(): string;
  /** The binding of a new stream to this participant (each stream its own nonce). */
  auth(): StreamAuth;
  /** Where a link to a peer that said goodbye waits for that peer to close its end (lingering.ts). */
  lingering: Lingering;
  /** Makes direct links (tests give fakes); PeerLinks by default. */
  links?: LinkFactory;
}
