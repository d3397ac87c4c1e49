import wrtc from '@roamhq/wrtc';
import SimplePeer from 'simple-peer';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePacket, encodeHeader, encodePacket, type WireRecord } from '../../client/wire/codec.js';
import { PROTOCOL_VERSION } from '../../protocol/signaling.js';
import { createToken } from '../../signaling/index.js';
import { ask, captureLogger, expectCode, joinAll, newRoom, rawClient, serviceLog, startServer, waitForEvent, withTimeout } from '../helpers.js';
import { HostileStream } from '../hostile.js';

const SECRET = 'test-secret-of-at-least-32-bytes-0123456789';
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('signed joins', () => {
  it('admits only valid tokens for the right room, with the identity the token names', async () => {
    const { url } = await startServer({ secret: SECRET });
    const token = (overrides: Partial<Parameters<typeof createToken>[0]> = {}) =>
      createToken({ secret: SECRET, room: 'r', name: 'alice', role: 'host', attributes: { team: 'blue' }, ...overrides });
    const refusals: Array<[string, Promise<string | undefined>, RegExp]> = [
      ['missing', Promise.resolve(undefined), /requires a join token/],
      ['expired', token({ expiresIn: -10 }), /expired/],
      ['wrong secret', createToken({ secret: 'another-secret-of-at-least-32-bytes-xx', room: 'r', name: 'alice' }), /not signed by this service's secret or issuer key/],
      ['wrong room', token({ room: 'other' }), /for room "other", not "r"/],
      ['garbage', Promise.resolve('not.a.jwt'), /malformed/],
      ['garbage that looks like a JWT', Promise.resolve('eyJhbGciOiJIUzI1NiJ9.e30.AAAA'), /not signed by this service|malformed/],
    ];
    for (const [what, tokenPromise, reason] of refusals) {
      const t = await tokenPromise;
      const room = newRoom(url, 'r', 'mallory', t === undefined ? {} : { token: t });
      const error = await expectCode(room.start(), 'UNAUTHORIZED');
      expect(error.message, what).toMatch(reason);
    }

    // Valid: identity from the token, even though the client claims otherwise.
    const alice = newRoom(url, 'r', 'mallory', { role: 'admin', attributes: { team: 'red', note: 'mine' }, token: await token() });
    await alice.start();
    expect(alice.localParticipant.name).toBe('alice');
    expect(alice.localParticipant.role).toBe('host');
    expect(alice.localParticipant.attributes).toEqual({ name: 'alice', team: 'blue', note: 'mine' });
    // What the token set cannot be changed; the rest can.
    await expectCode(alice.localParticipant.setAttribute('name', 'bob'), 'UNAUTHORIZED');
    await expectCode(alice.localParticipant.setAttribute('team', 'red'), 'UNAUTHORIZED');
    await alice.localParticipant.setAttribute('note', 'changed');
    expect(alice.localParticipant.getAttribute('note')).toBe('changed');
    // Others see the token's identity too.
    const bob = newRoom(url, 'r', 'bob', { token: await token({ name: 'bob', role: 'user', attributes: {} }) });
    await joinAll(alice, bob);
    expect(bob.messaging.getParticipantByName('alice')?.role).toBe('host');
  });

  it('logs at start that a service without a secret is open', async () => {
    const { lines, logger } = serviceLog();
    await startServer({ logger });
    expect(lines.some((l) => l.level === 40 && /running open/.test(l.msg))).toBe(true);
    const secured = serviceLog();
    await startServer({ logger: secured.logger, secret: SECRET });
    expect(secured.lines.some((l) => /running open/.test(l.msg))).toBe(false);
  });
});

describe('limits', () => {
  it('refuses rooms past the service limit with SERVICE_FULL, without harming existing rooms', async () => {
    const { url } = await startServer({ maxRooms: 1 });
    const alice = newRoom(url, 'first', 'alice');
    const bob = newRoom(url, 'first', 'bob');
    await joinAll(alice, bob);
    await expectCode(newRoom(url, 'second', 'carol').start(), 'SERVICE_FULL');
    const got = waitForEvent(bob.messaging, 'message', 'first room still works');
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'ok', message: {} });
    await got;
  });

  it('drops a flood with RATE_LIMITED, then disconnects the flooder; other rooms do not notice', async () => {
    const { lines, logger } = serviceLog();
    const { url } = await startServer({ logger, signalsPerSecond: 50, signalBurst: 100 });
    const alice = newRoom(url, 'calm', 'alice');
    const bob = newRoom(url, 'calm', 'bob');
    await joinAll(alice, bob);
    const flooder = await rawClient(url);
    expect((await ask(flooder, 'join', { v: PROTOCOL_VERSION, room: 'storm', name: 'flooder' })).ok).toBe(true);
    const limited = new Promise<{ code: string }>((resolve) => flooder.once('failure', resolve));
    const disconnected = new Promise<string>((resolve) => flooder.once('disconnect', resolve));
    for (let i = 0; i < 1000; i++) flooder.emit('presence:check', { id: 'AAAAAAAAAAAAAAAAAAAAAA' }, () => {});
    expect((await withTimeout(limited, 5000, 'RATE_LIMITED failure')).code).toBe('RATE_LIMITED');
    expect(await withTimeout(disconnected, 5000, 'flooder disconnected')).toBe('io server disconnect');
    expect(lines.some((l) => /rate limit hit/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /disconnected for flooding/.test(l.msg))).toBe(true);
    // The calm room's traffic and signaling are untouched.
    const carol = newRoom(url, 'calm', 'carol');
    await joinAll(carol);
    expect(carol.messaging.getParticipants()).toHaveLength(2);
  });

  it('refuses a message the recipient has no reassembly memory for, with MESSAGE_TOO_LARGE', async () => {
    const { url } = await startServer();
    const alice = newRoom(url, 'r', 'alice');
    const logger = captureLogger();
    const bob = newRoom(url, 'r', 'bob', { maxPendingBytes: 1024 * 1024, logger });
    await joinAll(alice, bob);
    const error = await expectCode(
      alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 't', message: {}, attachment: new Uint8Array(2 * 1024 * 1024) }),
      'MESSAGE_TOO_LARGE',
    );
    expect(error.message).toMatch(/incomplete messages/);
    expect(logger.entries.some((e) => e.message === 'refused a message from a peer')).toBe(true);
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 't', message: {}, attachment: new Uint8Array(1000) });
  });
});

describe('a hostile peer on a real data channel', () => {
  it('has every malformed frame dropped and counted, while the room keeps working', async () => {
    const { url } = await startServer();
    const logger = captureLogger();
    const victim = newRoom(url, 'r', 'victim', { logger, maxIncompleteMessages: 1 });
    const friend = newRoom(url, 'r', 'friend');
    await joinAll(victim, friend);

    // The hostile participant speaks the signaling protocol properly, then garbage on the channel.
    const raw = await rawClient(url);
    const hostileId = (await ask(raw, 'join', { v: PROTOCOL_VERSION, room: 'r', name: 'hostile' })).participant?.id ?? '';
    // Of a pair, the lower id offers: the hostile peer plays whichever role that gives it.
    const hostileOffers = hostileId < victim.localParticipant.id;
    let sid = 'hostile-1';
    const fromVictimSignals: Array<{ sid: string; data: SimplePeer.SignalData }> = [];
    let peer: SimplePeer.Instance | undefined;
    let stream: HostileStream | undefined;
    raw.on('signal', (envelope: { from: string; sid: string; data: SimplePeer.SignalData }) => {
      if (envelope.from !== victim.localParticipant.id) return;
      if (!hostileOffers) sid = envelope.sid;
      if (peer === undefined) fromVictimSignals.push(envelope);
      else if (!peer.destroyed) {
        stream?.note('remote', envelope.data as { type?: string; sdp?: string });
        peer.signal(envelope.data);
      }
    });
    const { participants } = await ask(raw, 'messaging:enable');
    const victimId = victim.localParticipant.id;
    expect(participants?.map((p) => p.id)).toContain(victimId);
    peer = new SimplePeer({ initiator: hostileOffers, wrtc: wrtc as SimplePeer.Options['wrtc'], config: { iceServers: [] } });
    cleanups.push(() => peer?.destroy());
    stream = new HostileStream('r', hostileId, victimId);
    peer.on('signal', (data) => {
      stream.note('local', data as { type?: string; sdp?: string });
      raw.emit('signal', { to: victimId, sid, data });
    });
    for (const envelope of fromVictimSignals.splice(0)) {
      stream.note('remote', envelope.data as { type?: string; sdp?: string });
      peer.signal(envelope.data);
    }
    const fromVictim: WireRecord[] = [];
    let threeRejects: () => void = () => {};
    const rejected = new Promise<void>((resolve) => (threeRejects = resolve));
    peer.on('data', (bytes: Uint8Array) => {
      const decoded = decodePacket(bytes);
      if (decoded.ok) fromVictim.push(...decoded.records);
      if (fromVictim.filter((r) => r.kind === 'reject').length >= 3) threeRejects();
    });
    const added = waitForEvent(victim.messaging, 'participant_added', 'the hostile peer linked', { predicate: (p) => p.name === 'hostile' });
    await withTimeout(new Promise<void>((resolve) => peer?.once('connect', () => resolve())), 10_000, 'hostile connect');
    // It opens the stream properly, with a hello and the proof of its binding (the victim lists it only then).
    await stream.open((packet) => peer?.send(packet), fromVictim);
    await added;

    const header = encodeHeader({ type: 'x', message: {}, broadcast: false });
    const garbage: Uint8Array[] = [
      new Uint8Array([9, 1, 2, 3]), // another version
      new Uint8Array([2, 1, 0, 0]), // truncated record header
      new Uint8Array([2, 2, 0xff, 0xff, 0xff, 0xff, 0]), // lying length
      encodePacket([{ kind: 'chunk', lane: 0, id: 77, offset: 0, parts: [new Uint8Array(10)] }]), // chunk for no message
      encodePacket([{ kind: 'receipts', lane: 0, ids: [123_456] }]), // receipt for a message never sent
      new Uint8Array([2, 99, 0, 0, 0, 1, 0]), // unknown record kind
      encodePacket([{ kind: 'head', lane: 0, id: 1, jsonLength: 3, attachmentLength: 0, parts: [new TextEncoder().encode('{x}')] }]), // bad JSON
      encodePacket([{ kind: 'head', lane: 0, id: 2, jsonLength: header.length, attachmentLength: 2 ** 31, parts: [header] }]), // 2 GiB claim
      encodePacket([{ kind: 'head', lane: 0, id: 2, jsonLength: header.length, attachmentLength: 0, parts: [header] }]), // out of sequence
      encodePacket([{ kind: 'head', lane: 2 as 0, id: 3, jsonLength: header.length, attachmentLength: 0, parts: [header] }]), // no such lane
    ];
    for (const frame of garbage) peer.send(frame);
    // One unfinished message fills the victim's quota; a second, in the other lane, is refused.
    peer.send(encodePacket([{ kind: 'head', lane: 0, id: 3, jsonLength: header.length, attachmentLength: 100, parts: [header] }]));
    peer.send(encodePacket([{ kind: 'head', lane: 1, id: 1, jsonLength: header.length, attachmentLength: 100, parts: [header] }]));
    // Then proper messages, which must still arrive.
    const got = waitForEvent(victim.messaging, 'message', 'a valid message after the garbage', { predicate: (m) => m.type === 'fine' });
    const fine = encodeHeader({ type: 'fine', message: { ok: true }, broadcast: false });
    peer.send(encodePacket([{ kind: 'chunk', lane: 0, id: 3, offset: header.length, parts: [new Uint8Array(100)] }]));
    peer.send(encodePacket([{ kind: 'head', lane: 0, id: 4, jsonLength: fine.length, attachmentLength: 0, parts: [fine] }]));
    expect((await got)[0].message).toEqual({ ok: true });

    // The victim refused what it had to, with the right codes, and told the hostile peer.
    await withTimeout(rejected, 5000, 'three reject records from the victim');
    const rejects = fromVictim.filter((r): r is Extract<WireRecord, { kind: 'reject' }> => r.kind === 'reject');
    expect(rejects.map((r) => [r.lane, r.id, r.error.code])).toEqual([
      [0, 1, 'INVALID_MESSAGE'],
      [0, 2, 'MESSAGE_TOO_LARGE'],
      [1, 1, 'MESSAGE_TOO_LARGE'],
    ]);
    const { droppedFrames } = victim.messaging.stats();
    expect(droppedFrames).toBeGreaterThanOrEqual(8);
    // Logged per peer at most once per window, with counts: a hostile peer cannot flood the log.
    const logged = () => logger.entries.filter((e) => e.message === 'dropped a malformed frame from a peer');
    expect(logged()).toHaveLength(1);

    // The victim's other link and the room are unaffected.
    const toFriend = waitForEvent(friend.messaging, 'message', 'victim → friend');
    await victim.messaging.sendMessage({ to: friend.localParticipant.id, type: 'still', message: {} });
    await toFriend;
    expect(victim.messaging.getParticipants().map((p) => p.name).sort()).toEqual(['friend', 'hostile']);
    // Closing logs what the window held back: the counts add up to every dropped frame.
    await victim.close();
    const counted = logged().reduce((sum, e) => sum + Number((e.fields as { count?: number }).count), 0);
    expect([logged().length, counted]).toEqual([2, victim.messaging.stats().droppedFrames]);
  });
});

describe('transport and tooling', () => {
  it('lets browser pages in by origin (its own always, Node clients without one), and /metrics only with its bearer token', async () => {
    const { lines, logger } = serviceLog();
    const server = await startServer({ allowedOrigins: ['https://app.example.org'], metricsToken: 'metrics-reader-token', logger });
    const { host } = new URL(server.url);
    await rawClient(server.url, { extraHeaders: { origin: 'https://app.example.org' } });
    await rawClient(server.url, { extraHeaders: { origin: `http://${host}` } }); // the service's own page
    await rawClient(server.url); // Node: no Origin
    const refused = await rawClient(server.url, { extraHeaders: { origin: 'https://evil.example' } }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused).toBeInstanceOf(Error); // the handshake is refused (a WebSocket client is told no more than that)
    expect(lines.filter((line) => /origin is not in allowedOrigins/.test(line.msg))).toHaveLength(1);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-same-len' } })).status).toBe(401);
    const allowed = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-reader-token' } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('roommesh_');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200); // health stays open for load balancers
  });

  it('serves WSS with the given certificate, and `roommesh token` mints tokens the service accepts', async () => {
    const { execFile } = await import('node:child_process');
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const run = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
      new Promise<string>((resolve, reject) =>
        execFile(file, args, { env, timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
      );
    const dir = await mkdtemp(join(tmpdir(), 'roommesh-tls-'));
    cleanups.push(() => void rm(dir, { recursive: true, force: true }));
    // A throwaway self-signed certificate for 127.0.0.1 (openssl is part of what .ci/run provides).
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    const cert = await readFile(join(dir, 'cert.pem'));
    const server = await startServer({ tls: { cert, key: await readFile(join(dir, 'key.pem')) }, secret: SECRET });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const token = (await run(process.execPath, ['signaling/dist/signaling/cli.js', 'token', '--room', 'r', '--name', 'alice', '--role', 'host', '--attribute', 'level=3', '--attribute', 'team=blue'], {
      ...process.env,
      ROOMMESH_SECRET: SECRET,
    })).trim();
    expect(token.split('.')).toHaveLength(3);

    const socket = await rawClient(server.url, { ca: cert.toString() });
    const reply = await ask(socket, 'join', { v: PROTOCOL_VERSION, room: 'r', name: 'whoever', token });
    expect(reply).toMatchObject({ ok: true, participant: { role: 'host', attributes: { name: 'alice', level: 3, team: 'blue' } } });

    // Without trusting the certificate, the connection is refused: TLS is real.
    const refused = await rawClient(server.url).then(
      () => new Error('connected without trusting the certificate'),
      (error: Error) => error,
    );
    expect(refused.message).toMatch(/websocket error|self.signed|certificate/i);
  });
});
