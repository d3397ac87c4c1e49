/**
 * A service process dies mid-conversation (SIGKILL: no drain, no goodbye). Its participants
 * reconnect to the other process and resume; open data channels lose nothing; a participant
 * that died with it is dropped everywhere and never listed again.
 */
import { describe, expect, it } from 'vitest';
import { spawnFixture } from '../child.js';
import { joinAll, newRoom, until, waitForEvent, withTimeout } from '../helpers.js';
import { startRedis, startService } from '../cluster.js';
import { churn, names, range, record, sendNumbered } from '../traffic.js';

describe('fail-over between service processes', () => {
  it('moves the participants of a killed process to the other, losing nothing sent over open links', async () => {
    const redis = await startRedis();
    const [one, two] = await Promise.all([1, 2].map(() => startService(['--redis', redis.url])));
    if (one === undefined || two === undefined) throw new Error('two services');
    const fast = { reconnectDelayMs: 100, reconnectMaxDelayMs: 400 };
    const alice = newRoom([one.url, two.url], 'r', 'alice', fast);
    const carol = newRoom([one.url, two.url], 'r', 'carol', fast);
    const bob = newRoom([two.url, one.url], 'r', 'bob', fast);
    await joinAll(alice, bob, carol);
    // A participant on process one that dies with it (as on a host that goes down whole).
    const ghost = spawnFixture('test/fixtures/participant.ts', [one.url, 'r', 'ghost', 'stay'], 'ghost');
    const ghostId = (await ghost.next('ready'))['id'] as string;
    for (const room of [alice, bob, carol]) {
      await until(() => room.messaging.getParticipant(ghostId)?.name === 'ghost', `${room.localParticipant.name} lists the ghost`);
    }
    const churns = [alice, bob, carol].map((room) => churn(room.messaging));
    const ghostRemoved = [alice, bob, carol].map((room) =>
      waitForEvent(room.messaging, 'participant_removed', `${room.localParticipant.name} drops the ghost`, { predicate: (p) => p.id === ghostId, timeoutMs: 15_000 }),
    );
    const moved = [alice, carol].map((room) =>
      Promise.all([
        waitForEvent(room, 'disconnected', `${room.localParticipant.name} loses process one`),
        waitForEvent(room, 'reconnected', `${room.localParticipant.name} resumes on process two`, { timeoutMs: 15_000 }),
      ]),
    );

    const atBob = record(bob.messaging, 'n');
    const atAlice = record(alice.messaging, 'n');
    const bobId = bob.localParticipant.id;
    let killedAt = 0;
    await withTimeout(
      Promise.all([
        sendNumbered(alice, bobId, 'n', 2000, (n) => {
          if (n !== 500) return;
          killedAt = performance.now();
          one.process.kill('SIGKILL');
          ghost.process.kill('SIGKILL');
        }),
        sendNumbered(bob, alice.localParticipant.id, 'n', 2000),
        sendNumbered(carol, bobId, 'n', 1000),
      ]),
      30_000,
      'every send receipted across the fail-over',
    );
    await Promise.all(moved);
    console.log(`[measure] participants of a SIGKILLed process resumed on the other ${(performance.now() - killedAt).toFixed(0)} ms after the kill (or sooner)`);
    expect(await one.exited).toMatchObject({ signal: 'SIGKILL' });

    expect(atBob.get(alice.localParticipant.id)).toEqual(range(2000));
    expect(atBob.get(carol.localParticipant.id)).toEqual(range(1000));
    expect(atAlice.get(bobId)).toEqual(range(2000));
    await Promise.all(ghostRemoved);
    console.log(`[measure] a participant that died with its process was dropped by everyone ${(performance.now() - killedAt).toFixed(0)} ms after the kill (or sooner)`);
    // The living kept each other throughout: the ghost's removal is the only presence change.
    expect(churns).toEqual([{ added: 0, removed: 1 }, { added: 0, removed: 1 }, { added: 0, removed: 1 }]);
    expect([alice, bob, carol].map((room) => names(room.messaging.getParticipants()))).toEqual([
      ['bob', 'carol'],
      ['alice', 'carol'],
      ['alice', 'bob'],
    ]);

    // The service's view converged too: a newcomer finds exactly the living, and links with them.
    const dave = newRoom(two.url, 'r', 'dave');
    await joinAll(dave);
    expect(names(dave.messaging.getParticipants())).toEqual(['alice', 'bob', 'carol']);
    expect(await two.metric('roommesh_participants')).toBe(4);
    expect(await two.metric('roommesh_joins_total{kind="resume"}')).toBe(2);
    // Signaling still works for the movers: alice's attribute change reaches dave through process two.
    const updated = waitForEvent(dave.messaging, 'participant_attributes_updated', 'dave sees alice away', { predicate: (p) => p.name === 'alice' });
    await alice.localParticipant.setAttribute('status', 'away');
    await updated;
  });
});
