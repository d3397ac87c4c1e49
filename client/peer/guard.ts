/**
 * What a peer may ask of us, so that a hostile one cannot turn our signaling budget, CPU and
 * file descriptors against us: every new session makes us build an RTCPeerConnection (or a
 * relay stream's keys) and answer. Per link session, one offer, one answer and a bounded
 * number of candidates; per peer, over a minute, a bounded number of new sessions and broken
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
  /** ICE candidates accepted per link session. */
  candidates: 64,
} as const;

/** The signals one link session still takes. */
export class SessionSignals {
  private offered = false;
  private answered = false;
  private candidates = 0;

  constructor(private readonly initiator: boolean) {}

  /** `take` it, `drop` it quietly, or drop it as a violation (the reason, once per session). */
  admit(type: SignalData['type']): 'take' | 'drop' | { violation: string } {
    switch (type) {
      case 'renegotiate':
        return 'drop'; // a link carries one data channel and is never renegotiated
      case 'offer':
        if (this.initiator || this.offered) return 'drop';
        this.offered = true;
        return 'take';
      case 'answer':
        if (!this.initiator || this.answered) return 'drop';
        this.answered = true;
        return 'take';
      case 'candidate':
        if (++this.candidates <= HOSTILE.candidates) return 'take';
        return this.candidates === HOSTILE.candidates + 1 ? { violation: `more than ${HOSTILE.candidates} ICE candidates on one link session; the rest are dropped` } : 'drop';
    }
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
