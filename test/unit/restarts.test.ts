/**
 * The ICE restarts of a silent link (LinkRestarts) on a fake link and the real signal budget
 * (SessionSignals), on fake timers: an unanswered restart is sent again, an answered one that
 * does not bring the link back makes the next repair a new link.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionSignals } from '../../client/peer/guard.js';
import { LinkRestarts, RESTART_TIMEOUT_MS, type RestartableLink } from '../../client/peer/restarts.js';

afterEach(() => void vi.useRealTimers());

/** A link whose restart offer stays unanswered until `answer()`: what simple-peer does (PeerLink.restartIce). */
function fakeLink(signals: SessionSignals): RestartableLink & { offers: string[]; answer(): void } {
  let negotiating = false;
  const offers: string[] = [];
  return {
    offers,
    restartIce: () => {
      offers.push(negotiating ? 'again' : 'new');
      if (negotiating) return 'again';
      negotiating = true;
      return 'new';
    },
    answer: () => {
      expect(signals.admit('answer')).toBe('take');
      negotiating = false;
    },
  };
}

function setup(): { restarts: LinkRestarts; link: ReturnType<typeof fakeLink>; expired: number[] } {
  vi.useFakeTimers();
  const signals = new SessionSignals(true);
  expect(signals.admit('answer')).toBe('take'); // the link's first answer
  signals.allowRestarts(); // both hellos said `restart`
  const link = fakeLink(signals);
  const expired: number[] = [];
  const started = Date.now();
  const restarts = new LinkRestarts(link, signals, () => void expired.push(Date.now() - started));
  return { restarts, link, expired };
}

describe('the ICE restarts of a silent link', () => {
  it('sends an unanswered restart again rather than giving the link up: the peer was unreachable through the service too', async () => {
    const { restarts, link, expired } = setup();
    restarts.start();
    expect(restarts.underWay).toBe(true);
    await vi.advanceTimersByTimeAsync(RESTART_TIMEOUT_MS);
    expect([expired, restarts.failed, restarts.underWay]).toEqual([[RESTART_TIMEOUT_MS], false, false]);
    restarts.start(); // the repair that follows: the same offer again, no second answer due
    restarts.start(); // the peer is back at the service: at once, and the timer starts afresh
    await vi.advanceTimersByTimeAsync(RESTART_TIMEOUT_MS);
    expect(link.offers).toEqual(['new', 'again', 'again']);
    expect([expired.length, restarts.failed]).toEqual([2, false]);
  });

  it('an answered restart that leaves the link silent has failed: the next repair is a new link', async () => {
    const { restarts, link, expired } = setup();
    restarts.start();
    link.answer();
    await vi.advanceTimersByTimeAsync(RESTART_TIMEOUT_MS - 1);
    expect([expired, restarts.failed]).toEqual([[], false]);
    await vi.advanceTimersByTimeAsync(1);
    expect([expired, restarts.failed]).toEqual([[RESTART_TIMEOUT_MS], true]);
  });

  it('a link heard again (or closed) stops waiting, and starts the next silence with a clean slate', async () => {
    const { restarts, link, expired } = setup();
    restarts.start();
    link.answer();
    await vi.advanceTimersByTimeAsync(RESTART_TIMEOUT_MS);
    expect(restarts.failed).toBe(true);
    restarts.stop();
    expect(restarts.failed).toBe(false);
    restarts.start(); // the next silence: a new restart, whose answer is due
    await vi.advanceTimersByTimeAsync(RESTART_TIMEOUT_MS / 2);
    restarts.stop(); // heard again
    await vi.advanceTimersByTimeAsync(RESTART_TIMEOUT_MS);
    expect([link.offers, expired.length, restarts.underWay]).toEqual([['new', 'new'], 1, false]);
  });
});
