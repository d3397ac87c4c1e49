/**
 * What an operator sees and does: /healthz follows Redis, /metrics counts what happened,
 * the logs are JSON, settings come from flags or ROOMMESH_* variables, and SIGTERM drains:
 * clients are told, move to another process, and the process exits within its bound.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/signaling.js';
import { ask, expectCode, joinAll, newRoom, rawClient, until, waitForEvent, withTimeout } from '../helpers.js';
import { eventually, startRedis, startService } from '../cluster.js';


describe('operating the service', () => {
  it('reports health that follows Redis, and metrics that count joins, refusals and signals', async () => {
    const redis = await startRedis();
    const service = await startService(['--redis', redis.url], { ROOMMESH_MAX_PARTICIPANTS: '2', ROOMMESH_LOG_LEVEL: 'debug' });
    const health = await service.get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', redis: 'up', draining: false, participants: 0 });

    const alice = newRoom(service.url, 'r', 'alice');
    const bob = newRoom(service.url, 'r', 'bob');
    await joinAll(alice, bob);
    // The limit came from ROOMMESH_MAX_PARTICIPANTS.
    await expectCode(newRoom(service.url, 'r', 'carol').start(), 'ROOM_FULL');
    const raw = await rawClient(service.url);
    expect((await ask(raw, 'join', { v: PROTOCOL_VERSION, room: 'r' })).ok).toBe(false);

    expect(await service.metric('roommesh_participants')).toBe(2);
    expect(await service.metric('roommesh_rooms')).toBe(1);
    expect(await service.metric('roommesh_joins_total{kind="join"}')).toBe(2);
    expect(await service.metric('roommesh_refused_requests_total{request="join",code="ROOM_FULL"}')).toBe(1);
    expect(await service.metric('roommesh_refused_requests_total{request="join",code="INVALID_MESSAGE"}')).toBe(1);
    expect(await service.metric('roommesh_limit_hits_total{limit="room_full"}')).toBe(1);
    expect(await service.metric('roommesh_signals_relayed_total')).toBeGreaterThan(2); // an offer, an answer, candidates
    expect(await service.metric('process_resident_memory_bytes')).toBeGreaterThan(0);
    const gone = waitForEvent(alice.messaging, 'participant_removed', 'alice sees bob leave');
    await bob.close();
    await gone;
    expect(await service.metric('roommesh_leaves_total{reason="left"}')).toBe(1);
    // Logs are JSON lines with the level asked for.
    expect(service.logs.some((l) => l.msg === 'participant joined' && typeof l['participant'] === 'string')).toBe(true);
    expect(service.logs.some((l) => l.level === 20)).toBe(true); // debug

    // Redis goes away: health says so (the load balancer stops sending clients), the service stays up.
    await redis.stop();
    await eventually(async () => (await service.get('/healthz')).status === 503, '/healthz to report Redis down');
    expect(JSON.parse((await service.get('/healthz')).body)).toMatchObject({ status: 'unavailable', redis: 'down' });
    // It comes back on the same port: the service reconnects by itself.
    await startRedis(redis.port);
    await eventually(async () => (await service.get('/healthz')).status === 200, '/healthz to report Redis up again', 15_000);
    expect(service.process.exitCode).toBeNull();
    const dave = newRoom(service.url, 'r', 'dave');
    await joinAll(dave);
    expect(dave.messaging.getParticipants().map((p) => p.name)).toEqual(['alice']);
  });

  it('drains on SIGTERM: clients are told, move to the other process, and it exits within its bound', async () => {
    const redis = await startRedis();
    const drainMs = 4_000;
    const [one, two] = await Promise.all([1, 2].map(() => startService(['--redis', redis.url, '--drain-timeout-ms', String(drainMs)])));
    if (one === undefined || two === undefined) throw new Error('two services');
    const fast = { reconnectDelayMs: 100, reconnectMaxDelayMs: 400 };
    const alice = newRoom([one.url, two.url], 'r', 'alice', fast);
    const carol = newRoom([one.url, two.url], 'r', 'carol', fast);
    const bob = newRoom(two.url, 'r', 'bob', fast);
    await joinAll(alice, carol, bob);
    let removedAtBob = 0;
    bob.messaging.on('participant_removed', () => void removedAtBob++);
    const told = [alice, carol].map((room) =>
      waitForEvent(room, 'disconnected', `${room.localParticipant.name} told to move`).then(([reason]) => reason),
    );
    const resumed = [alice, carol].map((room) => waitForEvent(room, 'reconnected', `${room.localParticipant.name} resumed on two`));

    const sentAt = performance.now();
    one.process.kill('SIGTERM');
    expect(await Promise.all(told)).toEqual(['service closing', 'service closing']);
    await Promise.all(resumed);
    const exit = await withTimeout(one.exited, drainMs + 5_000, 'process one to exit within its drain bound');
    const tookMs = performance.now() - sentAt;
    console.log(`[measure] SIGTERM to exit with 2 clients moving: ${tookMs.toFixed(0)} ms (bound ${drainMs} ms + 5 s)`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(one.logs.some((l) => l.msg === 'draining: telling clients to move')).toBe(true);
    // Everyone moved before the bound, so the process did not wait it out.
    expect(one.logs.some((l) => l.msg === 'drain time is up; closing the remaining connections')).toBe(false);

    // Moving is not leaving: nobody saw anyone go, and the movers use the other process for signaling.
    expect(removedAtBob).toBe(0);
    expect(await two.metric('roommesh_participants')).toBe(3);
    const updated = waitForEvent(bob.messaging, 'participant_attributes_updated', 'bob sees alice’s new status', { predicate: (p) => p.name === 'alice' });
    await alice.localParticipant.setAttribute('status', 'moved');
    await updated;
    const got = waitForEvent(bob.messaging, 'message', 'bob still hears carol');
    await carol.messaging.sendMessage({ to: bob.localParticipant.id, type: 'after', message: {} });
    expect((await got)[0].type).toBe('after');
  });

  it('exits at the drain bound when a client does not move, closing what is left', async () => {
    const service = await startService(['--drain-timeout-ms', '1000']);
    const raw = await rawClient(service.url); // a client that ignores service:closing
    const notice = new Promise<{ drainMs: number }>((resolve) => raw.once('service:closing', resolve));
    service.process.kill('SIGTERM');
    expect(await withTimeout(notice, 5_000, 'the closing notice')).toEqual({ drainMs: 1000 });
    expect(await withTimeout(service.exited, 1_000 + 5_000, 'the process to exit at its bound')).toEqual({ code: 0, signal: null });
    await until(() => service.logs.some((l) => l.msg === 'drain time is up; closing the remaining connections'), 'the log says why');
  });

  it('refuses to start on bad settings, naming each, and when Redis cannot be reached', async () => {
    await expect(startService(['--max-rooms', '0'], { ROOMMESH_MAX_PARTICIPANTS: 'many' })).rejects.toThrow(/ROOMMESH_MAX_PARTICIPANTS[\s\S]*--max-rooms/);
    await expect(startService(['--redis', 'redis://127.0.0.1:1'])).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
