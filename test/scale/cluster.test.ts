/**
 * Two service processes on one private Redis, participants split across them: the whole
 * messaging API works as it does on one process, limits count the whole room, rooms stay
 * apart, and the relay carries a pair whose ends are on different processes.
 */
import { describe, expect, it } from 'vitest';
import { captureLogger, expectCode, joinAll, newRoom, randomBytes, sha256, until, waitForEvent, withTimeout } from '../helpers.js';
import { startRedis, startService } from '../cluster.js';
import { names, range, record, sendNumbered } from '../traffic.js';

describe('two service processes on one Redis', () => {
  it('carries the whole API for a room split across them, with limits counted across both', async () => {
    const redis = await startRedis();
    const [one, two] = await Promise.all([1, 2].map(() => startService(['--redis', redis.url, '--max-participants', '4'])));
    if (one === undefined || two === undefined) throw new Error('two services');
    const alice = newRoom(one.url, 'r', 'alice');
    const bob = newRoom(two.url, 'r', 'bob');
    const carol = newRoom(one.url, 'r', 'carol');
    const dave = newRoom(two.url, 'r', 'dave');
    await joinAll(alice, bob, carol, dave);
    const everyone = [alice, bob, carol, dave];
    expect(everyone.map((room) => names(room.messaging.getParticipants()))).toEqual([
      ['bob', 'carol', 'dave'],
      ['alice', 'carol', 'dave'],
      ['alice', 'bob', 'dave'],
      ['alice', 'bob', 'carol'],
    ]);
    expect(everyone.every((room) => room.messaging.getParticipants().every((p) => p.link === 'direct'))).toBe(true);

    // The room holds 4 across both processes: a fifth is refused on either.
    await expectCode(newRoom(one.url, 'r', 'erin').start(), 'ROOM_FULL');
    await expectCode(newRoom(two.url, 'r', 'erin').start(), 'ROOM_FULL');
    // Another room on the same processes sees none of this one.
    const stranger = newRoom(two.url, 'other', 'stranger');
    await joinAll(stranger);
    expect(stranger.messaging.getParticipants()).toEqual([]);

    // Direct messages both ways across the split, with an attachment checked by hash.
    const attachment = randomBytes(3 * 1024 * 1024, 7);
    const atBob = waitForEvent(bob.messaging, 'message', 'bob gets alice’s file', { predicate: (m) => m.type === 'file' });
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'file', message: { name: 'x.bin' }, attachment });
    const [file] = await atBob;
    expect([file.from.name, file.message, sha256(file.attachment ?? new Uint8Array())]).toEqual(['alice', { name: 'x.bin' }, sha256(attachment)]);
    const atAlice = waitForEvent(alice.messaging, 'message', 'alice gets bob’s reply', { predicate: (m) => m.type === 'reply' });
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'reply', message: { ok: true } });
    expect((await atAlice)[0].message).toEqual({ ok: true });

    // A broadcast from one process reaches everyone on both, and never its sender.
    const heard = [alice, bob, carol].map((room) =>
      waitForEvent(room.messaging, 'message', `${room.localParticipant.name} hears dave`, { predicate: (m) => m.type === 'news' }),
    );
    let echoed = false;
    dave.messaging.on('message', (m) => void (echoed ||= m.type === 'news'));
    const outcomes = await dave.messaging.broadcastMessage({ type: 'news', message: { n: 1 } });
    expect(outcomes.map((o) => [o.participant.name, o.ok]).sort()).toEqual([['alice', true], ['bob', true], ['carol', true]]);
    await Promise.all(heard);
    expect(echoed).toBe(false);

    // Order across the split: 500 numbered messages carol → bob.
    const got = record(bob.messaging, 'n');
    await withTimeout(sendNumbered(carol, bob.localParticipant.id, 'n', 500), 20_000, '500 sends receipted');
    expect(got.get(carol.localParticipant.id)).toEqual(range(500));

    // Attributes set on one process show on the other.
    const updated = waitForEvent(alice.messaging, 'participant_attributes_updated', 'alice sees bob busy', { predicate: (p) => p.name === 'bob' });
    await bob.localParticipant.setAttribute('status', 'busy');
    expect((await updated)[0].getAttribute('status')).toBe('busy');

    // Disabling, enabling again and leaving are seen across the split.
    const carolGone = waitForEvent(bob.messaging, 'participant_removed', 'bob sees carol disable', { predicate: (p) => p.name === 'carol' });
    await carol.messaging.disable();
    await carolGone;
    const carolBack = waitForEvent(bob.messaging, 'participant_added', 'bob sees carol again', { predicate: (p) => p.name === 'carol' });
    await carol.messaging.enable();
    await carolBack;
    expect(names(carol.messaging.getParticipants())).toEqual(['alice', 'bob', 'dave']);
    const daveGone = waitForEvent(alice.messaging, 'participant_removed', 'alice sees dave leave', { predicate: (p) => p.name === 'dave' });
    await dave.close();
    await daveGone;
    await expectCode(alice.messaging.sendMessage({ to: dave.localParticipant.id, type: 't', message: {} }), 'PARTICIPANT_NOT_FOUND');
    // With dave gone, the room has space again, on either process.
    const erin = newRoom(one.url, 'r', 'erin');
    await joinAll(erin);
    expect(names(erin.messaging.getParticipants())).toEqual(['alice', 'bob', 'carol']);

    // Each process counts its own; together they hold everyone.
    const participants = (await one.metric('roommesh_participants')) + (await two.metric('roommesh_participants'));
    expect(participants).toBe(5); // alice, carol, erin on one; bob, stranger on two
    expect(await one.metric('roommesh_refused_requests_total{request="join",code="ROOM_FULL"}')).toBe(1);
    expect(await two.metric('roommesh_limit_hits_total{limit="room_full"}')).toBe(1);
    expect(await one.metric('roommesh_signals_relayed_total')).toBeGreaterThan(0);
    expect(await two.metric('roommesh_signals_relayed_total')).toBeGreaterThan(0);
  });

  it('relays a pair that cannot connect directly when its two ends are on different processes', async () => {
    const redis = await startRedis();
    const [one, two] = await Promise.all([1, 2].map(() => startService(['--redis', redis.url])));
    if (one === undefined || two === undefined) throw new Error('two services');
    // A relay-only ICE policy with no TURN server: no direct link can ever open.
    const alice = newRoom(one.url, 'r', 'alice', { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 1_000 });
    const bob = newRoom(two.url, 'r', 'bob');
    await joinAll(alice, bob);
    const bobId = bob.localParticipant.id;
    expect(alice.messaging.getParticipant(bobId)?.link).toBe('relayed');
    expect(bob.messaging.getParticipantByName('alice')?.link).toBe('relayed');

    const attachment = randomBytes(2 * 1024 * 1024, 3);
    const file = waitForEvent(bob.messaging, 'message', 'bob gets the relayed file', { predicate: (m) => m.type === 'file', timeoutMs: 20_000 });
    const got = record(bob.messaging, 'n');
    await alice.messaging.sendMessage({ to: bobId, type: 'file', message: {}, attachment });
    expect(sha256((await file)[0].attachment ?? new Uint8Array())).toBe(sha256(attachment));
    await withTimeout(sendNumbered(alice, bobId, 'n', 300), 20_000, '300 relayed sends receipted');
    expect(got.get(alice.localParticipant.id)).toEqual(range(300));
    const back = waitForEvent(alice.messaging, 'message', 'alice gets bob’s relayed reply', { predicate: (m) => m.type === 'back' });
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'back', message: {} });
    await back;
    // The bytes went through the service, and the metrics say so, on the sender's process.
    expect(await one.metric('roommesh_relay_bytes_total')).toBeGreaterThan(attachment.length);
  });

  it('links pairs that enable at the same instant on different processes, however each learned of the other', async () => {
    const redis = await startRedis();
    const [one, two] = await Promise.all([1, 2].map(() => startService(['--redis', redis.url])));
    if (one === undefined || two === undefined) throw new Error('two services');
    const pairs = Array.from({ length: 6 }, (_, i) => {
      const logs = [captureLogger(), captureLogger()] as const;
      return { logs, rooms: [newRoom(one.url, `race-${i}`, 'left', { logger: logs[0] }), newRoom(two.url, `race-${i}`, 'right', { logger: logs[1] })] as const };
    });
    await Promise.all(pairs.flatMap((p) => p.rooms.map((room) => room.start())));
    // Both ends of every pair enable at once: the two processes answer concurrently, so each
    // end may find the other in its reply, or be told of it, or both. (With the service's
    // order of events deciding who offers, this left pairs with two offerers or none.)
    await withTimeout(Promise.all(pairs.flatMap((p) => p.rooms.map((room) => room.messaging.enable()))), 10_000, 'every enable()');
    for (const { rooms } of pairs) {
      const [left, right] = rooms;
      await until(() => left.messaging.getParticipants().length === 1 && right.messaging.getParticipants().length === 1, 'both ends list each other');
      const got = waitForEvent(right.messaging, 'message', 'right hears left');
      await left.messaging.sendMessage({ to: right.localParticipant.id, type: 'hi', message: {} });
      await got;
      expect(left.messaging.getParticipants()[0]?.link).toBe('direct');
    }
    // No pair gave up on the other, nor waited out a timeout.
    expect(pairs.flatMap((p) => p.logs.flatMap((log) => log.entries.filter((e) => e.level === 'warn').map((e) => e.message)))).toEqual([]);
  });
});
