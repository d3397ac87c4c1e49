/**
 * The repair and fallback rules of a pair, as pure functions of what happened, so that they
 * can be read and tested apart from the timers and links they drive (peer.ts applies them).
 *
 * The state a Peer keeps, explicitly:
 *   - `phase` (PEER_TRANSITIONS below) and `listed` (a path once carried a hello: the participant is in the presence list);
 *   - `failures`: direct links lost in a row (reset by a link that stayed up STABLE_LINK_MS);
 *   - `away`: the service says the participant's connection dropped (it stays while a link answers);
 *   - `attempting`: an offer waits for a negotiation slot; `current`: the path messages take;
 *   - timers: the retry (next offer) and the give-up (`connectTimeoutMs` without a path).
 */

/**
 * Where a pair's paths stand (docs: ARCHITECTURE.md, "The states of a peer"). Whether the
 * participant is listed is kept beside it: a pair waiting for the service may never have had a path.
 */
export type PeerPhase = 'connecting' | 'linked' | 'repairing' | 'waiting' | 'closed';
/** What moves a phase: a stream's hello (a path is up), the last path lost with repairs to try, or with the service needed first, the end. */
export type PeerPhaseEvent = 'path-up' | 'path-lost' | 'wait' | 'end';

/** Every transition; what is not listed leaves the phase as it is. */
export const PEER_TRANSITIONS: Readonly<Record<PeerPhase, Readonly<Partial<Record<PeerPhaseEvent, PeerPhase>>>>> = {
  connecting: { 'path-up': 'linked', wait: 'waiting', end: 'closed' },
  linked: { 'path-lost': 'repairing', wait: 'waiting', end: 'closed' },
  repairing: { 'path-up': 'linked', wait: 'waiting', end: 'closed' },
  waiting: { 'path-up': 'linked', end: 'closed' },
  closed: {},
};

/** The one function that moves a phase. */
export const nextPhase = (phase: PeerPhase, event: PeerPhaseEvent): PeerPhase => PEER_TRANSITIONS[phase][event] ?? phase;

/** A direct link that failed within this long of opening counts as failing again, not as a fresh start. */
export const STABLE_LINK_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

export interface DirectLoss {
  /** Failures in a row before this one. */
  failures: number;
  /** How long the link had been up (its peer's hello in), or undefined if it never was. */
  upForMs: number | undefined;
  /** No link opened within `directTimeoutMs`. */
  timedOut: boolean;
}

/**
 * After a direct link is lost: the failures in a row now, and whether the initiator should start
 * relaying. A link that was up and died (its network changed, UDP was cut) hands its traffic to
 * the relay at once, beside the direct retry: waiting for that retry to time out first kept
 * messages waiting a liveness period plus `directTimeoutMs` (8 s in the lab's UDP cut).
 */
export function afterDirectLoss(loss: DirectLoss): { failures: number; startRelay: boolean } {
  const failures = (loss.upForMs !== undefined && loss.upForMs >= STABLE_LINK_MS ? 0 : loss.failures) + 1;
  return { failures, startRelay: loss.timedOut || failures >= 2 || loss.upForMs !== undefined };
}

export interface PathLoss {
  /** Another path (direct or relayed) is still ready. */
  otherPathReady: boolean;
  /** That other path is the relay alone (no direct link is up). */
  onlyRelayLeft: boolean;
  /** The service says the participant's connection dropped. */
  away: boolean;
  /** Our own connection to the service is up. */
  serviceReachable: boolean;
  initiator: boolean;
  failures: number;
  /** The pair was on the relay (no direct link up): the service is its path, so it waits for the service. */
  relayed: boolean;
  /**
   * Other participants' direct links were heard from just now: this side's network works, so
   * a link that died while the service is unreachable too says the participant is gone.
   */
  othersAlive: boolean;
}

export type PathLossPlan =
  /** Carry on over the other path; on the relay alone, the initiator tries a direct link again after `retryInMs`. */
  | { action: 'carry-on'; retryInMs: number | undefined }
  /** No path is left and none can be made (its connection to the service closed): the participant is given up. */
  | { action: 'give-up' }
  /** Wait for a repair (the give-up timer runs); the initiator offers again after `retryInMs`. */
  | { action: 'repair'; retryInMs: number | undefined }
  /**
   * No path, and the service cannot help yet (ours is unreachable, or the participant's went
   * silent): the session keeps its messages and the pair waits (the give-up timer runs) for both
   * ends to be back, when the initiator offers (and, if the pair was relayed, relays) again.
   */
  | { action: 'wait-for-service' };

/**
 * After the relay stream failed `failures` times in a row while the service is up (it refused a
 * frame, the stream could not be sealed, it went silent): when the initiator begins another. At
 * once, then 1 s doubling to 8 s. Waiting for the next direct attempt instead (its backoff grows
 * to 30 s) let a relayed pair be given up at `connectTimeoutMs` with the service there all along.
 */
export const relayRetryAfter = (failures: number): number => (failures <= 1 ? 0 : Math.min(8_000, 1000 * 2 ** (failures - 2)));

/** The initiator's next direct attempt after `failures` in a row: at once after the first, then backing off from 1 s, doubling to 30 s. */
const retryAfter = (failures: number): number => (failures <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 2)));

/**
 * After a path is lost: carry on, give up, or repair. A pair left on the relay keeps trying
 * direct links, with backoff, for as long as it is relayed: a failed upgrade is not the last.
 */
export function afterPathLoss(loss: PathLoss): PathLossPlan {
  if (loss.otherPathReady) return { action: 'carry-on', retryInMs: loss.onlyRelayLeft && loss.initiator ? Math.max(1000, retryAfter(loss.failures)) : undefined };
  // Our own connection is down too: most likely our network is (a blip, a move between networks),
  // unless other links still answer. Nothing says the participant left, so its messages wait.
  if (!loss.serviceReachable) return loss.othersAlive && !loss.relayed ? { action: 'give-up' } : { action: 'wait-for-service' };
  if (loss.away) return loss.relayed ? { action: 'wait-for-service' } : { action: 'give-up' };
  if (!loss.initiator) return { action: 'repair', retryInMs: undefined };
  return { action: 'repair', retryInMs: retryAfter(loss.failures) };
}
