/**
 * Redis that fails over. Two service processes on a Sentinel set: its master SIGKILLed while
 * they carry a room; /healthz reports the outage while it lasts, nothing crashes, and once a
 * replica is promoted, joins, presence and signals work across both processes again. And two
 * processes on a 3-master Redis Cluster (the sharded adapter), rooms spread over its shards.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { joinAll, newRoom, waitForEvent } from '../helpers.js';
import { eventually, startRedisCluster, startSentinelSet, startService, type ServiceProcess } from '../cluster.js';


const healthy = async (service: ServiceProcess): Promise<boolean> => (await service.get('/healthz')).status === 200;

describe('Redis that fails over', () => {
  it('follows a Sentinel fail-over: the outage shows in /healthz, then joins, presence and signals work across processes again', async () => {
    const set = await startSentinelSet();
    const args = ['--redis-sentinel', set.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','), '--redis-master', set.master];
    const [one, two] = await Promise.all([startService(args), startService(args)]);
    if (one === undefined || two === undefined) throw new Error('two services');
    expect(JSON.parse((await one.get('/healthz')).body)).toMatchObject({ status: 'ok', redis: 'up', servers: 2 });
    const fast = { reconnectDelayMs: 100, reconnectMaxDelayMs: 400 };
    const alice = newRoom(one.url, 'r', 'alice', fast);
    const bob = newRoom(two.url, 'r', 'bob', fast);
    await joinAll(alice, bob);
    expect(alice.messaging.getParticipantByName('bob')).toBeDefined();

    const killedAt = performance.now();
    set.nodes[0]?.process.kill('SIGKILL');
    await eventually(async () => !(await healthy(one)), '/healthz to report the outage');
    const outageSeenAt = performance.now();
    await eventually(async () => (await healthy(one)) && (await healthy(two)), '/healthz up on both once a replica is promoted', 30_000);
    const healthyAt = performance.now();
    // …and each process hears the other through the new master again (its subscriptions moved too).
    const servers = async (service: ServiceProcess): Promise<number> => (JSON.parse((await service.get('/healthz')).body) as { servers?: number }).servers ?? 0;
    await eventually(async () => (await servers(one)) === 2 && (await servers(two)) === 2, 'both processes to count two servers', 15_000);
    const rejoinedAt = performance.now();

    // A newcomer on each process finds everyone on both: joins, presence queries and signals cross processes again.
    const carol = newRoom(one.url, 'r', 'carol', fast);
    const dave = newRoom(two.url, 'r', 'dave', fast);
    await joinAll(carol, dave);
    const joinedAt = performance.now();
    for (const room of [carol, dave]) {
      const others = ['alice', 'bob', 'carol', 'dave'].filter((n) => n !== room.localParticipant.name);
      expect(room.messaging.getParticipants().map((p) => p.name).sort(), `${room.localParticipant.name}'s presence`).toEqual(others);
    }
    // The first pair never lost each other, and still talks.
    const got = waitForEvent(bob.messaging, 'message', 'alice to bob after the fail-over', { predicate: (m) => m.type === 'after' });
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'after', message: {} });
    await got;
    expect(one.process.exitCode).toBeNull();
    expect(two.process.exitCode).toBeNull();
    console.log(
      `[measure] Sentinel fail-over: outage in /healthz after ${(outageSeenAt - killedAt).toFixed(0)} ms, healthy again after ${(healthyAt - killedAt).toFixed(0)} ms, both processes hearing each other after ${(rejoinedAt - killedAt).toFixed(0)} ms, two newcomers joined and linked across processes ${(joinedAt - killedAt).toFixed(0)} ms after the kill`,
    );
  });

  it('spreads rooms over the shards of a Redis Cluster, each room working across two processes', async () => {
    const cluster = await startRedisCluster();
    const args = ['--redis-cluster', cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')];
    const [one, two] = await Promise.all([startService(args), startService(args)]);
    if (one === undefined || two === undefined) throw new Error('two services');
    const rooms = ['north', 'south', 'east', 'west', 'up', 'down'];
    for (const room of rooms) {
      const a = newRoom(one.url, room, `${room}-a`);
      const b = newRoom(two.url, room, `${room}-b`);
      await joinAll(a, b);
      expect(a.messaging.getParticipants().map((p) => p.name)).toEqual([`${room}-b`]);
      expect(b.messaging.getParticipants().map((p) => p.name)).toEqual([`${room}-a`]);
      const got = waitForEvent(b.messaging, 'message', `${room}: a to b`);
      await a.messaging.sendMessage({ to: b.localParticipant.id, type: 't', message: { room } });
      expect((await got)[0].message).toEqual({ room });
    }
    // The sharded adapter's channels (one per room and namespace) live on more than one shard.
    const run = promisify(execFile);
    const perNode = await Promise.all(cluster.nodes.map(async (n) => (await run('redis-cli', ['-p', String(n.port), 'PUBSUB', 'SHARDCHANNELS', 'roommesh*'])).stdout.split('\n').filter((l) => l.length > 0)));
    expect(perNode.filter((channels) => channels.length > 0).length, `shard channels per node: ${JSON.stringify(perNode)}`).toBeGreaterThan(1);
    expect(JSON.parse((await one.get('/healthz')).body)).toMatchObject({ status: 'ok', redis: 'up' });
  });
});
