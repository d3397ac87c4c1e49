/**
 * The presence manager on fakes (no sockets, no links): what it lists, what enable() waits for,
 * and what it does with participants no path reaches. Events go out as the mesh would act on them.
 */
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
    expect(presence.unreachableBecause('far')).toBe('no path within 15000 ms');
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
    expect(presence.unreachableBecause('bad')).toMatch(/hostile/);
  });
});
