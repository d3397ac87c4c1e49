// client/peer/ticker.ts: periodic ticks shared by every subscriber of a period.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { every } from '../../client/peer/ticker.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('shared ticks', () => {
  it('runs every subscriber of a period from one interval, in the same tick, until each stops', () => {
    vi.useFakeTimers();
    const seen: Array<[string, number]> = [];
    const stopA = every(500, false, (now) => seen.push(['a', now]));
    const stopB = every(500, false, (now) => seen.push(['b', now]));
    const stopC = every(200, false, () => seen.push(['c', 0]));
    expect(vi.getTimerCount()).toBe(2); // one per period, not one per subscriber
    vi.advanceTimersByTime(500);
    expect(seen.filter(([who]) => who !== 'c').map(([who]) => who)).toEqual(['a', 'b']);
    const [[, atA], [, atB]] = seen.filter(([who]) => who !== 'c') as [[string, number], [string, number]];
    expect(atA).toBe(atB); // the same tick
    stopA();
    seen.length = 0;
    vi.advanceTimersByTime(500);
    expect(seen.filter(([who]) => who !== 'c').map(([who]) => who)).toEqual(['b']);
    stopB();
    stopB(); // twice: harmless
    expect(vi.getTimerCount()).toBe(1); // the period's interval went with its last subscriber
    stopC();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a tick stop another before its turn, and keeps ticking the rest when one throws', () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    let stopB: () => void = () => {};
    const stopA = every(100, false, () => {
      calls.push('a');
      stopB();
    });
    stopB = every(100, false, () => calls.push('b'));
    const stopC = every(100, false, () => {
      calls.push('c');
      throw new Error('a broken subscriber');
    });
    const stopD = every(100, false, () => calls.push('d'));
    vi.advanceTimersByTime(100);
    expect(calls).toEqual(['a', 'c', 'd']);
    stopA();
    stopC();
    stopD();
    expect(vi.getTimerCount()).toBe(1); // the error, rethrown on its own as an interval's would be
    expect(() => vi.runOnlyPendingTimers()).toThrow('a broken subscriber');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps subscribers under fake timers apart from those on real ones', async () => {
    let real = 0;
    const stopReal = every(20, false, () => real++);
    vi.useFakeTimers();
    let fake = 0;
    const stopFake = every(20, false, () => fake++);
    vi.advanceTimersByTime(100);
    expect(fake).toBe(5);
    stopFake();
    vi.useRealTimers();
    const before = real;
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(real).toBeGreaterThan(before);
    stopReal();
  });

  it('calls the timer functions on globalThis, as a browser insists ("Illegal invocation" otherwise)', () => {
    const realSet = globalThis.setInterval;
    const realClear = globalThis.clearInterval;
    const strict = <F extends (...args: never[]) => unknown>(f: F) =>
      function (this: unknown, ...args: Parameters<F>) {
        if (this !== globalThis && this !== undefined) throw new TypeError('Illegal invocation');
        return f.apply(globalThis, args);
      };
    globalThis.setInterval = strict(realSet) as unknown as typeof setInterval;
    globalThis.clearInterval = strict(realClear) as unknown as typeof clearInterval;
    try {
      const stop = every(1_000, false, () => {});
      expect(() => stop()).not.toThrow();
    } finally {
      globalThis.setInterval = realSet;
      globalThis.clearInterval = realClear;
    }
  });

  it('gives a subscriber that asks to tick alone an interval of its own', () => {
    vi.useFakeTimers();
    let shared = 0;
    let alone = 0;
    const stopShared = every(100, false, () => shared++);
    const stopAlone = every(100, true, () => alone++);
    const stopOther = every(100, false, () => {});
    expect(vi.getTimerCount()).toBe(2); // the two shared ones on one interval, the lone one on its own
    vi.advanceTimersByTime(300);
    expect([shared, alone]).toEqual([3, 3]);
    stopAlone();
    expect(vi.getTimerCount()).toBe(1);
    stopShared();
    stopOther();
    expect(vi.getTimerCount()).toBe(0);
  });
});
