import { afterEach, describe, expect, it, vi } from 'vitest';
import { Pacer, type PacerSink } from '../../client/wire/pacer.js';

/** A channel whose buffer drains only when the test says so. */
class FakeChannel implements PacerSink {
  isOpen = true;
  bufferedAmount = 0;
  maxPacketBytes = 100;
  sent: Uint8Array[] = [];
  send(packet: Uint8Array): void {
    this.sent.push(packet);
    this.bufferedAmount += packet.length;
  }
}

const OPTIONS = { highWaterMark: 300, lowWaterMark: 100, pollIntervalMs: 5 };

function source(count: number) {
  let left = count;
  const asked: number[] = [];
  return {
    asked,
    nextPacket(max: number) {
      asked.push(max);
      return left-- > 0 ? new Uint8Array(max) : null;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('pacer', () => {
  it('sends nothing until the microtask, then pumps everything queued in one go', async () => {
    const channel = new FakeChannel();
    const src = source(2);
    const pacer = new Pacer(channel, src, OPTIONS);
    pacer.kick();
    pacer.kick();
    pacer.kick();
    expect(channel.sent).toHaveLength(0);
    await Promise.resolve();
    expect(channel.sent).toHaveLength(2);
    expect(src.asked.every((max) => max === 100)).toBe(true);
  });

  it('stops at the high mark and resumes only once the buffer is below the low mark', async () => {
    vi.useFakeTimers();
    const channel = new FakeChannel();
    const pacer = new Pacer(channel, source(10), OPTIONS);
    pacer.kick();
    await Promise.resolve();
    expect(channel.sent).toHaveLength(3); // 300 buffered: at the high mark
    expect(pacer.waiting).toBe(true);
    channel.bufferedAmount = 150; // drained, but not below the low mark
    await vi.advanceTimersByTimeAsync(20);
    expect(channel.sent).toHaveLength(3);
    channel.bufferedAmount = 100;
    await vi.advanceTimersByTimeAsync(5);
    expect(channel.sent).toHaveLength(5); // refilled up to the high mark again
    pacer.stop();
    channel.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(50);
    expect(channel.sent).toHaveLength(5);
  });

  it('does not send on a closed channel', async () => {
    const channel = new FakeChannel();
    channel.isOpen = false;
    new Pacer(channel, source(1), OPTIONS).kick();
    await Promise.resolve();
    expect(channel.sent).toHaveLength(0);
  });

  it('with a drain event (browsers), resumes on the event, not on the poll, and polls slowly only as a fallback', async () => {
    vi.useFakeTimers();
    const channel = new (class extends FakeChannel {
      drained: (() => void) | undefined;
      threshold = 0;
      whenDrained(low: number, drained: () => void) {
        this.threshold = low;
        this.drained = drained;
        return () => (this.drained = undefined);
      }
    })();
    const pacer = new Pacer(channel, source(10), OPTIONS);
    pacer.kick();
    await Promise.resolve();
    expect(channel.sent).toHaveLength(3);
    expect(channel.threshold).toBe(OPTIONS.lowWaterMark);
    channel.bufferedAmount = 50;
    vi.advanceTimersByTime(OPTIONS.pollIntervalMs * 10); // a poll would have resumed by now
    expect(channel.sent).toHaveLength(3);
    channel.drained?.(); // the channel's bufferedamountlow
    expect(channel.sent).toHaveLength(6);
    // No event (say, missed): the fallback poll resumes, a quarter-second later.
    channel.bufferedAmount = 0;
    vi.advanceTimersByTime(249);
    expect(channel.sent).toHaveLength(6);
    vi.advanceTimersByTime(1);
    expect(channel.sent).toHaveLength(9);
    pacer.stop();
    expect(channel.drained).toBeUndefined();
  });
});
