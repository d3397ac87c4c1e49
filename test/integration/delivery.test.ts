import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../client/index.js';
import { expectCode, joinAll, newRoom, randomBytes, sha256, startServer, waitForEvent } from '../helpers.js';

const MiB = 1024 * 1024;

describe('delivery', () => {
  it('delivers 1,000 messages once each, in order, across direct sends and broadcasts, all receipted', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const received: ReceivedMessage[] = [];
    bob.messaging.on('message', (m) => received.push(m));
    const to = alice.messaging.getParticipantByName('bob')!;

    // Fired without awaiting, in one tick: coalesced, yet each one resolves on its own receipt.
    const sends: Array<Promise<unknown>> = [];
    for (let seq = 0; seq < 1000; seq++) {
      sends.push(
        seq % 10 === 9
          ? alice.messaging.broadcastMessage({ type: 'seq', message: { seq } })
          : alice.messaging.sendMessage({ to, type: 'seq', message: { seq }, ...(seq % 7 === 0 ? { attachment: randomBytes(seq, seq) } : {}) }),
      );
    }
    const outcomes = await Promise.all(sends);
    expect(outcomes.filter((o) => Array.isArray(o) && !o.every((x) => x.ok))).toEqual([]);
    expect(received.map((m) => m.message['seq'])).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(received.filter((m) => m.broadcast)).toHaveLength(100);
    for (const m of received) {
      const seq = m.message['seq'] as number;
      if (seq % 7 === 0 && seq % 10 !== 9 && seq > 0) expect(sha256(m.attachment!)).toBe(sha256(randomBytes(seq, seq)));
    }
  });

  it('carries a 64 MiB attachment intact (hash-checked) and reports the time', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const big = randomBytes(64 * MiB, 42);
    const expected = sha256(big);
    const arrived = waitForEvent(bob.messaging, 'message', '64 MiB attachment', { timeoutMs: 60_000 });
    const started = performance.now();
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'file', message: { name: 'big.bin' }, attachment: big });
    const elapsed = performance.now() - started;
    const [m] = await arrived;
    expect(m.attachment?.length).toBe(64 * MiB);
    expect(sha256(m.attachment!)).toBe(expected);
    // The attachment owns exactly its bytes (no JSON header in front, no slack behind).
    expect(m.attachment?.byteOffset).toBe(0);
    expect(m.attachment?.buffer.byteLength).toBe(64 * MiB);
    console.log(`[measure] 64 MiB attachment, send to receipt: ${elapsed.toFixed(0)} ms (${((64 * MiB) / 1e6 / (elapsed / 1000)).toFixed(1)} MB/s)`);
  });

  it('refuses a message past the sender’s limit with MESSAGE_TOO_LARGE before sending anything', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice', { maxAttachmentBytes: 1000, maxJsonBytes: 200 });
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    let got = 0;
    bob.messaging.on('message', () => got++);
    const to = bob.localParticipant.id;
    await expectCode(alice.messaging.sendMessage({ to, type: 't', message: {}, attachment: new Uint8Array(1001) }), 'MESSAGE_TOO_LARGE');
    await expectCode(alice.messaging.sendMessage({ to, type: 't', message: { text: 'x'.repeat(200) } }), 'MESSAGE_TOO_LARGE');
    await expectCode(alice.messaging.broadcastMessage({ type: 't', message: {}, attachment: new ArrayBuffer(1001) }), 'MESSAGE_TOO_LARGE');
    await alice.messaging.sendMessage({ to, type: 't', message: {}, attachment: new Uint8Array(1000) });
    expect(got).toBe(1); // only the one within the limit
  });

  it('refuses a message past the recipient’s limit (announced in its hello) before sending anything', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob', { maxAttachmentBytes: 4096 });
    const carol = newRoom(url, 'r', 'carol');
    await joinAll(alice, bob, carol);
    const error = await expectCode(
      alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 't', message: {}, attachment: new Uint8Array(4097) }),
      'MESSAGE_TOO_LARGE',
    );
    expect(error.message).toMatch(/4096/);
    // A broadcast reports bob's refusal without failing carol's delivery.
    const outcomes = await alice.messaging.broadcastMessage({ type: 't', message: {}, attachment: new Uint8Array(5000) });
    const byName = Object.fromEntries(outcomes.map((o) => [o.participant.name, o.ok ? 'ok' : o.error.code]));
    expect(byName).toEqual({ bob: 'MESSAGE_TOO_LARGE', carol: 'ok' });
  });
});
