import { describe, expect, it } from 'vitest';
import { spawnFixture, type Child } from '../child.js';
import type { RoomClient, RoomClientOptions, RoomError, RtcStackName } from '../../client/index.js';
import { NODE_STACKS, expectCode, joinAll, newRoom as newRoomOn, startServer, until, waitForEvent, withTimeout } from '../helpers.js';

describe.each(NODE_STACKS)('participants in other processes, on %s', (rtc: RtcStackName) => {
  const spawnParticipant = (url: string, room: string, name: string, mode: 'stay' | 'close'): Child =>
    spawnFixture('test/fixtures/participant.ts', [url, room, name, mode, rtc], name);
  const newRoom = (url: string, room: string, name: string, options: Partial<RoomClientOptions> = {}): RoomClient => newRoomOn(url, room, name, { rtc, ...options });

  it('drops a SIGKILLed participant everywhere within 5 s and fails sends to it clearly', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const child = spawnParticipant(url, 'r', 'victim', 'stay');
    const ready = await child.next('ready');
    const victimId = ready['id'] as string;
    expect(ready['peers']).toBe(2);
    expect(alice.messaging.getParticipant(victimId)?.name).toBe('victim');

    // The link works across processes: an echo comes back.
    const echoed = waitForEvent(alice.messaging, 'message', 'echo from the child', { predicate: (m) => m.type === 'echoed' });
    await alice.messaging.sendMessage({ to: victimId, type: 'echo', message: { n: 1 } });
    expect((await echoed)[0].message).toEqual({ n: 1 });

    const removedAt = (room: typeof alice) =>
      waitForEvent(room.messaging, 'participant_removed', `${room.localParticipant.name} drops the victim`, {
        timeoutMs: 5_000,
        predicate: (p) => p.id === victimId,
      }).then(() => performance.now());
    const removals = Promise.all([removedAt(alice), removedAt(bob)]);
    const killedAt = performance.now();
    child.process.kill('SIGKILL');
    const times = await removals;
    console.log(`[measure] SIGKILLed participant removed after ${times.map((t) => (t - killedAt).toFixed(0)).join(' ms, ')} ms`);
    await expectCode(alice.messaging.sendMessage({ to: victimId, type: 't', message: {} }), 'PARTICIPANT_NOT_FOUND');
    expect(alice.messaging.getParticipants().map((p) => p.name)).toEqual(['bob']);
  });

  it('drops a SIGKILLed participant by its dead link alone, with the service gone, before connectTimeoutMs', async () => {
    const server = await startServer();
    const alice = newRoom(server.url, 'r', 'alice');
    // Bob's link still answering tells alice her own network works: the victim's dead link is the victim's end.
    // (With no link answering, alice would take it for her own network dropping, and wait: test/network/blips.test.ts.)
    const bob = newRoom(server.url, 'r', 'bob');
    await joinAll(alice, bob);
    const child = spawnParticipant(server.url, 'r', 'victim', 'stay');
    const victimId = (await child.next('ready'))['id'] as string;
    await until(() => alice.messaging.getParticipant(victimId) !== undefined, 'alice lists the victim');
    await server.close(); // nobody is left to announce the death: the peer link must tell
    // Detection takes livenessTimeoutMs (3 s) plus up to half a heartbeat, stretched to three
    // retransmission timeouts when the measured round trip is slow (as it is on a loaded machine).
    // The wait stays below connectTimeoutMs (15 s): had alice taken the silence for her own network
    // dropping and waited for the service instead, the removal would come only after it, and fail here.
    const removed = waitForEvent(alice.messaging, 'participant_removed', 'alice drops the victim by its link', {
      timeoutMs: 12_000,
      predicate: (p) => p.id === victimId,
    });
    const killedAt = performance.now();
    child.process.kill('SIGKILL');
    await removed;
    console.log(`[measure] SIGKILLed participant removed by link death after ${(performance.now() - killedAt).toFixed(0)} ms`);
  });

  it('drops a participant whose traffic silently stops (SIGSTOP: no FIN, no goodbye) everywhere once connectTimeoutMs has passed', async () => {
    const { url } = await startServer();
    // A silent participant may be hung and come back (test/integration/hard-kills.test.ts), so it gets connectTimeoutMs.
    const alice = newRoom(url, 'r', 'alice', { connectTimeoutMs: 2_000 });
    const bob = newRoom(url, 'r', 'bob', { connectTimeoutMs: 2_000 });
    await joinAll(alice, bob);
    const child = spawnParticipant(url, 'r', 'frozen', 'stay');
    const victimId = (await child.next('ready'))['id'] as string;
    await until(() => alice.messaging.getParticipant(victimId) !== undefined && bob.messaging.getParticipant(victimId) !== undefined, 'both list the victim');
    const removedAt = (room: typeof alice) =>
      waitForEvent(room.messaging, 'participant_removed', `${room.localParticipant.name} drops the frozen one`, {
        timeoutMs: 9_000,
        predicate: (p) => p.id === victimId,
      }).then(() => performance.now());
    const removals = Promise.all([removedAt(alice), removedAt(bob)]);
    const frozenAt = performance.now();
    child.process.kill('SIGSTOP'); // its sockets stay open; nothing more comes out of them
    try {
      const times = await removals;
      console.log(`[measure] silent participant removed after ${times.map((t) => (t - frozenAt).toFixed(0)).join(' ms, ')} ms`);
    } finally {
      child.process.kill('SIGKILL');
    }
    // Given up: a send says so at once (unreachable while the service still lists it, not found once it drops it too).
    const code = await alice.messaging.sendMessage({ to: victimId, type: 't', message: {} }).then(() => 'delivered', (error: RoomError) => error.code);
    expect(['UNREACHABLE', 'PARTICIPANT_NOT_FOUND']).toContain(code);
  });

  it('lets a child process that called close() exit by itself, cleanly', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    await joinAll(alice);
    const got = waitForEvent(alice.messaging, 'message', 'the child’s broadcast');
    const gone = waitForEvent(alice.messaging, 'participant_removed', 'the child leaving', { timeoutMs: 20_000 });
    const child = spawnParticipant(url, 'r', 'leaver', 'close');
    expect((await got)[0].message).toEqual({ from: 'leaver' });
    await gone;
    const { code, signal, stderr } = await withTimeout(child.exited, 5_000, 'the child to exit on its own');
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(child.lines.map((l) => l['event'])).toEqual(['ready', 'closed', 'exit']);
  });
});

describe.each(NODE_STACKS)('a mesh, on %s', (rtc: RtcStackName) => {
  const newRoom = (url: string, room: string, name: string): RoomClient => newRoomOn(url, room, name, { rtc });

  it('forms the full mesh of 10 participants in one process', async () => {
    const { url } = await startServer();
    const clients = Array.from({ length: 10 }, (_, i) => newRoom(url, 'big', `p${i}`));
    const started = performance.now();
    await Promise.all(clients.map((c) => c.start()));
    // Everyone enables at once: the hardest case for negotiation and file descriptors.
    await Promise.all(clients.map((c) => c.messaging.enable()));
    const everyoneSeesNine = () => clients.every((c) => c.messaging.getParticipants().length === 9);
    await until(everyoneSeesNine, 'every participant to see the 9 others', 20_000);
    console.log(`[measure] full mesh of 10 in one process on ${rtc}: ${(performance.now() - started).toFixed(0)} ms`);
    // Every pair can talk: a broadcast from each reaches all 9 others.
    const counts = new Map<string, number>();
    for (const c of clients) c.messaging.on('message', (m) => counts.set(c.localParticipant.id, (counts.get(c.localParticipant.id) ?? 0) + (m.broadcast ? 1 : 0)));
    const outcomes = await Promise.all(clients.map((c) => c.messaging.broadcastMessage({ type: 'hi', message: {} })));
    expect(outcomes.every((o) => o.length === 9 && o.every((x) => x.ok))).toBe(true);
    expect([...counts.values()]).toEqual(Array(10).fill(9));
  });

  it('keeps delivering peer to peer after the service is gone, and says so', async () => {
    const server = await startServer();
    const alice = newRoom(server.url, 'r', 'alice');
    const bob = newRoom(server.url, 'r', 'bob');
    await joinAll(alice, bob);
    const disconnected = waitForEvent(alice, 'disconnected', 'alice loses the service');
    const removed: string[] = [];
    alice.messaging.on('participant_removed', (p) => removed.push(p.id));
    await server.close();
    await disconnected;
    const got = waitForEvent(bob.messaging, 'message', 'message after the service closed');
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'still-here', message: { n: 1 } });
    expect((await got)[0].type).toBe('still-here');
    const outcomes = await bob.messaging.broadcastMessage({ type: 'me-too', message: {} });
    expect(outcomes.map((o) => o.ok)).toEqual([true]);
    // The service going away is not anyone leaving.
    expect(removed).toEqual([]);
    expect(alice.messaging.getParticipants().map((p) => p.name)).toEqual(['bob']);
    // What needs the service says so.
    await expectCode(alice.localParticipant.setAttribute('x', 1), 'SIGNALING_FAILED');
  });
});
