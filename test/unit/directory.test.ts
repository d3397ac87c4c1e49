import { describe, expect, it, vi } from 'vitest';
import { Directory, KeyedLock, TtlSet, memberFrom, rooms, uniqueMembers, type MemberData, type SocketSource } from '../../signaling/directory.js';

const data = (id: string, room: string, messaging = true): MemberData => ({ participantId: id, room, role: 'participant', attributes: { name: id }, messaging });

/** An in-memory SocketSource: `placed` maps a Socket.IO room name to the sockets' data in it. */
function source(placed: Record<string, MemberData[]>, local: string[] = []): SocketSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    fetch: async (room) => {
      asked.push(room);
      return (placed[room] ?? []).map((d, i) => ({ id: `s${i}`, data: d, disconnect: () => undefined }));
    },
    localRooms: () => new Map(local.map((name) => [name, new Set<string>()])),
  };
}

describe('directory', () => {
  it('names rooms so that no participant id or room name can collide with another kind', () => {
    const names = [rooms.all('a:b'), rooms.enabled('a:b'), rooms.participant('x'), rooms.reachable('x', 'a:b'), rooms.reachable('x:a', 'b')];
    expect(new Set(names).size).toBe(names.length);
  });

  it('reads a member only from a socket that has joined, and lists each participant once', () => {
    expect(memberFrom({ participantId: undefined, room: 'r' })).toBeUndefined();
    expect(memberFrom(data('a', 'r', false))).toEqual({ id: 'a', room: 'r', role: 'participant', attributes: { name: 'a' }, messaging: false });
    // A resuming participant may briefly hold two connections.
    expect(uniqueMembers([data('a', 'r'), data('b', 'r'), data('a', 'r'), undefined, {}]).map((m) => m.id)).toEqual(['a', 'b']);
  });

  it('lists the enabled peers of a room without the asker, across whatever the source returns', async () => {
    const directory = new Directory(source({ [rooms.enabled('r')]: [data('a', 'r'), data('b', 'r'), data('c', 'r', false)] }));
    expect((await directory.enabledPeers('r', 'a')).map((m) => m.id)).toEqual(['b']);
    expect(await directory.enabledPeers('empty', 'a')).toEqual([]);
  });

  it('remembers that a participant is reachable for a while, never that it is not', async () => {
    const placed: Record<string, MemberData[]> = {};
    const src = source(placed);
    const directory = new Directory(src, 60_000);
    expect(await directory.isReachable('b', 'r')).toBe(false);
    placed[rooms.reachable('b', 'r')] = [data('b', 'r')];
    expect(await directory.isReachable('b', 'r')).toBe(true);
    const asked = src.asked.length;
    expect(await directory.isReachable('b', 'r')).toBe(true);
    expect(src.asked.length).toBe(asked); // answered from memory
    directory.forget('b', 'r');
    delete placed[rooms.reachable('b', 'r')];
    expect(await directory.isReachable('b', 'r')).toBe(false);
  });

  it('asks once for a burst of questions about one participant, and again after a failed answer', async () => {
    let asked = 0;
    let fail = true;
    const directory = new Directory({
      fetch: async () => {
        asked++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (fail) throw new Error('timeout reached');
        return [{ id: 's', data: data('b', 'r'), disconnect: () => undefined }];
      },
      localRooms: () => new Map(),
    });
    const burst = Array.from({ length: 100 }, () => directory.isReachable('b', 'r').catch(() => 'failed'));
    expect(new Set(await Promise.all(burst))).toEqual(new Set(['failed']));
    expect(asked).toBe(1);
    fail = false;
    expect(await Promise.all([directory.isReachable('b', 'r'), directory.isReachable('b', 'r')])).toEqual([true, true]);
    expect(asked).toBe(2);
  });

  it('counts only this process’s rooms for the service limit', () => {
    const directory = new Directory(source({}, [rooms.all('r1'), rooms.all('r2'), rooms.enabled('r1'), 'socket-id']));
    expect(directory.localRoomCount()).toBe(2);
    expect(directory.hostsLocally('r1')).toBe(true);
    expect(directory.hostsLocally('r3')).toBe(false);
  });
});

describe('TtlSet', () => {
  it('forgets a key after its time, and bounds its size', () => {
    const set = new TtlSet(100, 2);
    set.add('a', 0);
    expect(set.has('a', 99)).toBe(true);
    expect(set.has('a', 100)).toBe(false);
    set.add('a', 0);
    set.add('b', 0);
    set.add('c', 0); // full: starts afresh rather than grow
    expect([set.has('a', 1), set.has('b', 1), set.has('c', 1)]).toEqual([false, false, true]);
  });
});

describe('KeyedLock', () => {
  it('runs tasks for one key in turn, other keys alongside, and survives a failing task', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let releaseFirst: () => void = () => {};
    const first = lock.run('r', () => new Promise<void>((resolve) => (releaseFirst = () => (order.push('r1'), resolve()))));
    const failing = lock.run('r', async () => {
      order.push('r2');
      throw new Error('boom');
    });
    const third = lock.run('r', async () => void order.push('r3'));
    await lock.run('other', async () => void order.push('other'));
    expect(order).toEqual(['other']);
    releaseFirst();
    await first;
    await expect(failing).rejects.toThrow('boom');
    await third;
    expect(order).toEqual(['other', 'r1', 'r2', 'r3']);
  });

  it('answers from this process alone when another does not answer in time, and waits less for a while after', async () => {
    let hung = true;
    const everywhere = [data('a', 'r'), data('b', 'r')];
    const here = [data('a', 'r')];
    const sockets = (list: MemberData[]) => list.map((d, i) => ({ id: `s${i}`, data: d, disconnect: () => undefined }));
    let misses = 0;
    const directory = new Directory(
      {
        fetch: () => (hung ? new Promise<never>(() => {}) : Promise.resolve(sockets(everywhere))),
        fetchLocal: async () => sockets(here),
        localRooms: () => new Map(),
      },
      1_000,
      { deadlineMs: 200, afterMissMs: 20, missWindowMs: 60_000, onMiss: () => misses++ },
    );
    vi.useFakeTimers();
    try {
      /** Settles `work` by advancing fake time `ms`, and says whether it had settled just before. */
      const after = async <T>(work: Promise<T>, ms: number): Promise<{ early: boolean; value: T }> => {
        let settled = false;
        void work.then(() => (settled = true));
        await vi.advanceTimersByTimeAsync(ms - 1);
        const early = settled;
        await vi.advanceTimersByTimeAsync(1);
        return { early, value: await work };
      };
      const first = await after(directory.enabledPeers('r', 'x'), 200);
      expect(first.early, 'waits deadlineMs for everyone').toBe(false);
      expect(first.value.map((m) => m.id)).toEqual(['a']);
      const second = await after(directory.members('r'), 20);
      expect(second.early, 'then only afterMissMs').toBe(false);
      expect(second.value.map((m) => m.id)).toEqual(['a']);
      expect(misses).toBe(2);
    } finally {
      vi.useRealTimers();
    }
    hung = false;
    expect((await directory.members('r')).map((m) => m.id)).toEqual(['a', 'b']); // everyone again once all answer
    expect(misses).toBe(2);
  });

  it('answers a presence check with "cannot say" when the participant may be on a process that did not answer, never "gone"', async () => {
    let hung = true;
    const sockets = (list: MemberData[] | undefined) => (list ?? []).map((d, i) => ({ id: `s${i}`, data: d, disconnect: () => undefined }));
    const everywhere: Record<string, MemberData[]> = { [rooms.reachable('a', 'r')]: [data('a', 'r')], [rooms.reachable('b', 'r')]: [data('b', 'r')] };
    const here: Record<string, MemberData[]> = { [rooms.reachable('a', 'r')]: [data('a', 'r')] };
    const directory = new Directory(
      {
        fetch: (room) => (hung ? new Promise<never>(() => {}) : Promise.resolve(sockets(everywhere[room]))),
        fetchLocal: async (room) => sockets(here[room]),
        localRooms: () => new Map(),
      },
      1_000,
      { deadlineMs: 20, afterMissMs: 5, missWindowMs: 60_000 },
    );
    expect(await directory.presence('a', 'r')).toBe(true); // on this process
    expect(await directory.presence('b', 'r')).toBeUndefined(); // perhaps on the silent one
    hung = false;
    expect(await directory.presence('b', 'r')).toBe(true);
    expect(await directory.presence('c', 'r')).toBe(false); // everyone answered: gone
  });
});
