import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/signaling.js';
import { ask, captureLogger, expectCode, joinAll, newRoom, rawClient, serviceLog, startServer, until, waitForEvent, withTimeout } from '../helpers.js';
import { upgradeRefusingProxy } from '../proxy.js';

describe('signaling service against a badly behaved client', () => {
  it('answers every malformed payload with an error, logs it, and keeps serving the room', async () => {
    const { lines, logger } = serviceLog();
    const { url } = await startServer({ logger, maxPayloadBytes: 16 * 1024 });
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const raw = await rawClient(url);

    const refused: Array<[string, unknown[], string]> = [
      ['messaging:enable', [], 'NOT_STARTED'],
      ['join', [{}], 'INVALID_MESSAGE'],
      ['join', ['room'], 'INVALID_MESSAGE'],
      ['join', [{ v: PROTOCOL_VERSION, room: 'r', name: 5 }], 'INVALID_MESSAGE'],
      ['join', [{ v: 99, room: 'r', name: 'x' }], 'INVALID_MESSAGE'],
      ['join', [{ v: PROTOCOL_VERSION, room: 'r', name: 'x', id: 'chosen-id' }], 'INVALID_MESSAGE'],
      ['join', [{ v: PROTOCOL_VERSION, room: 'r', name: 'x', attributes: { a: 1n.toString(), f: { g: [1] } }, extra: 1 }], 'INVALID_MESSAGE'],
    ];
    for (const [event, args, code] of refused) {
      const reply = await ask(raw, event, ...args);
      expect(reply, `${event} ${JSON.stringify(args)}`).toMatchObject({ ok: false, error: { code } });
      expect(reply.error?.message.length).toBeGreaterThan(0);
    }
    expect(lines.filter((l) => l.msg === 'request refused').length).toBe(refused.length);

    // Joined, the raw client still cannot reach into the room, nor speak for anyone.
    const joined = await ask(raw, 'join', { v: PROTOCOL_VERSION, room: 'r', name: 'mallory' });
    expect(joined.ok).toBe(true);
    expect(await ask(raw, 'join', { v: PROTOCOL_VERSION, room: 'other', name: 'm2' })).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    const failures: Array<{ code: string; event: string }> = [];
    raw.on('failure', (f: { code: string; event: string }) => failures.push(f));
    const offer = { type: 'offer', sdp: 'v=0' };
    // Not enabled yet: no signals to anyone.
    raw.emit('signal', { to: alice.localParticipant.id, sid: 's', data: offer });
    raw.emit('signal', { to: alice.localParticipant.id, sid: 's', data: { type: 'offer', sdp: 5 } });
    raw.emit('signal', { to: alice.localParticipant.id, sid: 's', from: bob.localParticipant.id, data: offer });
    raw.emit('signal', 'garbage');
    raw.emit('no-such-event', 1, 2, 3);
    await until(() => failures.length >= 4, 'four failure events', 5000);
    expect(failures.map((f) => f.code)).toEqual(['PARTICIPANT_NOT_FOUND', 'INVALID_MESSAGE', 'INVALID_MESSAGE', 'INVALID_MESSAGE']);

    // A payload over the size limit costs the offender its connection, nobody else anything.
    const dropped = new Promise<string>((resolve) => raw.once('disconnect', (reason) => resolve(reason)));
    raw.emit('signal', { to: alice.localParticipant.id, sid: 's', data: { type: 'offer', sdp: 'x'.repeat(64 * 1024) } });
    expect(await withTimeout(dropped, 5000, 'oversized payload disconnect')).toBe('transport close');
    await until(() => lines.some((l) => /payload over maxPayloadBytes/.test(l.msg)), 'the operator told of the dropped connection', 5000);

    // The room never saw mallory, and its own traffic flows.
    expect(alice.messaging.getParticipantByName('mallory')).toBeUndefined();
    const got = waitForEvent(bob.messaging, 'message', 'bob still receives');
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'still', message: { ok: true } });
    expect((await got)[0].type).toBe('still');
  });

  it('relays signals only inside a room, stamped with the real sender', async () => {
    const { url } = await startServer();
    const victim = await rawClient(url);
    const attacker = await rawClient(url);
    const join = (socket: Socket, room: string, name: string) => ask(socket, 'join', { v: PROTOCOL_VERSION, room, name });
    const victimId = (await join(victim, 'a', 'victim')).participant?.id ?? '';
    const attackerId = (await join(attacker, 'b', 'attacker')).participant?.id ?? '';
    expect(victimId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(attackerId).not.toBe(victimId);
    await ask(victim, 'messaging:enable');
    await ask(attacker, 'messaging:enable');
    const seen: unknown[] = [];
    victim.on('signal', (s: unknown) => seen.push(s));
    const failed = new Promise<{ code: string }>((resolve) => attacker.once('failure', resolve));
    attacker.emit('signal', { to: victimId, sid: 's', data: { type: 'offer', sdp: 'v=0' } });
    expect((await withTimeout(failed, 5000, 'cross-room refusal')).code).toBe('PARTICIPANT_NOT_FOUND');

    // Same room now: the signal arrives, stamped with the sender the service knows.
    const friend = await rawClient(url);
    const friendId = (await join(friend, 'a', 'friend')).participant?.id ?? '';
    await ask(friend, 'messaging:enable');
    const arrived = new Promise<{ from: string }>((resolve) => victim.once('signal', resolve));
    friend.emit('signal', { to: victimId, sid: 's', data: { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: 0, sdpMid: '0' } } });
    expect(await withTimeout(arrived, 5000, 'relayed signal')).toEqual({
      from: friendId,
      sid: 's',
      data: { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: 0, sdpMid: '0' } },
    });
    expect(seen).toHaveLength(1);
  });
});

describe('the service over HTTP', () => {
  it('serves the demo page at /, the browser bundle it loads, and 404 for anything else', async () => {
    const { url } = await startServer();
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>roommesh demo room</title>');
    expect(html).toContain('src="/demo.js"');
    for (const [path, type] of [['/demo.js', /javascript/], ['/demo.css', /css/], ['/roommesh.js', /javascript/]] as const) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(type);
      expect((await response.text()).length, path).toBeGreaterThan(100);
    }
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/../package.json`)).status).toBe(404);
  });
});

describe('ordinary ends are quiet', () => {
  it('a closed room, a dropped socket and a signal racing a departure log no warnings on either side', async () => {
    const { lines, logger } = serviceLog();
    const { url } = await startServer({ logger });
    const aliceLog = captureLogger();
    const alice = newRoom(url, 'r', 'alice', { logger: aliceLog });
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const raw = await rawClient(url);
    await ask(raw, 'join', { v: PROTOCOL_VERSION, room: 'r', name: 'tab' });
    raw.io.engine.close(); // the transport ends without a goodbye, as when a tab is closed
    const bobId = bob.localParticipant.id;
    const removed = waitForEvent(alice.messaging, 'participant_removed', 'bob removed at alice');
    await bob.close();
    await removed;
    // A signal to the participant that just left (candidates still trickling): the service refuses
    // it as not found, which the client takes as the ordinary race it is.
    const signaling = (alice as unknown as { signaling: { signal(request: { to: string; sid: string; data: unknown }): void; on(event: 'failure', listener: () => void): () => void } }).signaling;
    const refused = new Promise<void>((resolve) => signaling.on('failure', () => resolve()));
    signaling.signal({ to: bobId, sid: 's', data: { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 198.18.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } } });
    await withTimeout(refused, 5000, 'the refusal of a signal to a departed participant');
    expect(aliceLog.entries.filter((e) => e.message === 'the signaling service refused a message').map((e) => e.level)).toEqual(['debug']);
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['running open: no secret, so anyone who reaches this service may join any room under any name']);
    expect(aliceLog.entries.filter((e) => e.level === 'warn')).toEqual([]);
  });
});

describe('behind a proxy that refuses WebSocket upgrades', () => {
  it('longPolling: true joins, links and messages; without it, start() fails with SIGNALING_FAILED', async () => {
    const { url } = await startServer();
    const proxy = await upgradeRefusingProxy(url);
    const stuck = newRoom(proxy.url, 'r', 'stuck', { requestTimeoutMs: 1_500, reconnectDelayMs: 100 });
    await expectCode(stuck.start(), 'SIGNALING_FAILED');
    expect(proxy.refusedUpgrades()).toBeGreaterThan(0);

    const alice = newRoom(proxy.url, 'r', 'alice', { longPolling: true });
    const bob = newRoom(proxy.url, 'r', 'bob', { longPolling: true });
    await joinAll(alice, bob);
    const got = waitForEvent(bob.messaging, 'message', 'bob gets the message');
    await alice.messaging.sendMessage({ to: alice.messaging.getParticipantByName('bob')!, type: 'chat', message: { text: 'through the proxy' } });
    const [received] = await got;
    expect(received.message).toEqual({ text: 'through the proxy' });
    const renamed = waitForEvent(bob.messaging, 'participant_attributes_updated', 'bob sees alice busy');
    await alice.localParticipant.setAttribute('status', 'busy');
    const [updated] = await renamed;
    expect(updated.getAttribute('status')).toBe('busy');
  });
});

describe('TURN credentials from the service', () => {
  it('hands each participant its own, at join and resume, pushes fresh ones before they expire, and warns about static ones on an open service', async () => {
    const { lines, logger } = serviceLog();
    const { url } = await startServer({ logger, turn: { secret: 'turn-secret', urls: ['turn:198.18.0.10:3478?transport=udp'], ttlSeconds: 2 }, iceServers: [{ urls: 'stun:198.18.0.10:3478' }] });
    const raw = await rawClient(url);
    const joined = (await ask(raw, 'join', { v: PROTOCOL_VERSION, room: 'r', name: 'a' })) as unknown as { participant: { id: string }; iceServers: Array<{ urls: unknown; username?: string; credential?: string }> };
    const [stun, turn] = joined.iceServers;
    expect(stun).toEqual({ urls: 'stun:198.18.0.10:3478' });
    expect(turn?.urls).toEqual(['turn:198.18.0.10:3478?transport=udp']);
    const [expiry, label] = (turn?.username ?? '').split(':');
    expect(label).toBe(joined.participant.id);
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(0);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThanOrEqual(2);
    // At 80 % of 2 s, fresh ones, expiring later.
    const pushed = await withTimeout(new Promise<{ iceServers: Array<{ username?: string }> }>((resolve) => raw.once('ice:servers', resolve)), 5_000, 'fresh ICE servers pushed');
    expect(Number(pushed.iceServers[1]?.username?.split(':')[0])).toBeGreaterThanOrEqual(Number(expiry));
    expect(lines.some((l) => /static TURN credentials/.test(l.msg))).toBe(false); // no static credential given

    const open = serviceLog();
    await startServer({ logger: open.logger, iceServers: [{ urls: 'turn:198.18.0.10:3478', username: 'u', credential: 'p' }] });
    expect(open.lines.some((l) => l.level === 40 && /handing static TURN credentials/.test(l.msg))).toBe(true);
  });
});
