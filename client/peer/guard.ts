/**
 * What a peer may ask of us, so that a hostile one cannot turn our signaling budget, CPU and
 * file descriptors against us: every new session makes us build an RTCPeerConnection (or a
 * relay stream's keys) and answer. Per link session, one offer, one answer and a bounded
 * number of candidates (and as many again for each of a bounded number of ICE restarts); per peer, over a minute, a bounded number of new sessions and broken
 * streams, past which the peer is hostile. Pure but for the clock, which is passed in.
 */
import type { SignalData } from '../../protocol/signaling.js';
import { Strikes } from './strikes.js';

/**
 * What an honest peer never does, measured over a minute. An honest initiator repairs a link
 * at once and then with backoff from 1 s, and starts a relay stream beside each repair of a
 * link that was up: on a path that keeps failing, some twelve new sessions in the worst minute
 * (six repairs, each a link and a relay stream). Twice that is hostile.
 */
export const HOSTILE = {
  windowMs: 60_000,
  /** New link or relay sessions the peer starts. */
  sessions: 24,
  /** Streams closed because the peer broke the wire protocol. */
  breaks: 3,
  /** ICE candidates accepted per link session, and again per ICE restart. */
  candidates: 64,
  /** ICE restarts (an offer and its answer, or a request for one) per link session. */
  restarts: 8,
} as const;

/**
 * The signals one link session still takes: one offer and its answer. Once both ends have said
 * they restart ICE (their hellos; `allowRestarts`), up to HOSTILE.restarts more: offers (the
 * responder takes them), requests for one (`renegotiate`, the initiator takes them), and an
 * answer for each restart the initiator made (`restarted`); each restart brings a fresh budget
 * of candidates.
 */
export class SessionSignals {
  private offers = 0;
  private answers = 0;
  private requests = 0;
  private candidates = 0;
  /** Offers the initiator made: it takes an answer for each, none beyond. */
  private offersMade = 1;
  private restartsAllowed = false;

  constructor(private readonly initiator: boolean) {}

  /** Both ends restart ICE on this link (their hellos said so). */
  allowRestarts(): void {
    this.restartsAllowed = true;
  }

  /** Whether both ends said they restart ICE on this link. */
  get restartable(): boolean {
    return this.restartsAllowed;
  }

  /** The initiator restarted ICE: one more answer is due. */
  restarted(): void {
    if (this.initiator && this.restartsAllowed) this.offersMade = Math.min(this.offersMade + 1, 1 + HOSTILE.restarts);
  }

  /** `take` it, `drop` it quietly, or drop it as a violation (the reason, once per session). */
  admit(type: SignalData['type']): 'take' | 'drop' | { violation: string } {
    switch (type) {
      case 'renegotiate':
        if (!this.initiator || !this.restartsAllowed) return 'drop';
        return ++this.requests <= HOSTILE.restarts ? 'take' : this.excess('requests for an ICE restart', this.requests);
      case 'offer':
        if (this.initiator || (this.offers > 0 && !this.restartsAllowed)) return 'drop';
        return ++this.offers <= 1 + HOSTILE.restarts ? 'take' : this.excess('ICE restarts', this.offers - 1);
      case 'answer':
        if (!this.initiator || this.answers >= this.offersMade) return 'drop';
        this.answers++;
        return 'take';
      case 'candidate': {
        const budget = HOSTILE.candidates * Math.max(1, Math.min(this.offers, 1 + HOSTILE.restarts), this.offersMade);
        if (++this.candidates <= budget) return 'take';
        return this.candidates === budget + 1 ? { violation: `more than ${HOSTILE.candidates} ICE candidates per offer on one link session; the rest are dropped` } : 'drop';
      }
      case 'refuse':
        return 'drop'; // the peer handles a refusal before any session's signals
    }
  }

  /** Whether the initiator's last restart was answered. */
  get restartAnswered(): boolean {
    return this.answers >= this.offersMade;
  }

  private excess(what: string, n: number): 'drop' | { violation: string } {
    return n === HOSTILE.restarts + 1 ? { violation: `more than ${HOSTILE.restarts} ${what} on one link session; the rest are dropped` } : 'drop';
  }
}

/** One peer's new sessions and broken streams; each returns why the peer is hostile, once it is. */
export class PeerGuard {
  private readonly sessions = new Strikes(HOSTILE.windowMs);
  private readonly breaks = new Strikes(HOSTILE.windowMs);

  sessionStarted(what: 'link' | 'relay', now: number): string | undefined {
    const count = this.sessions.hit(now);
    return count <= HOSTILE.sessions ? undefined : `it started ${count} ${what} sessions within ${HOSTILE.windowMs / 1000} s`;
  }

  streamBroken(reason: string, now: number): string | undefined {
    const count = this.breaks.hit(now);
    return count < HOSTILE.breaks ? undefined : `it broke the wire protocol on ${count} streams within ${HOSTILE.windowMs / 1000} s (last: ${reason})`;
  }
}
