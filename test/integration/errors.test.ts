import { describe, expect, it } from 'vitest';
import { RoomClient, RoomError } from '../../client/index.js';
import { expectCode, joinAll, newRoom, startServer } from '../helpers.js';

describe('bad calls get the right RoomError', () => {
  it('refuses malformed constructor options synchronously with INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      undefined,
      { room: 'r', name: 'n' },
      { url: 'http://127.0.0.1:1', room: '', name: 'n' },
      { url: 'http://127.0.0.1:1', room: 'r', name: 'n', attributes: { f: () => 1 } },
      { url: 'http://127.0.0.1:1', room: 'r', name: 'n', receiptTimeoutMs: -1 },
      { url: 'http://127.0.0.1:1', room: 'r', name: 'n', lowWaterMarkBytes: 10, highWaterMarkBytes: 5 },
    ];
    for (const options of bad) {
      expect(() => new RoomClient(options as never), JSON.stringify(options)).toThrow(RoomError);
      try {
        new RoomClient(options as never);
      } catch (error) {
        expect((error as RoomError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });

  it('rejects (never throws) before start, before enable, and after close', async () => {
    const { url } = await startServer();
    const room = newRoom(url, 'r', 'alice');
    const send = () => room.messaging.sendMessage({ to: 'x', type: 't', message: {} });
    await expectCode(room.messaging.enable(), 'NOT_STARTED');
    await expectCode(send(), 'NOT_STARTED');
    await expectCode(room.messaging.broadcastMessage({ type: 't', message: {} }), 'NOT_STARTED');
    await expectCode(room.localParticipant.setAttribute('a', 1), 'NOT_STARTED');
    expect(room.localParticipant.id).toBe('');
    await room.start();
    await expectCode(send(), 'NOT_ENABLED');
    await expectCode(room.messaging.broadcastMessage({ type: 't', message: {} }), 'NOT_ENABLED');
    await room.close();
    await expectCode(room.start(), 'CLOSED');
    await expectCode(room.messaging.enable(), 'CLOSED');
    await expectCode(send(), 'CLOSED');
    await expectCode(room.localParticipant.setAttribute('a', 1), 'CLOSED');
  });

  it('rejects malformed messages with INVALID_MESSAGE and unknown recipients with PARTICIPANT_NOT_FOUND', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    const eve = newRoom(url, 'elsewhere', 'eve');
    await joinAll(alice, bob, eve);
    const to = bob.localParticipant.id;
    const cyclic: Record<string, unknown> = {};
    cyclic['me'] = cyclic;
    const malformed: unknown[] = [
      null,
      'hello',
      { to, type: '', message: {} },
      { to, type: 7, message: {} },
      { to, type: 't', message: 'text' },
      { to, type: 't', message: [1, 2] },
      { to, type: 't', message: { n: 10n } },
      { to, type: 't', message: { f: () => 1 } },
      { to, type: 't', message: { when: new Date() } },
      { to, type: 't', message: cyclic },
      { to, type: 't', message: {}, attachment: 'bytes' },
      { to, type: 't', message: {}, attachment: [1, 2, 3] },
      { to: 42, type: 't', message: {} },
      { to: '', type: 't', message: {} },
    ];
    for (const options of malformed) {
      await expectCode(alice.messaging.sendMessage(options as never), 'INVALID_MESSAGE');
    }
    await expectCode(alice.messaging.broadcastMessage({ type: 't', message: { n: Number.NaN } }), 'INVALID_MESSAGE');
    await expectCode(alice.messaging.sendMessage({ to: 'no-such-participant', type: 't', message: {} }), 'PARTICIPANT_NOT_FOUND');
    await expectCode(alice.messaging.sendMessage({ to: eve.localParticipant.id, type: 't', message: {} }), 'PARTICIPANT_NOT_FOUND');
    await expectCode(alice.localParticipant.setAttribute('', 1), 'INVALID_ARGUMENT');
    await expectCode(alice.localParticipant.setAttributes({}), 'INVALID_ARGUMENT');
    await expectCode(alice.localParticipant.setAttribute('name', 5), 'INVALID_MESSAGE'); // refused by the service
    // Nothing of the above reached bob, and the link still works.
    let got = 0;
    bob.messaging.on('message', () => got++);
    await alice.messaging.sendMessage({ to, type: 'ok', message: {} });
    expect(got).toBe(1);
  });

  it('reports an unreachable service as SIGNALING_FAILED and a full room as ROOM_FULL', async () => {
    const closed = await startServer();
    const url = closed.url;
    await closed.close();
    await expectCode(newRoom(url, 'r', 'alice', { requestTimeoutMs: 2000 }).start(), 'SIGNALING_FAILED');

    const { url: small } = await startServer({ maxParticipantsPerRoom: 2 });
    await newRoom(small, 'r', 'a').start();
    await newRoom(small, 'r', 'b').start();
    const third = newRoom(small, 'r', 'c');
    const error = await expectCode(third.start(), 'ROOM_FULL');
    expect(error.message).toMatch(/full/);
    await newRoom(small, 'another', 'c').start(); // other rooms are unaffected
    // A failed start can be retried once there is room.
    expect(third.state).toBe('new');
  });

  it('rejects pending and new sends with PARTICIPANT_LEFT / PARTICIPANT_NOT_FOUND when the recipient leaves', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob', { maxAttachmentBytes: 128 * 1024 * 1024, maxPendingBytes: 256 * 1024 * 1024 });
    await joinAll(alice, bob);
    const bobId = bob.localParticipant.id;
    // A large send is still in flight when bob closes.
    const pending = alice.messaging.sendMessage({ to: bobId, type: 'big', message: {}, attachment: new Uint8Array(32 * 1024 * 1024) });
    const closing = bob.close();
    await expectCode(pending, 'PARTICIPANT_LEFT');
    await closing;
    await expectCode(alice.messaging.sendMessage({ to: bobId, type: 't', message: {} }), 'PARTICIPANT_NOT_FOUND');
  });
});
