/**
 * Delivery modes on real peers: reliable, unordered, lossy and latest, on each Node stack, in
 * a mixed pair, and through the relay. Loss itself is the network lab's (bench/cursors.ts):
 * here a clean loopback delivers everything that is sent, so what is asserted is what a user
 * sees on a clean link: every mode arrives, says how it was sent, and keeps its promises.
 */
import { describe, expect, it } from 'vitest';
import type { Delivery, ReceivedMessage, RoomClient, RtcStackName } from '../../client/index.js';
import { breakLink, expectCode, joinAll, newRoom, randomBytes, sha256, startServer, until, waitForEvent } from '../helpers.js';

const PAIRS: Array<[string, RtcStackName, RtcStackName]> = [
  ['@roamhq/wrtc', '@roamhq/wrtc', '@roamhq/wrtc'],
  ['node-datachannel', 'node-datachannel', 'node-datachannel'],
  ['a mixed pair', '@roamhq/wrtc', 'node-datachannel'],
];

async function pair(a: RtcStackName, b: RtcStackName, options: { directTimeoutMs?: number; rtcConfig?: Record<string, unknown> } = {}): Promise<[RoomClient, RoomClient]> {
  const { url } = await startServer();
  const alice = newRoom(url, 'r', 'alice', { rtc: a, ...options });
  const bob = newRoom(url, 'r', 'bob', { rtc: b, ...options });
  await joinAll(alice, bob);
  return [alice, bob];
}

function collect(room: RoomClient): ReceivedMessage[] {
  const got: ReceivedMessage[] = [];
  room.messaging.on('message', (m) => got.push(m));
  return got;
}

describe.each(PAIRS)('delivery modes (%s)', (_name, a, b) => {
  it('delivers each mode, with its attachment, and says how it was sent', async () => {
    const [alice, bob] = await pair(a, b);
    const got = collect(bob);
    const to = bob.localParticipant.id;
    const modes: Delivery[] = ['reliable', 'unordered', 'lossy', 'latest'];
    for (const [i, delivery] of modes.entries()) {
      await alice.messaging.sendMessage({ to, type: `t-${delivery}`, message: { i }, attachment: randomBytes(1000 + i, i), delivery });
    }
    await until(() => got.length === modes.length, 'four messages, one per mode');
    expect(got.map((m) => [m.type, m.delivery, m.message['i']]).sort()).toEqual(modes.map((d, i) => [`t-${d}`, d, i]).sort());
    for (const m of got) expect(sha256(m.attachment!)).toBe(sha256(randomBytes(1000 + (m.message['i'] as number), m.message['i'] as number)));
    expect(new Set(got.map((m) => m.messageId)).size).toBe(4);
  });

  it('unordered: 500 messages, every one once', async () => {
    const [alice, bob] = await pair(a, b);
    const got = collect(bob);
    const to = bob.localParticipant.id;
    await Promise.all(Array.from({ length: 500 }, (_, seq) => alice.messaging.sendMessage({ to, type: 'u', message: { seq }, delivery: 'unordered' })));
    await until(() => got.length === 500, '500 unordered messages');
    expect(got.map((m) => m.message['seq']).sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('latest: a burst of 200 values per type, sent in one tick, leaves the newest of each and never an older one after a newer', async () => {
    const [alice, bob] = await pair(a, b);
    const got = collect(bob);
    const to = bob.localParticipant.id;
    alice.messaging.setDelivery('cursor', 'latest');
    const sends: Array<Promise<void>> = [];
    for (let seq = 0; seq < 200; seq++) {
      sends.push(alice.messaging.sendMessage({ to, type: 'cursor', message: { seq } }));
      sends.push(alice.messaging.sendMessage({ to, type: 'pointer', message: { seq }, delivery: 'latest' }));
    }
    await Promise.all(sends); // every send resolves: written, or superseded by a newer value
    await until(() => got.some((m) => m.type === 'cursor' && m.message['seq'] === 199) && got.some((m) => m.type === 'pointer' && m.message['seq'] === 199), 'the newest cursor and pointer');
    for (const type of ['cursor', 'pointer']) {
      const seqs = got.filter((m) => m.type === type).map((m) => m.message['seq'] as number);
      expect(seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] ?? -1)), `${type}: ${seqs.join(',')}`).toBe(true);
      expect(seqs.length, `${type}: coalesced, not 200 deliveries`).toBeLessThan(200);
    }
    expect(got.every((m) => m.delivery === 'latest')).toBe(true);
    expect(alice.messaging.stats().datagrams.superseded, 'the values replaced before they were written').toBe(400 - got.length);
  });

  it('refuses a datagram over 16,000 bytes with MESSAGE_TOO_LARGE, and an unknown mode with INVALID_ARGUMENT', async () => {
    const [alice, bob] = await pair(a, b);
    const to = bob.localParticipant.id;
    const tooBig = await expectCode(alice.messaging.sendMessage({ to, type: 'x', message: {}, attachment: randomBytes(16_000), delivery: 'lossy' }), 'MESSAGE_TOO_LARGE');
    expect(tooBig.message).toMatch(/16000 bytes/);
    await expectCode(alice.messaging.broadcastMessage({ type: 'x', message: {}, attachment: randomBytes(20_000), delivery: 'latest' }), 'MESSAGE_TOO_LARGE');
    await expectCode(alice.messaging.sendMessage({ to, type: 'x', message: {}, delivery: 'fast' as Delivery }), 'INVALID_ARGUMENT');
    expect(() => alice.messaging.setDelivery('x', 'sometimes' as Delivery)).toThrow(/reliable/);
    // Nothing of them went out: a reliable message after them is the first thing bob gets.
    const next = waitForEvent(bob.messaging, 'message', 'the message after the refusals');
    await alice.messaging.sendMessage({ to, type: 'after', message: {} });
    expect((await next)[0].type).toBe('after');
  });
});

describe('delivery modes across paths', () => {
  it('unordered messages survive a link broken under them: each arrives once, over the relay', async () => {
    const [alice, bob] = await pair('@roamhq/wrtc', '@roamhq/wrtc');
    const got = collect(bob);
    const to = bob.localParticipant.id;
    const sends = Array.from({ length: 300 }, (_, seq) => alice.messaging.sendMessage({ to, type: 'u', message: { seq }, attachment: randomBytes(4000, seq), delivery: 'unordered' }));
    expect(breakLink(alice, to)).toBe(true);
    await Promise.all(sends);
    await until(() => got.length >= 300, '300 unordered messages after the break');
    const seqs = got.map((m) => m.message['seq'] as number);
    expect(new Set(seqs).size, 'no duplicates').toBe(seqs.length);
    expect(seqs.length).toBe(300);
  });

  it('a relayed pair (no direct link) carries every mode', async () => {
    // No candidates can pair: the relay carries the pair from the start.
    const [alice, bob] = await pair('@roamhq/wrtc', '@roamhq/wrtc', { directTimeoutMs: 500, rtcConfig: { iceTransportPolicy: 'relay' } });
    await until(() => alice.messaging.getParticipantByName('bob')?.link === 'relayed', 'the pair is relayed');
    const got = collect(bob);
    const to = bob.localParticipant.id;
    for (const delivery of ['unordered', 'lossy', 'latest'] as const) await alice.messaging.sendMessage({ to, type: delivery, message: { delivery }, delivery });
    await until(() => got.length === 3, 'three datagrams over the relay');
    expect(got.map((m) => m.delivery).sort()).toEqual(['latest', 'lossy', 'unordered']);
  });
});
