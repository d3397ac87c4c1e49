import { describe, expect, it } from 'vitest';
import type { ReceivedMessage, RemoteParticipant, RoomClient } from '../../client/index.js';
import { joinAll, newRoom, startServer, waitForEvent } from '../helpers.js';

const names = (clients: RemoteParticipant[]): Array<string | undefined> => clients.map((p) => p.name).sort();

function inbox(room: RoomClient): ReceivedMessage[] {
  const received: ReceivedMessage[] = [];
  room.messaging.on('message', (m) => received.push(m));
  return received;
}

describe('a room of participants (real service, real WebRTC)', () => {
  it('covers presence, lookups, direct messages, broadcasts, attributes and leaving across two rooms', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'red', 'alice', { attributes: { role: 'tester' }, role: 'host' });
    const bob = newRoom(url, 'red', 'bob');
    const carol = newRoom(url, 'red', 'carol');
    const dave = newRoom(url, 'blue', 'dave');
    const erin = newRoom(url, 'blue', 'erin');

    // Presence is empty before enable(), even for a started room.
    await alice.start();
    expect(alice.localParticipant.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(alice.localParticipant.name).toBe('alice');
    expect(alice.localParticipant.role).toBe('host');
    expect(alice.localParticipant.getAttribute('role')).toBe('tester');
    expect(alice.messaging.getParticipants()).toEqual([]);

    const aliceEvents: string[] = [];
    alice.messaging.on('messaging_enabled', () => aliceEvents.push('enabled'));
    alice.messaging.on('participant_added', (p) => aliceEvents.push(`added ${p.name}`));
    await alice.messaging.enable();
    expect(alice.messaging.enabled).toBe(true);

    await joinAll(bob, carol, dave, erin);
    // Everyone sees exactly the others of their own room, never themselves.
    expect(names(alice.messaging.getParticipants())).toEqual(['bob', 'carol']);
    expect(names(bob.messaging.remoteParticipants)).toEqual(['alice', 'carol']);
    expect(names(carol.messaging.getParticipants())).toEqual(['alice', 'bob']);
    expect(names(dave.messaging.getParticipants())).toEqual(['erin']);
    expect(aliceEvents).toEqual(['enabled', 'added bob', 'added carol']);
    for (const room of [alice, bob, carol, dave, erin]) {
      expect(room.messaging.getParticipants().every((p) => p.online && p.link === 'direct')).toBe(true);
    }
    // A fresh array each time.
    expect(alice.messaging.getParticipants()).not.toBe(alice.messaging.getParticipants());

    // Lookups by name and id return the same object; unknowns return undefined.
    const bobSeenByAlice = alice.messaging.getParticipantByName('bob');
    expect(bobSeenByAlice?.id).toBe(bob.localParticipant.id);
    expect(alice.messaging.getParticipant(bob.localParticipant.id)).toBe(bobSeenByAlice);
    expect(alice.messaging.getParticipantByName('dave')).toBeUndefined();
    expect(alice.messaging.getParticipant(dave.localParticipant.id)).toBeUndefined();
    const aliceSeenByBob = bob.messaging.getParticipantByName('alice');
    expect(aliceSeenByBob?.role).toBe('host');
    expect(aliceSeenByBob?.getAttribute('role')).toBe('tester');
    expect(aliceSeenByBob?.getAttribute('nope')).toBeUndefined();

    const bobInbox = inbox(bob);
    const carolInbox = inbox(carol);
    const aliceInbox = inbox(alice);
    const daveInbox = inbox(dave);

    // Direct message with an attachment, addressed by object; and one by id.
    const attachment = new Uint8Array([0, 1, 2, 253, 254, 255]);
    await alice.messaging.sendMessage({ to: bobSeenByAlice!, type: 'chat', message: { text: 'Hey!', n: [1, null] }, attachment });
    await alice.messaging.sendMessage({ to: carol.localParticipant.id, type: 'ping', message: {} });
    expect(bobInbox).toHaveLength(1);
    expect(bobInbox[0]).toMatchObject({ fromParticipantId: alice.localParticipant.id, type: 'chat', message: { text: 'Hey!', n: [1, null] }, broadcast: false });
    expect(bobInbox[0]?.from).toBe(aliceSeenByBob);
    expect(bobInbox[0]?.attachment).toEqual(attachment);
    expect(carolInbox.map((m) => [m.type, m.attachment])).toEqual([['ping', undefined]]);

    // Broadcast: everyone else in the room, once; not the sender; not the other room.
    const outcomes = await bob.messaging.broadcastMessage({ type: 'announcement', message: { title: 'Maintenance' }, attachment: new Uint8Array([7]) });
    expect(outcomes.map((o) => [o.participant.name, o.ok]).sort()).toEqual([['alice', true], ['carol', true]]);
    expect(aliceInbox.map((m) => [m.type, m.broadcast, m.attachment?.[0]])).toEqual([['announcement', true, 7]]);
    expect(carolInbox.map((m) => m.type)).toEqual(['ping', 'announcement']);
    expect(bobInbox.map((m) => m.type)).toEqual(['chat']);
    expect(daveInbox).toEqual([]);

    // on() returns an unsubscribe; off() works too.
    let counted = 0;
    const off = carol.messaging.on('message', () => counted++);
    await bob.messaging.sendMessage({ to: carol.localParticipant.id, type: 'one', message: {} });
    off();
    await bob.messaging.sendMessage({ to: carol.localParticipant.id, type: 'two', message: {} });
    const listener = (): void => {
      counted += 100;
    };
    carol.messaging.on('message', listener);
    carol.messaging.off('message', listener);
    await bob.messaging.sendMessage({ to: carol.localParticipant.id, type: 'three', message: {} });
    expect(counted).toBe(1);
    expect(carolInbox.map((m) => m.type).slice(-3)).toEqual(['one', 'two', 'three']);

    // Attribute updates reach the others in the room, on the object they already hold.
    const updated = waitForEvent(bob.messaging, 'participant_attributes_updated', 'bob sees alice busy');
    const updatedElsewhere: string[] = [];
    dave.messaging.on('participant_attributes_updated', (p) => updatedElsewhere.push(p.id));
    await alice.localParticipant.setAttribute('status', 'busy');
    const [who] = await updated;
    expect(who).toBe(aliceSeenByBob);
    expect(aliceSeenByBob?.getAttribute('status')).toBe('busy');
    expect(alice.localParticipant.getAttribute('status')).toBe('busy');
    const renamed = waitForEvent(carol.messaging, 'participant_attributes_updated', 'carol sees the rename', { predicate: (p) => p.name === 'alice2' });
    await alice.localParticipant.setAttributes({ name: 'alice2', mood: { level: 3 } });
    await renamed;
    expect(carol.messaging.getParticipantByName('alice2')?.getAttribute('mood')).toEqual({ level: 3 });
    expect(updatedElsewhere).toEqual([]);

    // Disabling: the others see participant_removed at once; the disabler sees its presence emptied.
    const removedAtBob = waitForEvent(bob.messaging, 'participant_removed', 'bob sees carol leave', { timeoutMs: 1_000 });
    const removedAtAlice = waitForEvent(alice.messaging, 'participant_removed', 'alice sees carol leave', { timeoutMs: 1_000 });
    const carolEvents: string[] = [];
    carol.messaging.on('participant_removed', (p) => carolEvents.push(`removed ${p.name}`));
    carol.messaging.on('messaging_disabled', () => carolEvents.push('disabled'));
    await carol.messaging.disable();
    const [gone] = await removedAtBob;
    expect(gone.name).toBe('carol');
    expect(gone.online).toBe(false);
    expect(carolEvents.sort()).toEqual(['disabled', 'removed alice2', 'removed bob']);
    expect(carol.messaging.getParticipants()).toEqual([]);
    expect((await removedAtAlice)[0].name).toBe('carol');
    expect(names(alice.messaging.getParticipants())).toEqual(['bob']);

    // Re-enabling brings carol back for everyone.
    const back = waitForEvent(bob.messaging, 'participant_added', 'bob sees carol return', { predicate: (p) => p.name === 'carol' });
    await carol.messaging.enable();
    await back;
    expect(names(carol.messaging.getParticipants())).toEqual(['alice2', 'bob']);

    // close() is a clean leave: the others drop dave's room-mate within a second.
    const erinGone = waitForEvent(dave.messaging, 'participant_removed', 'dave sees erin close', { timeoutMs: 1_000 });
    const closed = waitForEvent(erin, 'closed', 'erin closed');
    await erin.close();
    await closed;
    await erinGone;
    expect(dave.messaging.getParticipants()).toEqual([]);
    expect(erin.state).toBe('closed');
    await erin.close(); // idempotent
  });
});
