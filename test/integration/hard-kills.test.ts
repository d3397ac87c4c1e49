/**
 * Hard kills. The service process SIGKILLed (no close, no goodbye, no drain) and restarted on
 * its port while four participants exchange numbered messages over direct links and relayed
 * pairs: every message arrives once and in order, and nobody is removed or added. And a
 * participant SIGSTOPped (hung, not dead) for 6 s and for 20 s, then continued.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RoomClient } from '../../client/index.js';
import { spawnFixture } from '../child.js';
import { startService } from '../cluster.js';
import { captureLogger, joinAll, newRoom, startServer, until, waitForEvent, withTimeout } from '../helpers.js';
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

  it.each([
    [6, 'stays listed: the pair waits for it, and every message sent meanwhile arrives once, in order'],
    [20, 'is given up after connectTimeoutMs, then comes back into everyone\'s presence; only a send that failed can arrive twice'],
  ])('a participant SIGSTOPped for %i s, then continued, %s', async (seconds) => {
    const { url } = await startServer();
    const aliceLog = captureLogger();
    const alice = newRoom(url, 'r', 'alice', { logger: aliceLog });
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const frozen = spawnFixture('test/fixtures/participant.ts', [url, 'r', 'frozen', 'stay'], 'frozen', { ROOMMESH_FIXTURE_LOG: '1' });
    const frozenId = (await frozen.next('ready'))['id'] as string;
    await until(() => alice.messaging.getParticipant(frozenId) !== undefined && bob.messaging.getParticipant(frozenId) !== undefined, 'both list frozen');
    const churns = [churn(alice.messaging), churn(bob.messaging)];
    // Alice sends numbered messages to it throughout; each one is sent until a send resolves (the app's retry).
    const delivered: number[] = [];
    const echoes = new Map<number, number>();
    alice.messaging.on('message', (m) => {
      if (m.type === 'echoed') echoes.set(Number(m.message['n']), (echoes.get(Number(m.message['n'])) ?? 0) + 1);
    });
    let stopped = false;
    const retried = new Set<number>();
    const sender = (async () => {
      for (let n = 1; n <= 40; n++) {
        for (;;) {
          const ok = await alice.messaging.sendMessage({ to: frozenId, type: 'echo', message: { n } }).then(
            () => true,
            () => false,
          );
          if (ok) break;
          retried.add(n);
          await new Promise((resolve) => setTimeout(resolve, 200)); // not present now: try again shortly
        }
        delivered.push(n);
        if (n === 10) {
          frozen.process.kill('SIGSTOP');
          stopped = true;
          setTimeout(() => frozen.process.kill('SIGCONT'), seconds * 1000);
        }
      }
    })();
    try {
      await withTimeout(sender, seconds * 1000 + 40_000, 'every message sent (retried while it is not present)');
      // Back in everyone's presence, and its echoes came: each message was handled exactly once.
      await until(() => alice.messaging.getParticipant(frozenId) !== undefined && bob.messaging.getParticipant(frozenId) !== undefined, 'both list frozen again', 20_000);
      await until(() => echoes.size === 40, 'every echo back', 20_000);
      const twice = [...echoes.entries()].filter(([, times]) => times !== 1).map(([n]) => n);
      expect(stopped).toBe(true);
      if (seconds === 6) {
        // The pair waited: nothing failed, nothing was retried, each message was handled once.
        expect(churns, 'nobody removed or added').toEqual([{ added: 0, removed: 0 }, { added: 0, removed: 0 }]);
        expect([...retried]).toEqual([]);
        expect(twice).toEqual([]);
      } else {
        // Given up after connectTimeoutMs: the send then under way failed (PARTICIPANT_LEFT) although it may
        // have reached the frozen process's socket buffer, so the app's retry can make it arrive twice. Nothing else can.
        expect(churns.map((c) => c.removed), 'given up once on each side').toEqual([1, 1]);
        expect(twice.filter((n) => !retried.has(n)), 'handled twice without a failed send').toEqual([]);
      }
    } catch (error) {
      // Both sides' logs, for a failure that is hard to reproduce (it came once in CI: the frozen initiator never offered again).
      const state = (() => {
        try {
          return /State:\s*(.*)/.exec(readFileSync(`/proc/${frozen.process.pid ?? 0}/status`, 'utf8'))?.[1] ?? '?';
        } catch {
          return 'gone';
        }
      })();
      console.error(`[diagnosis] frozen's process state: ${state}`);
      frozen.process.kill('SIGKILL');
      const ids = `alice ${alice.localParticipant.id}, frozen ${frozenId}`;
      const ended = await frozen.exited;
      console.error(`[diagnosis] ${ids}\nalice: ${aliceLog.entries.map((e) => `${e.level} ${e.message} ${JSON.stringify(e.fields)}`).join('\n')}\nfrozen (exit ${String(ended.code)}, ${String(ended.signal)}):\n${ended.stderr}`);
      throw error;
    } finally {
      frozen.process.kill('SIGKILL');
    }
  }, 120_000); // beyond its own bounds (the send loop, then two waits of 20 s), so that a failure prints its diagnosis
});

