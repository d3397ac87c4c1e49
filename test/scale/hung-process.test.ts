/**
 * A hung (not dead) service process among two: SIGSTOPped, it answers no cross-process
 * question. Joins and enables on the healthy process must not wait for it (they used to wait
 * the adapter's 3 s per question); once it continues, everything is answered in full again.
 */
import { describe, expect, it } from 'vitest';
import { joinAll, newRoom, withTimeout } from '../helpers.js';
import { startRedis, startService } from '../cluster.js';

describe('a hung service process', () => {
  it('does not stall joins and enables on the healthy one, which answers alone until the hung one is back', async () => {
    const redis = await startRedis();
    const [one, two] = await Promise.all([startService(['--redis', redis.url]), startService(['--redis', redis.url])]);
    if (one === undefined || two === undefined) throw new Error('two services');
    const alice = newRoom(one.url, 'r', 'alice');
    const bob = newRoom(two.url, 'r', 'bob');
    await joinAll(alice, bob);

    two.process.kill('SIGSTOP');
    try {
      const started = performance.now();
      const carol = newRoom(one.url, 'r', 'carol');
      // Bounded well below what it took before (3 s for each of the join's and the enable's questions).
      await withTimeout(joinAll(carol), 2_500, 'carol to join and enable beside a hung process');
      const tookMs = performance.now() - started;
      expect(carol.messaging.getParticipants().map((p) => p.name)).toEqual(['alice']); // bob's process cannot answer for him
      console.log(`[measure] join + enable beside a SIGSTOPped service process: ${tookMs.toFixed(0)} ms`);
      expect(await one.metric('roommesh_unanswered_queries_total')).toBeGreaterThan(0);
      expect(one.logs.some((l) => l.msg === 'another service process did not answer in time (hung, or Redis is down); answering from this process alone')).toBe(true);
    } finally {
      two.process.kill('SIGCONT');
    }
    // Continued within its clients' ping timeout: bob never left, and a newcomer finds everyone.
    expect((await two.get('/healthz')).status).toBe(200); // its event loop runs again
    const dave = newRoom(one.url, 'r', 'dave');
    await joinAll(dave);
    expect(dave.messaging.getParticipants().map((p) => p.name).sort()).toEqual(['alice', 'bob', 'carol']);
  });
});
