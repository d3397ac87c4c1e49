/**
 * The presence manager on fakes (no sockets, no links): what it lists, what enable() waits for,
 * and what it does with participants no path reaches. Events go out as the mesh would act on them.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Presence, UNREACHABLE_RETRY_MS } from '../../client/presence.js';
import type { ParticipantInfo } from '../../protocol/signaling.js';

const info = (id: string): ParticipantInfo => ({ id, role: 'participant', attributes: { name: id } });

function watched(): { presence: Presence; log: string[] } {
  const presence = new Presence(60_000);
  const log: string[] = [];
  presence.on('connect', (id) => void log.push(`connect ${id}`));
  presence.on('participant_added', (p) => void log.push(`added ${p.id}`));
  presence.on('participant_removed', (p) => void log.push(`removed ${p.id}`));
  presence.on('drop', (id) => void log.push(`drop ${id}`));
  return { presence, log };
}

afterEach(() => void vi.useRealTimers());

describe('presence', () => {
  it('enable() does not wait for a participant a push announced and linked before the enable reply came', async () => {
    const { presence } = watched();
    presence.handleEnabled(info('a')); // the push overtakes the reply
    presence.handleLinkOpened('a');
    presence.handleConfirmed('a');
    let done = false;
    void presence.introduceAll([info('a')], () => true, 60_000).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(done).toBe(true);
    expect(presence.list().map((p) => p.id)).toEqual(['a']);
  });

  it('enable() stops waiting for participants that have not answered at all after the bound, and waits on for those that have', async () => {
    vi.useFakeTimers();
    const { presence } = watched();
    const answered = new Set(['talker']);
    let done = false;
    void presence.introduceAll([info('talker'), info('silent')], (id) => answered.has(id), 1_500).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(1_500);
    expect(done).toBe(false); // the one that answered is still opening its link
    presence.handleLinkOpened('talker');
    presence.handleConfirmed('talker');
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    expect(presence.list().map((p) => p.id)).toEqual(['talker']);
  });

  it('tries a participant that timed out again, backing off, for as long as it stays; forgets it when it leaves', async () => {
    vi.useFakeTimers();
    const { presence, log } = watched();
    presence.handleEnabled(info('far'));
    presence.handleLinkClosed('far', 'timeout', 'no path within 15000 ms');
    expect(presence.unreachableBecause('far')).toEqual({ detail: 'no path within 15000 ms', code: 'UNREACHABLE' });
    log.length = 0;
    await vi.advanceTimersByTimeAsync(UNREACHABLE_RETRY_MS);
    expect(log).toEqual(['connect far']); // tried again
    expect(presence.unreachableBecause('far')).toBeUndefined();
    presence.handleLinkClosed('far', 'timeout', 'no path within 15000 ms');
    log.length = 0;
    await vi.advanceTimersByTimeAsync(UNREACHABLE_RETRY_MS);
    expect(log).toEqual([]); // the second retry waits twice as long
    await vi.advanceTimersByTimeAsync(UNREACHABLE_RETRY_MS);
    expect(log).toEqual(['connect far']);
    presence.handleLinkClosed('far', 'timeout', 'no path');
    presence.handleRemoved('far', 'left', false); // it leaves while unreachable: no longer "in the room but unreachable"
    expect(presence.unreachableBecause('far')).toBeUndefined();
    log.length = 0;
    await vi.advanceTimersByTimeAsync(10 * UNREACHABLE_RETRY_MS);
    expect(log).toEqual([]);
  });

  it('a participant cut off as hostile is not retried, and stays unreachable while banned', async () => {
    vi.useFakeTimers();
    const { presence, log } = watched();
    presence.handleEnabled(info('bad'));
    presence.handleLinkClosed('bad', 'hostile', 'renegotiated 20 times');
    log.length = 0;
    await vi.advanceTimersByTimeAsync(10 * UNREACHABLE_RETRY_MS);
    expect(log).toEqual([]);
    expect(presence.unreachableBecause('bad')?.detail).toMatch(/hostile/);
  });

  it('a participant that failed authentication is banned like a hostile one, and sends to it say PEER_AUTHENTICATION_FAILED', async () => {
    vi.useFakeTimers();
    const { presence, log } = watched();
    presence.handleEnabled(info('mallory'));
    presence.handleLinkClosed('mallory', 'unauthenticated', 'its binding signature does not match this stream');
    expect(presence.isBanned('mallory')).toBe(true);
    log.length = 0;
    await vi.advanceTimersByTimeAsync(UNREACHABLE_RETRY_MS + 1_000); // past a timed-out participant's retry, within the 60 s ban
    presence.handleEnabled(info('mallory')); // announced again while banned: not linked, not retried
    expect(log).toEqual([]);
    expect(presence.unreachableBecause('mallory')).toEqual({ code: 'PEER_AUTHENTICATION_FAILED', detail: 'failed authentication: its binding signature does not match this stream' });
  });

  it('bans the identity key a hostile peer proved (a rejoin under a fresh id is refused), for the ban\'s time, and never a key that failed to prove itself', async () => {
    vi.useFakeTimers();
    const { presence } = watched();
    presence.handleEnabled(info('bad'));
    presence.handleEnabled(info('mallory'));
    presence.handleAuthenticated('bad', '11111 11111 11111 11111 11111 11111');
    presence.handleAuthenticated('mallory', '22222 22222 22222 22222 22222 22222');
    presence.handleLinkClosed('bad', 'hostile', 'renegotiated 20 times');
    presence.handleLinkClosed('mallory', 'unauthenticated', 'its binding signature does not match this stream');
    expect(presence.keyBanned('11111 11111 11111 11111 11111 11111')).toBe('its identity key was cut off as hostile (renegotiated 20 times)');
    expect(presence.keyBanned('22222 22222 22222 22222 22222 22222')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_001);
    expect(presence.keyBanned('11111 11111 11111 11111 11111 11111')).toBeUndefined();
  });
});

describe('presence under random pushes and link events (property)', () => {
  type Step =
    | { kind: 'enable'; who: number }
    | { kind: 'leave'; who: number; reason: 'left' | 'disabled' | 'disconnected' | 'unresponsive' }
    | { kind: 'open'; who: number }
    | { kind: 'close'; who: number; reason: 'failed' | 'timeout' | 'bye' | 'hostile' }
    | { kind: 'resume' }
    | { kind: 'wait'; ms: number };
  const ids = ['a', 'b', 'c'];
  const who = fc.nat(ids.length - 1);
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('enable' as const), who }),
    fc.record({ kind: fc.constant('leave' as const), who, reason: fc.constantFrom('left' as const, 'disabled' as const, 'disconnected' as const, 'unresponsive' as const) }),
    fc.record({ kind: fc.constant('open' as const), who }),
    fc.record({ kind: fc.constant('close' as const), who, reason: fc.constantFrom('failed' as const, 'timeout' as const, 'bye' as const, 'hostile' as const) }),
    fc.constant({ kind: 'resume' as const }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(1_000, UNREACHABLE_RETRY_MS, 4 * UNREACHABLE_RETRY_MS) }),
  );

  it('lists only participants with a peer in the mesh, never one it calls unreachable, never a banned one; forgets those who left; retries only those still in the room', async () => {
    vi.useFakeTimers();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 80, size: 'max' }), async (steps) => {
        const banMs = 10 * 60_000;
        const presence = new Presence(banMs);
        const mesh = new Set<string>(); // the peers the mesh holds, driven by presence's events as the messaging client does
        const inRoom = new Set<string>(); // what the service says
        const bannedUntil = new Map<string, number>();
        const banned = { has: (id: string): boolean => Date.now() < (bannedUntil.get(id) ?? 0) };
        let connectsForAbsent = 0;
        presence.on('connect', (id) => {
          if (!inRoom.has(id)) connectsForAbsent++;
          if (banned.has(id)) throw new Error(`linked to ${id}, which is banned`);
          mesh.add(id);
        });
        presence.on('drop', (id) => void mesh.delete(id));
        for (const s of steps) {
          const id = s.kind === 'resume' || s.kind === 'wait' ? '' : (ids[s.who] as string);
          if (s.kind === 'enable') {
            inRoom.add(id);
            presence.handleEnabled(info(id));
          } else if (s.kind === 'leave' && inRoom.has(id)) {
            inRoom.delete(id);
            presence.handleRemoved(id, s.reason, mesh.has(id));
            if (s.reason === 'disconnected' || s.reason === 'unresponsive') inRoom.add(id); // it may resume: still counted as in the room
          } else if (s.kind === 'open' && mesh.has(id)) {
            presence.handleLinkOpened(id);
            presence.handleConfirmed(id);
          } else if (s.kind === 'close' && mesh.has(id)) {
            mesh.delete(id); // the mesh gave it up and forgot the peer
            if (s.reason === 'hostile') bannedUntil.set(id, Date.now() + banMs);
            presence.handleLinkClosed(id, s.reason, 'test');
          } else if (s.kind === 'resume') {
            presence.handleResumed([...inRoom].map(info), (peer) => mesh.has(peer));
          } else if (s.kind === 'wait') {
            await vi.advanceTimersByTimeAsync(s.ms);
          }
          for (const p of presence.list()) {
            expect(mesh.has(p.id), `${p.id} listed without a peer in the mesh`).toBe(true);
            expect(presence.unreachableBecause(p.id), `${p.id} listed and called unreachable`).toBeUndefined();
            expect(banned.has(p.id), `${p.id} listed while banned`).toBe(false);
          }
          expect(connectsForAbsent, 'a link opened to a participant that had left').toBe(0);
        }
        presence.clear();
        await vi.advanceTimersByTimeAsync(10 * UNREACHABLE_RETRY_MS);
        expect(connectsForAbsent).toBe(0);
      }),
      { numRuns: 500, seed: Number(process.env['PROPERTY_SEED'] ?? 20261207), examples: [[[{ kind: 'enable', who: 0 }, { kind: 'close', who: 0, reason: 'timeout' }, { kind: 'leave', who: 0, reason: 'left' }, { kind: 'wait', ms: UNREACHABLE_RETRY_MS }]]] },
    );
  });
});
