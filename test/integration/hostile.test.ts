/**
 * Attacks by admitted participants and strangers, each against a real service and real
 * WebRTC peers, each bounded. Each asserts what an honest user sees: the honest pair keeps
 * its presence and delivers its numbered messages exactly once, nobody honest is
 * disconnected, and the attacker gets the documented error or is cut off.
 */
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { RoomClient } from '../../client/index.js';
import { HOSTILE } from '../../client/peer/guard.js';
import { PROTOCOL_VERSION } from '../../protocol/signaling.js';
import { createToken } from '../../signaling/index.js';
import { startService } from '../cluster.js';
import { encodeHeader, encodePacket } from '../../client/wire/codec.js';
import { Hostile, recordedOffer, type HostileLink } from '../hostile.js';
import { recordingProxy } from '../proxy.js';
import { ask, captureLogger, expectCode, joinAll, newRoom, randomBytes, rawClient, serviceLog, sha256, startServer, until, waitForEvent, withTimeout } from '../helpers.js';
import { churn, exchangeNumbered } from '../traffic.js';

/**
 * A started room client whose id sorts `low` (first character before 'Q') or high (after 'f'),
 * so that attackers with ids on the wanted side of it are quick to find.
 */
async function startedWithId(url: string, name: string, side: 'low' | 'high', options: Parameters<typeof newRoom>[3] = {}): Promise<RoomClient> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const room = newRoom(url, 'r', name, options);
    await room.start();
    const first = room.localParticipant.id[0] ?? '';
    if (side === 'low' ? first < 'Q' : first > 'f') return room;
    await room.close();
  }
  throw new Error(`no ${side} id in 50 joins`);
}

/** Fails the test if `room` loses the service. */
function neverDisconnected(room: RoomClient): () => void {
  let lost: string | undefined;
  room.on('disconnected', (reason) => (lost = reason));
  return () => expect(lost, 'an honest participant lost the service').toBeUndefined();
}

describe('amplification: nobody is punished for traffic another caused', () => {
  it('a peer re-offering under fresh session ids is cut off after a bounded number of answers; the victim stays connected', async () => {
    const { url } = await startServer();
    const victim = await startedWithId(url, 'victim', 'high', { logger: captureLogger() });
    const friend = newRoom(url, 'r', 'friend');
    await joinAll(victim, friend);
    const connected = neverDisconnected(victim);
    const victimChurn = churn(victim.messaging);
    // The attacker offers (its id is lower), replaying one real offer under a new session id each time.
    const attacker = await Hostile.join(url, 'r', 'attacker', { below: victim.localParticipant.id });
    await attacker.enable();
    const offer = await recordedOffer();
    let sent = 0;
    const storm = (async () => {
      for (; sent < 200; sent++) {
        attacker.signal(victim.localParticipant.id, `storm-${sent}`, offer);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await Promise.all([exchangeNumbered(victim, friend, 500), storm]);
    await until(() => victim.messaging.stats().hostilePeers === 1, 'the attacker cut off as hostile');
    // The victim built and answered a bounded number of sessions, whatever the attacker sent.
    const answered = new Set(attacker.signals.filter((s) => s.from === victim.localParticipant.id && s.data.type === 'answer').map((s) => s.sid));
    expect(answered.size).toBeLessThanOrEqual(HOSTILE.sessions);
    // …and keeps its honest link, its presence and the service.
    await exchangeNumbered(victim, friend, 200);
    connected();
    expect(victim.messaging.getParticipants().map((p) => p.name)).toEqual(['friend']);
    expect(victimChurn).toEqual({ added: 0, removed: 0 }); // the attacker was never listed, the friend never dropped
    console.log(`[measure] re-offer storm: ${sent} offers sent, ${answered.size} answered by the victim, victim connected throughout`);
  });

  it('enable/disable churn is rationed by the service; the lower-id victim offers a bounded number of times', async () => {
    const { url } = await startServer();
    const victim = await startedWithId(url, 'victim', 'low');
    const friend = newRoom(url, 'r', 'friend');
    await joinAll(victim, friend);
    const connected = neverDisconnected(victim);
    const attacker = await Hostile.join(url, 'r', 'attacker', { above: victim.localParticipant.id });
    const outcomes: string[] = [];
    const fromVictim = () => attacker.signals.filter((s) => s.from === victim.localParticipant.id);
    const offers = () => new Set(fromVictim().filter((s) => s.data.type === 'offer').map((s) => s.sid)).size;
    const churning = (async () => {
      for (let i = 0; i < 60; i++) {
        const reply = await attacker.enable();
        outcomes.push(reply.ok ? 'ok' : (reply.error?.code ?? '?'));
        // An admitted enable costs the victim a connection and an offer: wait for it, then withdraw.
        const admitted = outcomes.filter((o) => o === 'ok').length;
        if (reply.ok) await until(() => offers() === admitted, `the victim's offer after admitted enable ${admitted}`);
        await new Promise((resolve) => attacker.socket.emit('messaging:disable', resolve));
      }
    })();
    await Promise.all([exchangeNumbered(victim, friend, 500), churning]);
    expect(outcomes.filter((o) => o === 'ok').length).toBeLessThanOrEqual(6); // a burst of 4, and the trickle refill
    expect(outcomes.filter((o) => o === 'RATE_LIMITED').length).toBeGreaterThan(50);
    // One link session per admitted enable, and no more.
    expect(offers()).toBe(outcomes.filter((o) => o === 'ok').length);
    connected();
    console.log(`[measure] enable/disable churn: ${offers()} of 60 enables admitted, each one offer from the victim`);
  });
});

describe('reconnect churn', () => {
  it('rations resumes with messaging on like enables, and an honest client that hits the limit retries instead of closing', async () => {
    const { lines, logger } = serviceLog();
    const { url } = await startServer({ enablesPerMinute: 30, logger }); // bursts of 4, one more every 2 s
    const logs = captureLogger();
    const alice = newRoom(url, 'r', 'alice', { logger: logs, reconnectMaxDelayMs: 500 });
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    for (let i = 0; i < 3; i++) {
      await alice.messaging.disable();
      await alice.messaging.enable();
    }
    // Alice's budget is spent; her connection drops, and her resume (messaging on) is refused at first.
    const back = waitForEvent(alice, 'reconnected', 'alice back after her budget refilled', { timeoutMs: 15_000 });
    (alice as unknown as { signaling: { drop(): void } }).signaling.drop();
    await back;
    expect(alice.state).toBe('started');
    expect(logs.entries.some((e) => /rejoining was rate-limited/.test(e.message))).toBe(true);
    expect(lines.some((l) => (l as { code?: string }).code === 'RATE_LIMITED')).toBe(true);
    const got = waitForEvent(bob.messaging, 'message', 'alice → bob after the resume');
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'hi', message: {} });
    await got;
  });
});

describe('enable rationing across rejoins', () => {
  it('keeps a token\'s budget when it rejoins as a fresh participant (a new id does not refill it)', async () => {
    const secret = 'a-secret-of-at-least-32-bytes-0123456789';
    const { url } = await startServer({ secret, enablesPerMinute: 4 }); // bursts of 4, one more every 15 s
    const token = await createToken({ secret, room: 'r', name: 'alice' });
    const first = newRoom(url, 'r', 'alice', { token });
    await first.start();
    for (let i = 0; i < 4; i++) {
      await first.messaging.enable();
      await first.messaging.disable();
    }
    await first.close();
    const again = newRoom(url, 'r', 'alice', { token });
    await again.start();
    expect(again.localParticipant.id).not.toBe(first.localParticipant.id);
    expect((await expectCode(again.messaging.enable(), 'RATE_LIMITED')).message).toMatch(/turned on and off too often/);
    // Another token's holder has a budget of its own.
    const bob = newRoom(url, 'r', 'bob', { token: await createToken({ secret, room: 'r', name: 'bob' }) });
    await bob.start();
    await bob.messaging.enable();
  });
});

describe('sybils: participants that never answer cannot starve honest newcomers', () => {
  it('a newcomer links with a victim whose negotiation slots stalled sybils are holding', async () => {
    const { url } = await startServer();
    const victim = await startedWithId(url, 'victim', 'low');
    await joinAll(victim);
    // Eight sybils, all with higher ids: the victim must offer to each, and none will ever answer.
    const sybils: Hostile[] = [];
    for (let i = 0; i < 8; i++) sybils.push(await Hostile.join(url, 'r', `sybil-${i}`, { above: victim.localParticipant.id }));
    await Promise.all(sybils.map((s) => s.enable()));
    await until(() => sybils.every((s) => s.signals.some((e) => e.data.type === 'offer')) || sybils.filter((s) => s.signals.length > 0).length >= 4, 'the victim offering to the sybils');
    // An honest newcomer whose id the victim must also offer to. It gives up on anyone it cannot reach within 6 s.
    let newcomer: RoomClient | undefined;
    for (let attempt = 0; attempt < 50 && newcomer === undefined; attempt++) {
      const candidate = newRoom(url, 'r', 'newcomer', { connectTimeoutMs: 6_000, relay: false });
      await candidate.start();
      if (candidate.localParticipant.id > victim.localParticipant.id) newcomer = candidate;
      else await candidate.close();
    }
    if (newcomer === undefined) throw new Error('no newcomer id above the victim');
    const started = Date.now();
    const newcomerId = newcomer.localParticipant.id;
    const linked = Promise.all([
      waitForEvent(newcomer.messaging, 'participant_added', 'the newcomer listing the victim', { predicate: (p) => p.id === victim.localParticipant.id, timeoutMs: 15_000 }),
      waitForEvent(victim.messaging, 'participant_added', 'the victim listing the newcomer', { predicate: (p) => p.id === newcomerId, timeoutMs: 15_000 }),
    ]);
    const enabled = newcomer.messaging.enable();
    await linked;
    const linkMs = Date.now() - started;
    const got = waitForEvent(newcomer.messaging, 'message', 'victim → newcomer');
    await victim.messaging.sendMessage({ to: newcomer.localParticipant.id, type: 'hi', message: {} });
    await got;
    await withTimeout(enabled, 15_000, "the newcomer's enable() (it waits out the sybils)");
    expect(newcomer.messaging.getParticipant(victim.localParticipant.id)?.link).toBe('direct');
    console.log(`[measure] newcomer linked with the victim ${linkMs} ms after enable(), 8 stalled sybils holding the victim's slots`);
  });
});

/** Connects a raw client and resolves with the refusal's code, or 'connected'. */
async function tryConnect(url: string, options: Parameters<typeof rawClient>[1]): Promise<string> {
  return rawClient(url, options).then(
    () => 'connected',
    (error: Error & { data?: { code?: string } }) => error.data?.code ?? error.message,
  );
}

describe('service-wide limits one client could exhaust', () => {
  it('caps connections per address; other addresses, and the honest pair, are unaffected', async () => {
    const { url } = await startServer({ maxConnectionsPerAddress: 4 });
    const alice = newRoom(url, 'r', 'alice');
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    const attackers: Socket[] = [];
    for (let i = 0; i < 4; i++) attackers.push(await rawClient(url, { localAddress: '127.0.0.2' }));
    expect(await tryConnect(url, { localAddress: '127.0.0.2' })).toBe('RATE_LIMITED');
    expect(await tryConnect(url, { localAddress: '127.0.0.3' })).toBe('connected');
    // A place frees when a connection closes.
    const closed = new Promise((resolve) => attackers[0]?.once('disconnect', resolve));
    attackers[0]?.disconnect();
    await closed;
    // The service counts the close when it sees it, a moment after the client's own event.
    let retaken = 'RATE_LIMITED';
    for (let attempt = 0; attempt < 50 && retaken !== 'connected'; attempt++) retaken = await tryConnect(url, { localAddress: '127.0.0.2' });
    expect(retaken).toBe('connected');
    await exchangeNumbered(alice, bob, 100);
    // A room client refused for its address says so with the code.
    const full = await startServer({ maxConnectionsPerAddress: 1 });
    await rawClient(full.url);
    await expectCode(newRoom(full.url, 'r', 'carol').start(), 'RATE_LIMITED');
  });

  it('behind a trusted proxy, counts clients by the last X-Forwarded-For entry', async () => {
    const { url } = await startServer({ maxConnectionsPerAddress: 2, trustProxy: true });
    const from = (address: string) => ({ extraHeaders: { 'x-forwarded-for': `198.51.100.1, ${address}` } });
    expect([await tryConnect(url, from('203.0.113.7')), await tryConnect(url, from('203.0.113.7')), await tryConnect(url, from('203.0.113.7'))]).toEqual([
      'connected',
      'connected',
      'RATE_LIMITED',
    ]);
    expect(await tryConnect(url, from('203.0.113.8'))).toBe('connected');
    const alice = newRoom(url, 'r', 'alice');
    await alice.start(); // no header: counted by its own address
  });

  it('closes connections that never join, and keeps those that did', async () => {
    const { lines, logger } = serviceLog();
    const { url } = await startServer({ joinTimeoutMs: 300, secret: 'a-secret-of-at-least-32-bytes-0123456789', logger });
    const joined = await rawClient(url);
    const token = await createToken({ secret: 'a-secret-of-at-least-32-bytes-0123456789', room: 'r', name: 'alice' });
    expect((await ask(joined, 'join', { v: PROTOCOL_VERSION, room: 'r', token })).ok).toBe(true);
    const idle = await rawClient(url);
    const told = new Promise<{ code: string }>((resolve) => idle.once('failure', resolve));
    const cut = new Promise<string>((resolve) => idle.once('disconnect', resolve));
    expect((await withTimeout(told, 5000, 'the idle connection told')).code).toBe('UNAUTHORIZED');
    expect(await withTimeout(cut, 5000, 'the idle connection closed')).toBe('io server disconnect');
    expect(joined.connected).toBe(true);
    expect(lines.some((l) => /did not join a room in time/.test(l.msg))).toBe(true);
  });

  it('caps the attributes a participant may accumulate, in count and bytes', async () => {
    const { url } = await startServer({ maxAttributes: 8, maxAttributeBytes: 1024 });
    const alice = newRoom(url, 'r', 'alice', { attributes: { a: 1 } });
    const bob = newRoom(url, 'r', 'bob');
    await joinAll(alice, bob);
    // name and a, then six more one at a time; the ninth is refused.
    for (let i = 0; i < 6; i++) await alice.localParticipant.setAttribute(`k${i}`, i);
    const tooMany = await expectCode(alice.localParticipant.setAttribute('k6', 6), 'INVALID_MESSAGE');
    expect(tooMany.message).toMatch(/at most 8 attributes/);
    const tooBig = await expectCode(alice.localParticipant.setAttribute('k0', 'x'.repeat(2000)), 'MESSAGE_TOO_LARGE');
    expect(tooBig.message).toMatch(/at most 1024 bytes/);
    await alice.localParticipant.setAttribute('k0', 'changed'); // replacing stays within the caps
    await until(() => bob.messaging.getParticipantByName('alice')?.getAttribute('k0') === 'changed', 'bob seeing the accepted change');
    expect(Object.keys(bob.messaging.getParticipantByName('alice')?.attributes ?? {})).toHaveLength(8);
    await expectCode(newRoom(url, 'r', 'carol', { attributes: { big: 'y'.repeat(2000) } }).start(), 'MESSAGE_TOO_LARGE');
  });

  it("bounds the service's memory under many hostile connections, each holding a room and full attributes", async () => {
    const service = await startService(['--max-connections-per-address', '16', '--log-level', 'warn']);
    const rss = () => service.metric('process_resident_memory_bytes');
    const alice = newRoom(service.url, 'calm', 'alice');
    const bob = newRoom(service.url, 'calm', 'bob');
    await joinAll(alice, bob);
    const before = await rss();
    const big = 'z'.repeat(15_000);
    let held = 0;
    for (let host = 2; host <= 9; host++) {
      await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const socket = await rawClient(service.url, { localAddress: `127.0.0.${host}` });
          const reply = await ask(socket, 'join', { v: PROTOCOL_VERSION, room: `squat-${host}-${i}`, name: 'squatter', attributes: { big } });
          if (reply.ok) held++;
        }),
      );
      expect(await tryConnect(service.url, { localAddress: `127.0.0.${host}` })).toBe('RATE_LIMITED');
    }
    expect(held).toBe(128);
    await exchangeNumbered(alice, bob, 200);
    const perConnection = ((await rss()) - before) / held;
    console.log(`[measure] service RSS: ${(before / 2 ** 20).toFixed(1)} MiB before, +${(perConnection / 1024).toFixed(1)} KiB per hostile connection (128, each a room + 15 kB of attributes)`);
    expect(perConnection).toBeLessThan(512 * 1024);
  });
});

describe('bounded work per hostile frame on the data channel', () => {
  it('costly frames close the stream, and a peer that keeps breaking streams is cut off and stays cut off', async () => {
    const { url } = await startServer();
    const logger = captureLogger();
    const victim = await startedWithId(url, 'victim', 'low', { logger });
    const friend = newRoom(url, 'r', 'friend');
    await joinAll(victim, friend);
    const connected = neverDisconnected(victim);
    const hostile = await Hostile.join(url, 'r', 'hostile', { above: victim.localParticipant.id });
    const header = encodeHeader({ type: 'x', message: {}, broadcast: false });
    const links: HostileLink[] = [];
    // Each link the victim offers (the first, then its repairs) gets a hello and then one costly trick.
    const tricks: Array<(link: HostileLink) => void> = [
      (link) => {
        // One receipts record naming 50,000 messages never sent: one violation, not 50,000.
        link.peer.send(encodePacket([{ kind: 'receipts', lane: 0, ids: Array.from({ length: 50_000 }, (_, i) => 1000 + i) }]));
        link.peer.send(link.stream.hello()); // a second hello would rewind everything pending: the stream closes
      },
      (link) => {
        (link.peer as unknown as { _pc: { createDataChannel(label: string): unknown } })._pc.createDataChannel('extra'); // a second channel: the link closes
      },
      (link) => {
        // Messages begun (each claiming 64 MiB) and abandoned, over and over: bounded, then the stream closes.
        for (let id = 1; id <= 20; id++) link.peer.send(encodePacket([{ kind: 'head', lane: 0, id, jsonLength: header.length, attachmentLength: 64 * 2 ** 20, parts: [header] }]));
      },
    ];
    hostile.answerOffers(victim.localParticipant.id, (link) => {
      links.push(link);
      const trick = tricks[links.length - 1];
      // It proves its stream as any admitted participant would; the trick comes after.
      void link.stream.open((packet) => link.peer.send(packet), link.records).then(() => trick?.(link), () => undefined);
    });
    const before = victim.messaging.stats().droppedFrames;
    await hostile.enable();
    const traffic = exchangeNumbered(victim, friend, 500);
    await until(() => victim.messaging.stats().hostilePeers === 1, 'the hostile peer cut off', 20_000);
    await traffic;
    expect(links).toHaveLength(3);
    expect(victim.messaging.getParticipants().map((p) => p.name)).toEqual(['friend']);
    const { droppedFrames } = victim.messaging.stats();
    // receipts (1) + each stream's closing (3) + the 16 abandoned heads counted before the bound: a few dozen at most.
    expect(droppedFrames - before).toBeLessThan(40);
    expect(logger.entries.filter((e) => e.message === 'dropped a malformed frame from a peer').length).toBeLessThanOrEqual(2);
    expect(logger.entries.some((e) => e.message === 'participant cut off as hostile')).toBe(true);
    // Cut off means cut off: enabling again does not get it linked while the ban lasts.
    await new Promise((resolve) => hostile.socket.emit('messaging:disable', resolve));
    const victimOffers = () => hostile.signals.filter((s) => s.data.type === 'offer' && s.from === victim.localParticipant.id).length;
    const offersBefore = victimOffers();
    await hostile.enable();
    await exchangeNumbered(victim, friend, 100); // the victim has handled the announcement by now
    expect(victimOffers()).toBe(offersBefore);
    await expectCode(victim.messaging.sendMessage({ to: hostile.id, type: 'x', message: {} }), 'UNREACHABLE');
    connected();
  });
});

describe('the relay is metered apart from signals, and tiny packets cannot outrun it', () => {
  it('charges each relayed packet at least 1 KiB: a flood of 1-byte packets that ignores acknowledgements is cut off', async () => {
    const { lines, logger } = serviceLog();
    const { url } = await startServer({ logger, relayBytesPerSecond: 64 * 1024, relayBurstBytes: 64 * 1024 });
    const victim = newRoom(url, 'r', 'victim');
    await joinAll(victim);
    const flooder = await Hostile.join(url, 'r', 'flooder');
    await flooder.enable();
    const cut = new Promise<string>((resolve) => flooder.socket.once('disconnect', resolve));
    // 1,000 one-byte packets are 1,000 bytes, far under the 256 KiB a client may have waiting; counted
    // at 1 KiB each they are 1,000 KiB, and the flooder is disconnected.
    for (let i = 0; i < 1000; i++) flooder.socket.emit('relay', { to: victim.localParticipant.id, sid: 'x', data: new Uint8Array([i & 0xff]) }, () => {});
    expect(await withTimeout(cut, 5000, 'the relay flooder disconnected')).toBe('io server disconnect');
    expect(lines.some((l) => /relaying without waiting for acknowledgements/.test(l.msg))).toBe(true);
    expect(victim.state).toBe('started');
  });
});

describe('the relay hides messages from the service', () => {
  it('carries a relayed pair\'s messages as ciphertext only: nothing of the plaintext crosses the service', async () => {
    const { url } = await startServer();
    const observed = await recordingProxy(url);
    const forced = { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 300 }; // no TURN: the service must relay
    const alice = newRoom(url, 'r', 'alice', forced);
    const bob = newRoom(observed.url, 'r', 'bob', forced); // bob's service traffic passes the recording proxy
    await joinAll(alice, bob);
    await until(() => alice.messaging.getParticipantByName('bob')?.link === 'relayed', 'the pair relayed');
    const marker = 'PLAINTEXT-MARKER-e2e';
    const pattern = Buffer.from('ATTACHMENT-PATTERN-0123456789abcdef-');
    const attachment = Buffer.alloc(256 * 1024);
    for (let at = 0; at < attachment.length; at += pattern.length) pattern.copy(attachment, at);
    const got = waitForEvent(bob.messaging, 'message', 'the relayed message');
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'secret', message: { text: marker }, attachment });
    const [message] = await got;
    expect([message.message, sha256(message.attachment ?? new Uint8Array())]).toEqual([{ text: marker }, sha256(attachment)]);
    // Control: the proxy sees plain JSON (an attribute update) and every relayed byte.
    await alice.localParticipant.setAttribute('status', 'VISIBLE-MARKER');
    await until(() => observed.fromService().includes('VISIBLE-MARKER'), 'the proxy seeing a plain attribute update');
    const wire = observed.fromService();
    expect(wire.includes('"relay"')).toBe(true);
    expect(wire.length).toBeGreaterThan(attachment.length);
    // …and none of the message: neither its JSON nor any 16 bytes of its attachment.
    expect(wire.includes(marker)).toBe(false);
    expect(wire.includes(pattern.subarray(0, 16))).toBe(false);
    expect(wire.includes('"secret"')).toBe(false);
  });

  it('sizes relayed packets to the payload limit the service announces: a small limit disconnects nobody', async () => {
    const { url } = await startServer({ maxPayloadBytes: 8 * 1024 });
    const raw = await rawClient(url);
    expect((await ask(raw, 'join', { v: PROTOCOL_VERSION, room: 'other', name: 'x' })) as { limits?: unknown }).toMatchObject({ limits: { maxPayloadBytes: 8192 } });
    const forced = { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 300 };
    const alice = newRoom(url, 'r', 'alice', forced);
    const bob = newRoom(url, 'r', 'bob', forced);
    await joinAll(alice, bob);
    const connected = [neverDisconnected(alice), neverDisconnected(bob)];
    await until(() => alice.messaging.getParticipantByName('bob')?.link === 'relayed', 'the pair relayed');
    const attachment = randomBytes(1024 * 1024, 5);
    const got = waitForEvent(bob.messaging, 'message', 'a 1 MiB attachment over 8 KiB relay packets', { timeoutMs: 20_000 });
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'file', message: {}, attachment });
    expect(sha256((await got)[0].attachment ?? new Uint8Array())).toBe(sha256(attachment));
    await exchangeNumbered(alice, bob, 200);
    for (const check of connected) check();
  });
});

describe('a token is the identity', () => {
  it('needs no name with a token, and ignores (with a warning) a name the token contradicts', async () => {
    const secret = 'a-secret-of-at-least-32-bytes-0123456789';
    const { url } = await startServer({ secret });
    const alice = newRoom(url, 'r', 'unused', { token: await createToken({ secret, room: 'r', name: 'alice' }) });
    const options = { url, room: 'r', token: await createToken({ secret, room: 'r', name: 'bob' }), iceServers: [], logger: captureLogger() };
    const bob = new RoomClient(options); // no name: the token names bob
    const logger = captureLogger();
    const mallory = new RoomClient({ ...options, name: 'mallory', logger, token: await createToken({ secret, room: 'r', name: 'carol' }) });
    try {
      await joinAll(alice, bob, mallory);
      expect([alice.localParticipant.name, bob.localParticipant.name, mallory.localParticipant.name]).toEqual(['alice', 'bob', 'carol']);
      expect(logger.entries.some((e) => e.level === 'warn' && /option `name` ignored: your join token names you "carol"/.test(e.message))).toBe(true);
      expect(alice.messaging.getParticipantByName('bob')).toBeDefined();
    } finally {
      await Promise.all([bob.close(), mallory.close()]);
    }
    // Without a token, a name is still required, and said so at once.
    expect(() => new RoomClient({ url, room: 'r' })).toThrow(/option `name` must be a non-empty string/);
  });
});
