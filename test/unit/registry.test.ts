import { describe, expect, it } from 'vitest';
import { RoomRegistry, toInfo } from '../../signaling/registry.js';

const join = (registry: RoomRegistry, id: string, room: string) =>
  registry.join({ id, room, role: 'participant', attributes: { name: id }, socketId: `s-${id}` });

describe('room registry', () => {
  it('admits participants, refuses a full room and a duplicate id', () => {
    const registry = new RoomRegistry({ maxParticipantsPerRoom: 2, maxRooms: 100 });
    expect(join(registry, 'a', 'r').ok).toBe(true);
    expect(join(registry, 'b', 'r').ok).toBe(true);
    expect(join(registry, 'c', 'r')).toEqual({ ok: false, reason: 'ROOM_FULL' });
    expect(join(registry, 'a', 'other')).toEqual({ ok: false, reason: 'DUPLICATE_ID' });
    expect(join(registry, 'c', 'other').ok).toBe(true);
    expect([registry.roomCount, registry.participantCount]).toEqual([2, 3]);
  });

  it('lists only the other enabled participants of the same room', () => {
    const registry = new RoomRegistry({ maxParticipantsPerRoom: 10, maxRooms: 100 });
    for (const [id, room] of [['a', 'r'], ['b', 'r'], ['c', 'r'], ['x', 'other']] as const) join(registry, id, room);
    for (const id of ['a', 'b', 'x']) registry.setMessaging(id, true);
    expect(registry.enabledPeers('a').map((p) => p.id)).toEqual(['b']);
    expect(registry.enabledPeers('c').map((p) => p.id)).toEqual(['a', 'b']);
    expect(registry.setMessaging('a', true)).toBe(false);
    expect(registry.setMessaging('a', false)).toBe(true);
    expect(registry.enabledPeers('c').map((p) => p.id)).toEqual(['b']);
  });

  it('allows signals only between enabled participants of one room', () => {
    const registry = new RoomRegistry({ maxParticipantsPerRoom: 10, maxRooms: 100 });
    for (const [id, room] of [['a', 'r'], ['b', 'r'], ['c', 'r'], ['x', 'other']] as const) join(registry, id, room);
    for (const id of ['a', 'b', 'x']) registry.setMessaging(id, true);
    expect(registry.canSignal('a', 'b')).toBe(true);
    expect(registry.canSignal('a', 'c')).toBe(false); // c has not enabled messaging
    expect(registry.canSignal('a', 'x')).toBe(false); // another room
    expect(registry.canSignal('a', 'a')).toBe(false);
    expect(registry.canSignal('a', 'nobody')).toBe(false);
  });

  it('merges attribute updates and forgets emptied rooms', () => {
    const registry = new RoomRegistry({ maxParticipantsPerRoom: 10, maxRooms: 100 });
    join(registry, 'a', 'r');
    const record = registry.updateAttributes('a', { status: 'busy' });
    expect(record && toInfo(record)).toEqual({ id: 'a', role: 'participant', attributes: { name: 'a', status: 'busy' } });
    expect(registry.updateAttributes('ghost', { x: 1 })).toBeUndefined();
    expect(registry.leave('a')?.id).toBe('a');
    expect(registry.leave('a')).toBeUndefined();
    expect(registry.roomCount).toBe(0);
  });

  it('hands out copies, so a caller cannot change the stored attributes', () => {
    const registry = new RoomRegistry({ maxParticipantsPerRoom: 10, maxRooms: 100 });
    const outcome = join(registry, 'a', 'r');
    if (!outcome.ok) throw new Error('join failed');
    toInfo(outcome.record).attributes['name'] = 'mallory';
    expect(registry.get('a')?.attributes['name']).toBe('a');
  });
});
