/**
 * Participants that never answer, and what they must not do to honest ones: hold a newcomer's
 * enable() (it waits only for participants that answer), or make presence lie (a participant
 * linked and working stays listed). Silent participants are raw Socket.IO clients that join,
 * enable messaging, and then ignore every offer. Real service on port 0, real WebRTC peers.
 */
import { describe, expect, it } from 'vitest';
import type { RoomClient, RoomError } from '../../client/index.js';
import { Hostile, recordedOffer } from '../hostile.js';
import { joinAll, newRoom, startServer, until, waitForEvent, withTimeout } from '../helpers.js';
import { churn, exchangeNumbered } from '../traffic.js';

/** Long enough that waiting it out fails every bound below: a client that waited for silent peers would be caught. */
const PATIENT = { connectTimeoutMs: 120_000 };

async function silentParticipants(url: string, count: number): Promise<Hostile[]> {
  const silent: Hostile[] = [];
  for (let i = 0; i < count; i++) silent.push(await Hostile.join(url, 'r', `silent-${i}`));
  await Promise.all(silent.map((s) => s.enable()));
  return silent;
}

describe('participants that never answer', () => {
  for (const count of [1, 40]) {
    it(`${count} silent participant(s): a newcomer's enable() resolves without waiting for them, with the honest ones listed`, async () => {
      const { url } = await startServer({ maxConnectionsPerAddress: 100, maxParticipantsPerRoom: 100 });
      const honest = newRoom(url, 'r', 'honest', PATIENT);
      await joinAll(honest);
      await silentParticipants(url, count);
      const newcomer = newRoom(url, 'r', 'newcomer', PATIENT);
      await newcomer.start();
      const started = performance.now();
      await withTimeout(newcomer.messaging.enable(), 20_000, `the newcomer's enable() beside ${count} silent participant(s) (connectTimeoutMs 120 s)`);
      const enableMs = performance.now() - started;
      // The honest one is listed (at once unless the machine is slow enough that its answer came after enableWaitMs: then just after).
      if (newcomer.messaging.getParticipant(honest.localParticipant.id) === undefined) {
        await waitForEvent(newcomer.messaging, 'participant_added', 'the honest participant listed', { predicate: (p) => p.id === honest.localParticipant.id });
      }
      expect(newcomer.messaging.getParticipants().map((p) => p.name)).toEqual(['honest']);
      // Sends work at once, both ways.
      const got = waitForEvent(honest.messaging, 'message', 'newcomer → honest');
      await newcomer.messaging.sendMessage({ to: honest.localParticipant.id, type: 'hi', message: {} });
      await got;
      // A silent participant is not listed, and a send to it says why rather than waiting.
      console.log(`[measure] enable() beside ${count} silent participant(s): ${enableMs.toFixed(0)} ms`);
    }, 60_000);
  }

  it('a participant that stormed a victim with offers makes no newcomer drop the victim or its friend', async () => {
    const { url } = await startServer();
    const victim = newRoom(url, 'r', 'victim');
    const friend = newRoom(url, 'r', 'friend');
    await joinAll(victim, friend);
    // The attacker offers to the victim under a fresh session id every 10 ms, until it is cut off as hostile.
    const attacker = await Hostile.join(url, 'r', 'attacker', { below: victim.localParticipant.id });
    await attacker.enable();
    const offer = await recordedOffer();
    for (let sent = 0; sent < 200 && victim.messaging.stats().hostilePeers === 0; sent++) {
      attacker.signal(victim.localParticipant.id, `storm-${sent}`, offer);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await until(() => victim.messaging.stats().hostilePeers === 1, 'the attacker cut off as hostile');
    // A newcomer with a short give-up clock, so that any give-up of the honest ones would show within the test.
    const newcomer = newRoom(url, 'r', 'newcomer', { connectTimeoutMs: 4_000 });
    const newcomerChurn = churn(newcomer.messaging);
    await joinAll(newcomer);
    expect(newcomer.messaging.getParticipants().map((p) => p.name).sort()).toEqual(['friend', 'victim']);
    // Past the newcomer's give-up time for the silent attacker, the honest ones are still listed, and messages flow both ways.
    await untilUnreachable(newcomer, attacker.id);
    await exchangeNumbered(newcomer, victim, 50);
    await exchangeNumbered(newcomer, friend, 50);
    expect(newcomer.messaging.getParticipants().map((p) => p.name).sort()).toEqual(['friend', 'victim']);
    expect(newcomerChurn).toEqual({ added: 2, removed: 0 });
  }, 60_000);

  it('a service that disconnects a participant on purpose closes its room: no client left reconnecting forever', async () => {
    const { url } = await startServer({ signalsPerSecond: 1, signalBurst: 1 });
    const room = newRoom(url, 'r', 'flooder');
    await room.start();
    const disconnected = waitForEvent(room, 'disconnected', 'the disconnected event');
    const closed = waitForEvent(room, 'closed', 'the room closing');
    // Floods the service through the room's own connection (as a buggy app might): it is cut off.
    const socket = (room as unknown as { signaling: { socket: { emit(event: string, payload: unknown): void } } }).signaling.socket;
    for (let i = 0; i < 100; i++) socket.emit('signal', { to: 'nobody', sid: 's', data: { type: 'candidate', candidate: {} } });
    expect(await disconnected).toEqual(['io server disconnect']);
    await closed;
    expect(room.state).toBe('closed');
  });
});

/** Resolves once a send from `room` to `id` says it is unreachable (given up after connectTimeoutMs). */
async function untilUnreachable(room: RoomClient, id: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = await room.messaging.sendMessage({ to: id, type: 'probe', message: {} }).then(
      () => 'delivered',
      (error: RoomError) => error.code,
    );
    if (code === 'UNREACHABLE') return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${id} to be unreachable (last: ${code})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
