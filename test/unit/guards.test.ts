import { afterEach, describe, expect, it, vi } from 'vitest';
import { HOSTILE, PeerGuard, SessionSignals } from '../../client/peer/guard.js';
import { Limiter } from '../../client/peer/limiter.js';
import { Strikes } from '../../client/peer/strikes.js';
import { ViolationLog } from '../../client/violation-log.js';
import { ConnectionsPerAddress, clientAddress, countedAs } from '../../signaling/connections.js';
import { FloodLimiter, KeyedBuckets } from '../../signaling/rate-limit.js';
import { captureLogger } from '../helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('flood limiter', () => {
  const limits = { perSecond: 10, burst: 20, perTargetPerSecond: 2, perTargetBurst: 5 };

  it('drops requests over the rate, and disconnects once the drops are worth another burst', () => {
    const limiter = new FloodLimiter(limits, 0);
    const verdicts = Array.from({ length: 41 }, () => limiter.admit(0));
    expect(verdicts.slice(0, 20).every((v) => v === 'pass')).toBe(true);
    expect(verdicts.slice(20, 40).every((v) => v === 'drop')).toBe(true);
    expect(verdicts[40]).toBe('disconnect');
    // Time refills the bucket.
    expect(new FloodLimiter(limits, 0).admit(10_000)).toBe('pass');
  });

  it('meters signals per target: one flooded pair leaves the others alone, and signals alone never disconnect below ten bursts', () => {
    const limiter = new FloodLimiter(limits, 0);
    const toHostile = Array.from({ length: 100 }, () => limiter.admit(0, 'hostile'));
    expect(toHostile.filter((v) => v === 'pass')).toHaveLength(5);
    expect(toHostile.includes('disconnect')).toBe(false);
    expect(limiter.admit(0, 'friend')).toBe('pass'); // another pair's signals still go
    expect(limiter.admit(0)).toBe('pass'); // and so do requests
    // Only a flood no honest client makes (ten bursts of drops) disconnects.
    const verdicts = Array.from({ length: 10 * limits.burst + 10 }, () => limiter.admit(0, 'hostile'));
    expect(verdicts.at(-1)).toBe('disconnect');
  });
});

describe('keyed buckets', () => {
  it('keeps a limit per key, forgetting the least recently used beyond its size', () => {
    const buckets = new KeyedBuckets(1 / 60, 2, 2);
    expect([buckets.take('a', 0), buckets.take('a', 0), buckets.take('a', 0)]).toEqual([true, true, false]);
    expect(buckets.take('b', 0)).toBe(true);
    expect(buckets.take('a', 1000)).toBe(false); // a is the most recent now; c pushes b out
    expect(buckets.take('c', 0)).toBe(true);
    expect(buckets.take('a', 1000)).toBe(false); // a was kept: reconnecting does not refill it
  });
});

describe('connections per address', () => {
  it('reads X-Forwarded-For only when the proxy is trusted, and then its last entry', () => {
    expect(clientAddress('::ffff:127.0.0.1', '203.0.113.9', false)).toBe('127.0.0.1');
    expect(clientAddress('10.0.0.2', '198.51.100.1, 203.0.113.9', true)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.2', ['198.51.100.1', '203.0.113.9 '], true)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.2', '', true)).toBe('10.0.0.2');
  });

  it('admits up to the cap per address, and frees a place when a connection closes', () => {
    const tracker = new ConnectionsPerAddress(2);
    expect([tracker.open('a'), tracker.open('a'), tracker.open('a'), tracker.open('b')]).toEqual([true, true, false, true]);
    tracker.close('a');
    expect(tracker.open('a')).toBe(true);
    tracker.close('a');
    tracker.close('a');
    tracker.close('b');
    expect(tracker.addresses).toBe(0);
  });
  it('counts an IPv6 client by its /64, so that addresses it picks within it count as one', () => {
    expect(countedAs('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(countedAs('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(countedAs('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(countedAs('::1')).toBe('0:0:0:0::/64');
    expect(countedAs('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(countedAs('203.0.113.9')).toBe('203.0.113.9');
    const tracker = new ConnectionsPerAddress(2);
    expect([tracker.open('2001:db8:0:1::a'), tracker.open('2001:db8:0:1:1234::b'), tracker.open('2001:db8:0:1::c'), tracker.open('2001:db8:0:2::a')]).toEqual([true, true, false, true]);
    expect(tracker.count('2001:db8:0:1::ffff')).toBe(2);
  });
});

describe('strikes', () => {
  it('counts events within the window only', () => {
    const strikes = new Strikes(1000);
    expect([strikes.hit(0), strikes.hit(500), strikes.hit(999), strikes.hit(1500), strikes.hit(3000)]).toEqual([1, 2, 3, 2, 1]);
  });
});

describe('negotiation limiter', () => {
  it('lets peers negotiating afresh go before peers whose links keep failing', async () => {
    const limiter = new Limiter(1, 60_000);
    const first = await limiter.acquire();
    const order: string[] = [];
    const stalled = limiter.acquire(3).then((release) => (order.push('stalled'), release));
    const fresh = limiter.acquire(0).then((release) => (order.push('fresh'), release));
    first();
    (await fresh)();
    (await stalled)();
    expect(order).toEqual(['fresh', 'stalled']);
  });

  it('takes a slot back from a negotiation that holds it too long', async () => {
    vi.useFakeTimers();
    const limiter = new Limiter(1, 2000);
    await limiter.acquire(); // never released: a peer that never answers
    let granted = false;
    const next = limiter.acquire().then((release) => ((granted = true), release));
    await vi.advanceTimersByTimeAsync(1999);
    expect(granted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    (await next)();
    expect([granted, limiter.inUse, limiter.queued]).toEqual([true, 0, 0]);
  });
});

describe('violation log', () => {
  it('logs a peer\'s first violation at once and the rest of the window as one counted line', async () => {
    vi.useFakeTimers();
    const logger = captureLogger();
    const log = new ViolationLog(logger, 5000);
    for (let i = 0; i < 10_000; i++) log.record('hostile', `frame ${i}`);
    log.record('other', 'one');
    expect(logger.entries.map((e) => e.fields)).toEqual([
      { peerId: 'hostile', reason: 'frame 0', count: 1 },
      { peerId: 'other', reason: 'one', count: 1 },
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(logger.entries.map((e) => e.fields).at(-1)).toEqual({ peerId: 'hostile', reason: 'frame 9999', count: 9999 });
    expect(logger.entries).toHaveLength(3);
  });
});

describe('peer guard', () => {
  it('takes one offer (responder), one answer (initiator) and a bounded number of candidates per session', () => {
    const responder = new SessionSignals(false);
    expect([responder.admit('offer'), responder.admit('offer'), responder.admit('answer'), responder.admit('renegotiate')]).toEqual(['take', 'drop', 'drop', 'drop']);
    const initiator = new SessionSignals(true);
    expect([initiator.admit('offer'), initiator.admit('answer'), initiator.admit('answer')]).toEqual(['drop', 'take', 'drop']);
    const verdicts = Array.from({ length: HOSTILE.candidates + 3 }, () => initiator.admit('candidate'));
    expect(verdicts.filter((v) => v === 'take')).toHaveLength(HOSTILE.candidates);
    expect(verdicts.filter((v) => typeof v === 'object')).toHaveLength(1); // reported once, then dropped quietly
  });

  it('takes ICE restarts on a session only once both ends said they restart: bounded offers, an answer per restart made, bounded requests, fresh candidates', () => {
    const responder = new SessionSignals(false);
    expect([responder.admit('offer'), responder.admit('offer')]).toEqual(['take', 'drop']); // no restarts agreed yet
    responder.allowRestarts();
    const offers = Array.from({ length: HOSTILE.restarts + 2 }, () => responder.admit('offer'));
    // The first offer was taken before; HOSTILE.restarts - 1 more restarts fit, then one violation and quiet drops.
    expect(offers.filter((v) => v === 'take')).toHaveLength(HOSTILE.restarts);
    expect(offers.filter((v) => typeof v === 'object')).toHaveLength(1);
    expect(responder.admit('renegotiate')).toBe('drop'); // only the initiator is asked for a restart
    const candidates = Array.from({ length: HOSTILE.candidates * (HOSTILE.restarts + 1) + 1 }, () => responder.admit('candidate'));
    expect(candidates.filter((v) => v === 'take')).toHaveLength(HOSTILE.candidates * (HOSTILE.restarts + 1));

    const initiator = new SessionSignals(true);
    expect(initiator.admit('answer')).toBe('take');
    expect(initiator.admit('renegotiate')).toBe('drop'); // not agreed yet
    initiator.restarted(); // not agreed: no answer is due
    expect(initiator.admit('answer')).toBe('drop');
    initiator.allowRestarts();
    expect(initiator.restartAnswered).toBe(true);
    initiator.restarted();
    expect(initiator.restartAnswered).toBe(false);
    expect([initiator.admit('answer'), initiator.admit('answer')]).toEqual(['take', 'drop']); // one answer per restart made
    expect(initiator.restartAnswered).toBe(true);
    const requests = Array.from({ length: HOSTILE.restarts + 2 }, () => initiator.admit('renegotiate'));
    expect(requests.filter((v) => v === 'take')).toHaveLength(HOSTILE.restarts);
    expect(requests.filter((v) => typeof v === 'object')).toHaveLength(1);
  });

  it('calls a peer hostile past 24 new sessions or 3 broken streams a minute, and forgives older ones', () => {
    const guard = new PeerGuard();
    const sessions = Array.from({ length: HOSTILE.sessions + 1 }, (_, i) => guard.sessionStarted('link', i * 1000));
    expect(sessions.slice(0, HOSTILE.sessions).every((v) => v === undefined)).toBe(true);
    expect(sessions.at(-1)).toMatch(new RegExp(`started ${HOSTILE.sessions + 1} link sessions within 60 s`));
    expect(new PeerGuard().sessionStarted('relay', 0)).toBeUndefined();
    const later = new PeerGuard();
    for (let i = 0; i < HOSTILE.sessions; i++) later.sessionStarted('link', 0);
    expect(later.sessionStarted('link', HOSTILE.windowMs + 1)).toBeUndefined(); // the earlier ones are out of the window
    const breaking = new PeerGuard();
    expect([breaking.streamBroken('a', 0), breaking.streamBroken('b', 1)]).toEqual([undefined, undefined]);
    expect(breaking.streamBroken('c', 2)).toMatch(/broke the wire protocol on 3 streams .*last: c/);
  });
});
