/**
 * A stream's liveness (PeerChannel) on a fake transport and fake timers: an idle stream probes,
 * the pongs measure the round trip, and a slow path gets a longer liveness timeout than
 * `livenessTimeoutMs`, while a fast one keeps it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS } from '../../client/options.js';
import { PeerChannel, type ChannelTransport } from '../../client/peer/channel.js';
import { PeerSession } from '../../client/peer/session.js';
import { decodePacket, encodePacket } from '../../client/wire/codec.js';

afterEach(() => void vi.useRealTimers());

function stream(): { channel: PeerChannel; sent: string[]; silentAt: () => number | undefined; told: string[] } {
  const told: string[] = [];
  const sent: string[] = [];
  const transport: ChannelTransport = {
    isOpen: true,
    bufferedAmount: 0,
    maxMessageSize: 65_536,
    send: (packet) => {
      const decoded = decodePacket(packet);
      if (decoded.ok) for (const record of decoded.records) sent.push(record.kind);
    },
  };
  const session = new PeerSession(DEFAULTS, { message() {}, progress() {}, aborted() {}, refused() {}, violation() {} });
  let silent: number | undefined;
  const started = Date.now();
  const channel = new PeerChannel(transport, session, DEFAULTS, {
    hello() {},
    bye() {},
    unauthenticated() {},
    silent: () => {
      silent ??= Date.now() - started;
      told.push(`silent at ${Date.now() - started}`);
    },
    quiet: () => void told.push(`quiet at ${Date.now() - started}`),
    revived: () => void told.push(`revived at ${Date.now() - started}`),
    broken() {},
    violation() {},
  });
  return { channel, sent, silentAt: () => silent, told };
}

const pong = encodePacket([{ kind: 'pong' }]);
const ping = encodePacket([{ kind: 'ping' }]);

describe('liveness', () => {
  it('a silent stream is told quiet at half the liveness period and silent at all of it, once each; it keeps its heartbeat and is told when it hears again', async () => {
    vi.useFakeTimers();
    const { channel, sent, told } = stream();
    await vi.advanceTimersByTimeAsync(4 * DEFAULTS.livenessTimeoutMs);
    const half = DEFAULTS.heartbeatIntervalMs / 2;
    // Found on the heartbeat's ticks (every half heartbeat): the first tick past each mark.
    const quietAt = Math.floor(DEFAULTS.livenessTimeoutMs / 2 / half + 1) * half;
    const silentAt = Math.floor(DEFAULTS.livenessTimeoutMs / half + 1) * half;
    expect(told).toEqual([`quiet at ${quietAt}`, `silent at ${silentAt}`]);
    const beatsWhileSilent = sent.filter((kind) => kind === 'ping' || kind === 'probe').length;
    expect(beatsWhileSilent).toBeGreaterThanOrEqual(4 * DEFAULTS.livenessTimeoutMs / DEFAULTS.heartbeatIntervalMs - 1);
    channel.receive(pong);
    expect(told.at(-1)).toBe(`revived at ${4 * DEFAULTS.livenessTimeoutMs}`);
    channel.receive(pong); // heard again while alive: nothing to tell
    // The probe that was out when it went silent gives no round-trip sample (that would be the
    // silence's length, ~11 s, and a liveness period of minutes); the one sent during it, 1 s.
    expect(channel.livenessMs).toBeLessThan(4 * DEFAULTS.livenessTimeoutMs);
    await vi.advanceTimersByTimeAsync(channel.livenessMs / 2 + DEFAULTS.heartbeatIntervalMs);
    expect(told.filter((t) => t.startsWith('quiet'))).toHaveLength(2); // a new silence is told afresh
    expect(told.filter((t) => t.startsWith('revived'))).toHaveLength(1);
    channel.close();
  });

  it('an idle stream sends a heartbeat a second (a probe first, pings until the next sample is due); one that hears nothing is dead after livenessTimeoutMs', async () => {
    vi.useFakeTimers();
    const { channel, sent, silentAt } = stream();
    await vi.advanceTimersByTimeAsync(DEFAULTS.heartbeatIntervalMs);
    expect(sent).toEqual(['hello', 'probe']);
    channel.receive(pong);
    await vi.advanceTimersByTimeAsync(2 * DEFAULTS.heartbeatIntervalMs);
    expect(sent).toEqual(['hello', 'probe', 'ping', 'ping']);
    await vi.advanceTimersByTimeAsync(DEFAULTS.livenessTimeoutMs + DEFAULTS.heartbeatIntervalMs);
    // Heard last at the pong (1 s in): dead a liveness timeout after it, found within half a heartbeat.
    expect(silentAt()).toBeGreaterThan(DEFAULTS.heartbeatIntervalMs + DEFAULTS.livenessTimeoutMs);
    expect(silentAt()).toBeLessThanOrEqual(DEFAULTS.heartbeatIntervalMs + DEFAULTS.livenessTimeoutMs + DEFAULTS.heartbeatIntervalMs / 2);
    channel.close();
  });

  it('on a slow path (measured round trips of 1.5 s) the stream is given three retransmission timeouts, not 3 s', async () => {
    // (A probe whose pong comes after the stream went quiet measures nothing: that is the silence.)
    vi.useFakeTimers();
    const { channel, silentAt } = stream();
    await vi.advanceTimersByTimeAsync(DEFAULTS.heartbeatIntervalMs); // the heartbeat probe leaves
    await vi.advanceTimersByTimeAsync(400);
    channel.receive(ping); // the peer's own heartbeat meanwhile: the path is slow, not silent
    await vi.advanceTimersByTimeAsync(1_100);
    channel.receive(pong); // the probe's answer, 1.5 s later: srtt 1.5 s, rttvar 0.75 s, so 3 × 4.5 s
    expect(channel.rtoMs).toBe(4_500);
    expect(channel.livenessMs).toBe(13_500);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(silentAt(), 'a slow path is not dead after 10 s of silence').toBeUndefined();
    await vi.advanceTimersByTimeAsync(4_000);
    expect(silentAt()).toBeDefined();
    channel.close();
  });
});
