/**
 * Hard kills. The service process SIGKILLed (no close, no goodbye, no drain) and restarted on
 * its port while four participants exchange numbered messages over direct links and relayed
 * pairs: every message arrives once and in order, and nobody is removed or added.
 */
import { describe, expect, it } from 'vitest';
import type { RoomClient } from '../../client/index.js';
import { startService } from '../cluster.js';
import { joinAll, newRoom, waitForEvent, withTimeout } from '../helpers.js';
import { churn, range, record, sendNumbered } from '../traffic.js';

describe('hard kills', () => {
  it('survives the service SIGKILLed and restarted on its port: direct and relayed traffic each once, in order, no churn', async () => {
    let service = await startService();
    const port = Number(new URL(service.url).port);
    const fast = { reconnectDelayMs: 100, reconnectMaxDelayMs: 400 };
    const alice = newRoom(service.url, 'r', 'alice', fast);
    const bob = newRoom(service.url, 'r', 'bob', fast);
    const carol = newRoom(service.url, 'r', 'carol', fast);
    // Dave allows no direct link (relay-only ICE, no TURN): his three pairs are relayed.
    const dave = newRoom(service.url, 'r', 'dave', { ...fast, rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 500 });
    const everyone = [alice, bob, carol, dave];
    await joinAll(...everyone);
    expect(alice.messaging.getParticipantByName('dave')?.link).toBe('relayed');
    expect(alice.messaging.getParticipantByName('bob')?.link).toBe('direct');
    const churns = everyone.map((room) => churn(room.messaging));
    const got = new Map<RoomClient, Map<string, number[]>>(everyone.map((room) => [room, record(room.messaging, 'n')]));
    const reconnected = Promise.all(everyone.map((room) => waitForEvent(room, 'reconnected', `${room.localParticipant.name} back in the restarted service`, { timeoutMs: 20_000 })));
    const id = (room: RoomClient): string => room.localParticipant.id;

    let restarted: Promise<void> | undefined;
    const flows: Array<[RoomClient, RoomClient, number]> = [
      [alice, bob, 600],
      [bob, carol, 600],
      [carol, alice, 600],
      [alice, dave, 300],
      [dave, bob, 300],
    ];
    const sending = Promise.all(
      flows.map(([from, to, count], i) =>
        sendNumbered(from, id(to), 'n', count, (n) => {
          if (i !== 0 || n !== 150) return;
          const killed = service;
          restarted = (async () => {
            killed.process.kill('SIGKILL');
            await killed.exited;
            service = await startService([], {}, port);
          })();
        }),
      ),
    );
    await withTimeout(sending, 40_000, 'every send receipted across the kill');
    await restarted;
    await reconnected;
    for (const [from, to, count] of flows) {
      expect(got.get(to)?.get(id(from)), `${from.localParticipant.name} → ${to.localParticipant.name}`).toEqual(range(count));
    }
    expect(churns).toEqual(everyone.map(() => ({ added: 0, removed: 0 })));
    expect(service.process.exitCode).toBeNull();
  });
});
