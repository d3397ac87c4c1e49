/**
 * The application API beyond the shared suite, in Node: fire-and-forget and ignoreOffline,
 * broadcasts with progress and abort, the edges of request/response and of messages(),
 * errors that say what to pass, unknown options, and the public surface's hidden internals.
 * (Progress, abort, requests, link changes and the iterator's end also run in the shared
 * suite, in Node and in Chromium.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RoomClient, type RoomError } from '../../client/index.js';
import { captureLogger, expectCode, joinAll, newRoom, randomBytes, sha256, startServer, waitForEvent, withTimeout } from '../helpers.js';

const MiB = 1024 * 1024;

describe('sendMessageNowait and ignoreOffline', () => {
  it('sendMessageNowait returns at once and never rejects; failures reach the error event, or the logger when nobody listens', async () => {
    const { url } = await startServer();
    const logger = captureLogger();
    const alice = newRoom(url, 'r', 'alice', { logger });
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const got = waitForEvent(bob.messaging, 'message', 'the fire-and-forget message', { predicate: (m) => m.type === 'hi' });
    expect(alice.messaging.sendMessageNowait({ to: bob.localParticipant.id, type: 'hi', message: { n: 1 } })).toBeUndefined();
    expect((await got)[0].message).toEqual({ n: 1 });

    // No listener: a warning with the code. Bad input too: never a throw.
    alice.messaging.sendMessageNowait({ to: 'nobody-here', type: 'hi', message: {} });
    alice.messaging.sendMessageNowait(null as never);
    await withTimeout(
      (async () => {
        while (logger.entries.filter((e) => e.message === 'sendMessageNowait failed').length < 2) await new Promise((resolve) => setImmediate(resolve));
      })(),
      5_000,
      'two failures logged',
    );
    const logged = logger.entries.filter((e) => e.message === 'sendMessageNowait failed').map((e) => (e.fields as { code: string }).code);
    expect(logged).toEqual(['PARTICIPANT_NOT_FOUND', 'INVALID_MESSAGE']);

    // A listener: the error event, with what was sent.
    const failed = waitForEvent(alice.messaging, 'error', 'the error event');
    alice.messaging.sendMessageNowait({ to: 'nobody-here', type: 'oops', message: {} });
    const [error, context] = await failed;
    expect(error.code).toBe('PARTICIPANT_NOT_FOUND');
    expect(context).toEqual({ call: 'sendMessageNowait', type: 'oops', to: 'nobody-here' });
  });

  it('ignoreOffline resolves for a recipient not present or leaving mid-send, and still refuses a name or a bad call', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const bobId = bob.localParticipant.id;
    await alice.messaging.sendMessage({ to: 'gone-long-ago', type: 't', message: {}, ignoreOffline: true });
    const pending = alice.messaging.sendMessage({ to: bobId, type: 'big', message: {}, attachment: new Uint8Array(32 * MiB), ignoreOffline: true });
    await bob.close();
    await pending; // resolved, not PARTICIPANT_LEFT
    await alice.messaging.sendMessage({ to: bobId, type: 't', message: {}, ignoreOffline: true });
    await expectCode(alice.messaging.sendMessage({ to: bobId, type: 't', message: {} }), 'PARTICIPANT_NOT_FOUND');
    await expectCode(alice.messaging.sendMessage({ to: bobId, type: '', message: {}, ignoreOffline: true }), 'INVALID_MESSAGE');
  });
});

describe('broadcasts with progress and abort', () => {
  it('sums progress over the recipients, and an abort midway leaves each unfinished recipient ABORTED with nothing delivered', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    const carol = newRoom(url, 'r', 'carol');
    await joinAll(alice, bob, carol);
    const progress: Array<[number, number]> = [];
    const outcomes = await alice.messaging.broadcastMessage({ type: 'small', message: {}, attachment: randomBytes(3 * MiB), onProgress: (p) => progress.push([p.sentBytes, p.totalBytes]) });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const total = progress[0]?.[1] ?? 0;
    expect(total).toBeGreaterThan(2 * 3 * MiB);
    expect(progress.at(-1)).toEqual([total, total]);

    const heard: string[] = [];
    for (const room of [bob, carol]) room.messaging.on('message', (m) => heard.push(m.type));
    const controller = new AbortController();
    const aborted = await alice.messaging.broadcastMessage({
      type: 'huge',
      message: {},
      attachment: new Uint8Array(48 * MiB),
      signal: controller.signal,
      onProgress: ({ sentBytes }) => sentBytes > 8 * MiB && controller.abort(),
    });
    expect(aborted.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ABORTED', 'ABORTED']);
    const ends = await Promise.all([bob, carol].map((room) => waitForEvent(room.messaging, 'incoming_aborted', 'the abort to arrive')));
    expect(ends.map(([event]) => event.reason)).toEqual(['cancelled', 'cancelled']);
    expect((await alice.messaging.broadcastMessage({ type: 'after', message: {} })).every((o) => o.ok)).toBe(true); // resolved on receipts
    expect(heard).toEqual(['after', 'after']);
    await expectCode(alice.messaging.broadcastMessage({ type: 't', message: {}, signal: AbortSignal.abort() }), 'ABORTED');
    await expectCode(alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 't', message: {}, signal: AbortSignal.abort() }), 'ABORTED');
  });
});

describe('a large incoming message that will never complete', () => {
  it('ends with incoming_aborted when its sender leaves mid-transfer (sender_left) or messaging stops here (disabled), and nothing is delivered', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    const carol = newRoom(url, 'r', 'carol');
    await joinAll(alice, bob, carol);
    const delivered: string[] = [];
    bob.messaging.on('message', (m) => delivered.push(m.type));
    // The sender leaves once the receiver has seen the transfer begin.
    const begun = waitForEvent(bob.messaging, 'incoming_progress', 'the transfer under way at bob', { predicate: (e) => e.fromParticipantId === alice.localParticipant.id });
    const ended = waitForEvent(bob.messaging, 'incoming_aborted', 'the transfer ended at bob');
    const sending = alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'big', message: {}, attachment: new Uint8Array(48 * MiB) });
    void sending.catch(() => undefined);
    const [progress] = await begun;
    await alice.close();
    const [end] = await ended;
    expect(end).toMatchObject({ reason: 'sender_left', fromParticipantId: alice.localParticipant.id, type: 'big', messageId: progress.messageId, totalBytes: progress.totalBytes });
    expect(delivered).toEqual([]);
    // The receiver stops: what was under way ends as `disabled`, before the sender is listed as removed.
    const order: string[] = [];
    const begunAtCarol = waitForEvent(carol.messaging, 'incoming_progress', 'the transfer under way at carol');
    const sent = bob.messaging.sendMessage({ to: carol.localParticipant.id, type: 'big', message: {}, attachment: new Uint8Array(48 * MiB) });
    void sent.catch(() => undefined);
    await begunAtCarol;
    carol.messaging.on('incoming_aborted', (e) => order.push(`aborted:${e.reason}`));
    carol.messaging.on('participant_removed', (p) => order.push(`removed:${p.name ?? ''}`));
    await carol.messaging.disable();
    expect(order).toEqual(['aborted:disabled', 'removed:bob']);
  });
});

describe('request/response at its edges', () => {
  it('replies with attachments or nothing, refuses a bad reply, a second handler and a bad handler, and fails on abort or departure', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const to = bob.localParticipant.id;
    bob.messaging.onRequest('echo', ({ message, attachment, from }) => ({ message: { ...message, from: from.name ?? '' }, ...(attachment ? { attachment } : {}) }));
    bob.messaging.onRequest('nothing', () => undefined);
    bob.messaging.onRequest('bad', () => ({ message: { when: new Date() } }) as never);
    // `hang` answers only when released; each arrival is announced.
    const releases: Array<() => void> = [];
    let arrived: () => void = () => {};
    bob.messaging.onRequest('hang', () => {
      arrived();
      return new Promise<undefined>((resolve) => releases.push(() => resolve(undefined)));
    });
    const arrival = (): Promise<void> => withTimeout(new Promise<void>((resolve) => (arrived = resolve)), 5_000, 'the request to reach its handler');
    expect(() => bob.messaging.onRequest('echo', () => undefined)).toThrow(/already registered/);
    expect(() => bob.messaging.onRequest('', () => undefined)).toThrow(/type/);
    expect(() => bob.messaging.onRequest('x', 'not a function' as never)).toThrow(/function/);

    const reply = await alice.messaging.request({ to, type: 'echo', message: { a: 1 }, attachment: randomBytes(3 * MiB, 5) });
    expect(reply.message).toEqual({ a: 1, from: 'alice' });
    expect(sha256(reply.attachment ?? new Uint8Array(0))).toBe(sha256(randomBytes(3 * MiB, 5))); // (a deep equal of 3 MiB takes seconds)
    expect(reply.from.id).toBe(to);
    expect((await alice.messaging.request({ to, type: 'nothing', message: {} })).message).toEqual({});
    const bad = await expectCode(alice.messaging.request({ to, type: 'bad', message: {} }), 'REQUEST_FAILED');
    expect(bad.message).toMatch(/Date/);

    const controller = new AbortController();
    let reached = arrival();
    const hanging = alice.messaging.request({ to, type: 'hang', message: {}, signal: controller.signal });
    await reached;
    controller.abort();
    await expectCode(hanging, 'ABORTED');
    for (const release of releases.splice(0)) release(); // its late reply is dropped
    await expectCode(alice.messaging.request({ to: 'nobody', type: 'echo', message: {} }), 'PARTICIPANT_NOT_FOUND');
    reached = arrival();
    const left = expectCode(alice.messaging.request({ to, type: 'hang', message: {} }), 'PARTICIPANT_LEFT');
    await reached;
    await bob.close();
    await left;
  });
});

describe('messages()', () => {
  it('ends on close, on its signal and on break; created while disabled, it has already ended', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    const early = alice.messaging.messages();
    expect(await early.next()).toEqual({ done: true, value: undefined });
    await joinAll(alice, bob);
    const to = alice.localParticipant.id;

    const controller = new AbortController();
    const bySignal = alice.messaging.messages({ signal: controller.signal });
    const byBreak = alice.messaging.messages({ type: 'a' });
    const byClose = alice.messaging.messages();
    await bob.messaging.sendMessage({ to, type: 'a', message: { n: 1 } });
    const first = await byBreak.next();
    expect(first.value?.message).toEqual({ n: 1 });
    await byBreak.return?.();
    controller.abort();
    expect((await bySignal.next()).value?.type).toBe('a'); // what arrived before the end is still read
    expect(await bySignal.next()).toEqual({ done: true, value: undefined });
    await bob.messaging.sendMessage({ to, type: 'a', message: { n: 2 } });
    expect(await byBreak.next()).toEqual({ done: true, value: undefined });
    const types: string[] = [];
    const loop = (async () => {
      for await (const m of byClose) types.push(`${m.type}${String(m.message['n'])}`);
    })();
    await alice.close();
    await withTimeout(loop, 5_000, 'the loop to end on close');
    expect(types).toEqual(['a1', 'a2']);
    expect(() => alice.messaging.messages({ tipe: 'a' } as never)).toThrow(/did you mean `type`/);
  });
});

describe('errors that say what to do', () => {
  it('names the mistake in `to`: undefined, yourself, a name for an id, a wrong kind of value', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const send = (to: unknown) => alice.messaging.sendMessage({ to: to as string, type: 't', message: {} });
    expect((await expectCode(send(undefined), 'INVALID_MESSAGE')).message).toMatch(/`to` is undefined.*getParticipantByName/);
    expect((await expectCode(send(alice.localParticipant.id), 'INVALID_MESSAGE')).message).toMatch(/this participant itself/);
    expect((await expectCode(send(alice.localParticipant), 'INVALID_MESSAGE')).message).toMatch(/this participant itself/);
    expect((await expectCode(send('bob'), 'INVALID_MESSAGE')).message).toMatch(/"bob", a participant's name.*getParticipantByName\("bob"\)/);
    expect((await expectCode(send(42), 'INVALID_MESSAGE')).message).toMatch(/not number 42/);
    expect((await expectCode(send('carol'), 'PARTICIPANT_NOT_FOUND')).message).toMatch(/getParticipantByName/);
  });

  it('names participants by name, with the id beside it', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const bobId = bob.localParticipant.id;
    bob.messaging.onRequest('slow', () => new Promise(() => undefined));
    const timedOut = await expectCode(alice.messaging.request({ to: bobId, type: 'slow', message: {}, timeoutMs: 300 }), 'TIMEOUT');
    expect(timedOut.message).toBe(`no reply to request "slow" from participant "bob" (${bobId}) within 300 ms`);
    const waiting = expectCode(alice.messaging.request({ to: bobId, type: 'slow', message: {}, timeoutMs: 10_000 }), 'PARTICIPANT_LEFT');
    await bob.close();
    const left = await waiting;
    expect(left.message).toContain(`participant "bob" (${bobId})`);
    const gone = await expectCode(alice.messaging.sendMessage({ to: bobId, type: 't', message: {} }), 'PARTICIPANT_NOT_FOUND');
    expect(gone.message).toContain(`participant "bob" (${bobId}) is not in this room's presence list`);
  });

  it('names are not unique: getParticipantByName returns the one listed first and warns once; getParticipantsByName returns all', async () => {
    const { url } = await startServer();
    const logger = captureLogger();
    const alice = newRoom(url, 'r', 'alice', { logger });
    const first = newRoom(url, 'r', 'bob');
    const second = newRoom(url, 'r', 'bob');
    await joinAll(first, second, alice);
    const listed = alice.messaging.getParticipants().map((p) => p.id);
    const bobs = alice.messaging.getParticipantsByName('bob');
    expect(bobs.map((p) => p.id).sort()).toEqual([first.localParticipant.id, second.localParticipant.id].sort());
    expect(bobs.map((p) => p.id)).toEqual(listed.filter((id) => bobs.some((p) => p.id === id)));
    expect(alice.messaging.getParticipantByName('bob')).toBe(bobs[0]);
    expect(alice.messaging.getParticipantByName('bob')).toBe(bobs[0]);
    expect(logger.entries.filter((e) => e.message.startsWith('2 participants are named "bob"'))).toHaveLength(1);
    expect(alice.messaging.getParticipantByName('carol')).toBeUndefined();
    expect(alice.messaging.getParticipantsByName('carol')).toEqual([]);
  });

  it('refuses unknown option keys with INVALID_ARGUMENT, naming the nearest real one', async () => {
    const { url } = await startServer();
    expect(() => new RoomClient({ url, room: 'r', name: 'n', romm: 'x' } as never)).toThrow(/has no option `romm` \(did you mean `room`\?\)/);
    expect(() => new RoomClient({ url, room: 'r', name: 'n', receiptTimeout: 5 } as never)).toThrow(/did you mean `receiptTimeoutMs`/);
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const to = bob.localParticipant.id;
    const typo = await expectCode(alice.messaging.sendMessage({ to, type: 't', message: {}, atachment: new Uint8Array(1) } as never), 'INVALID_ARGUMENT');
    expect(typo.message).toMatch(/sendMessage has no option `atachment` \(did you mean `attachment`\?\)/);
    await expectCode(alice.messaging.broadcastMessage({ type: 't', message: {}, to } as never), 'INVALID_ARGUMENT');
    await expectCode(alice.messaging.request({ to, type: 't', message: {}, timeout: 5 } as never), 'INVALID_ARGUMENT');
    await expectCode(alice.messaging.sendMessage({ to, type: 't', message: {}, signal: 'stop' } as never), 'INVALID_ARGUMENT');
    await expectCode(alice.messaging.request({ to, type: 't', message: {}, timeoutMs: -1 }), 'INVALID_ARGUMENT');
  });

  it('says a URL has no scheme, or that nothing listens at it, with the URL', async () => {
    let thrown: RoomError | undefined;
    try {
      new RoomClient({ url: '127.0.0.1:8787', room: 'r', name: 'n' });
    } catch (error) {
      thrown = error as RoomError;
    }
    expect(thrown?.code).toBe('INVALID_ARGUMENT');
    expect(thrown?.message).toMatch(/"127\.0\.0\.1:8787" has no scheme.*"http:\/\/127\.0\.0\.1:8787"/);
    expect(() => new RoomClient({ url: 'ftp://example', room: 'r', name: 'n' })).toThrow(/not an http\(s\) or ws\(s\) URL/);
    const closed = await startServer();
    await closed.close();
    const error = await expectCode(newRoom(closed.url, 'r', 'n', { requestTimeoutMs: 2_000 }).start(), 'SIGNALING_FAILED');
    expect(error.message).toContain(closed.url);
    expect(error.message).toMatch(/nothing is listening there/);
    // The cause is the system's own error, not the WebSocket's internals: printed, the error stays short.
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(inspect(error).split('\n').length).toBeLessThan(25);
  });
});

describe('the public surface', () => {
  it('keeps internals off room.messaging and out of the shipped .d.ts', async () => {
    const { url } = await startServer();
    const room = newRoom(url, 'r', 'alice');
    for (const name of ['_breakLink', '_close', '_signalingLost', '_resumed', '_wantsMessaging', 'mesh', 'context']) {
      expect(name in room.messaging && typeof (room.messaging as unknown as Record<string, unknown>)[name] === 'function', name).toBe(false);
    }
    const declarations = readdirSync('client/dist/types/client', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(10);
    const text = declarations.map((f) => readFileSync(`client/dist/types/client/${f}`, 'utf8')).join('\n');
    expect(text.match(/\b_(breakLink|close|signal\w*|resumed|wantsMessaging|setLink|setOnline|assign|apply)\b/g)).toBeNull();
    expect(readFileSync('client/dist/types/client/index.d.ts', 'utf8')).not.toMatch(/messagingControl/);
    // The entry points' main symbols carry their descriptions into the shipped .d.ts (editors show them).
    expect(readFileSync('client/dist/types/client/room-client.d.ts', 'utf8')).toMatch(/\/\*\*\n \* A participant's client of one room[\s\S]*?\*\/\nexport declare class RoomClient/);
    expect(readFileSync('signaling/dist/signaling/server.d.ts', 'utf8')).toMatch(/\/\*\*\n \* Starts the signaling service[\s\S]*?\*\/\nexport declare function createSignalingServer/);
  });
});
