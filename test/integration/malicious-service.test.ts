/**
 * A service that lies (test/malicious-proxy.ts, in front of the real one) against real
 * participants on both Node stacks: what it sees of relayed messages, what happens when it puts
 * itself inside a relay stream, and when it admits an impostor into a room with a passphrase.
 * Relay-only pairs (`iceTransportPolicy: 'relay'` with no TURN server) make every message cross
 * the service.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomClient } from '../../client/index.js';
import type { PeerAuthenticationFailedEvent } from '../../client/messaging-context.js';
import { expectCode, joinAll, newRoom, startServer, waitForEvent } from '../helpers.js';
import { startMaliciousProxy, type MaliciousProxy } from '../malicious-proxy.js';
import { withTimeout } from '../timeout.js';

const STACKS = ['@roamhq/wrtc', 'node-datachannel'] as const;
const proxies: MaliciousProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

const MARKER = 'the-plaintext-the-service-must-never-see';
const relayOnly = { rtcConfig: { iceTransportPolicy: 'relay' }, iceServers: [] };

/** Whether `needle` occurs in any of `frames`. */
const carries = (frames: Uint8Array[], needle: string): boolean => frames.some((frame) => Buffer.from(frame).includes(needle));

function failures(room: RoomClient): PeerAuthenticationFailedEvent[] {
  const seen: PeerAuthenticationFailedEvent[] = [];
  room.messaging.on('peer_authentication_failed', (event) => void seen.push(event));
  return seen;
}

describe.each(STACKS)('a service that lies, on %s', (rtc) => {
  it('recording every relayed frame, sees no plaintext: the relay is sealed end to end', async () => {
    const service = await startServer();
    const proxy = await startMaliciousProxy(service.url);
    proxies.push(proxy);
    const [ann, bob] = [newRoom(proxy.url, 'r', 'ann', { rtc, ...relayOnly }), newRoom(proxy.url, 'r', 'bob', { rtc, ...relayOnly })];
    await joinAll(ann, bob);
    await Promise.all([ann.messaging.enable(), bob.messaging.enable()]);
    const peer = ann.messaging.getParticipantByName('bob') ?? (await waitForEvent(ann.messaging, 'participant_added', 'ann sees bob'))[0];
    expect(peer.link).toBe('relayed');
    expect(peer.fingerprint).toBe(bob.localParticipant.fingerprint);
    const got = waitForEvent(bob.messaging, 'message', 'bob gets the message');
    await ann.messaging.sendMessage({ to: peer, type: 'secret', message: { text: MARKER }, attachment: new TextEncoder().encode(MARKER) });
    expect((await got)[0].message).toEqual({ text: MARKER });
    expect(proxy.frames.length).toBeGreaterThan(0);
    expect(carries(proxy.frames, MARKER)).toBe(false);
  });

  it('inside a relay stream (its own keys towards each side) is refused by both, PEER_AUTHENTICATION_FAILED, and nothing crosses', async () => {
    const service = await startServer();
    const proxy = await startMaliciousProxy(service.url, { swapRelayKeys: true });
    proxies.push(proxy);
    const [ann, bob] = [newRoom(proxy.url, 'r', 'ann', { rtc, ...relayOnly }), newRoom(proxy.url, 'r', 'bob', { rtc, ...relayOnly })];
    await Promise.all([ann.start(), bob.start()]);
    const [annRefused, bobRefused] = [failures(ann), failures(bob)];
    const delivered: unknown[] = [];
    bob.messaging.on('message', (message) => void delivered.push(message));
    const refusedByAnn = waitForEvent(ann.messaging, 'peer_authentication_failed', 'ann refuses the stream');
    const refusedByBob = waitForEvent(bob.messaging, 'peer_authentication_failed', 'bob refuses the stream');
    await Promise.all([ann.messaging.enable(), bob.messaging.enable()]);
    const [[a], [b]] = await withTimeout(Promise.all([refusedByAnn, refusedByBob]), 20_000, 'both refuse');
    expect(a.name).toBe('bob');
    expect(a.reason).toMatch(/does not match this stream/);
    expect(b.reason).toMatch(/does not match this stream/);
    // The proxy did open the stream's packets (it was inside): the hellos and proofs, never a message.
    expect(proxy.opened.length).toBeGreaterThan(0);
    expect(ann.messaging.getParticipants()).toEqual([]);
    await expectCode(ann.messaging.sendMessage({ to: bob.localParticipant.id, type: 'secret', message: { text: MARKER } }), 'PEER_AUTHENTICATION_FAILED');
    expect(carries(proxy.opened, MARKER)).toBe(false);
    expect(delivered).toEqual([]);
    expect(ann.messaging.stats().unauthenticatedPeers).toBe(1);
    expect([annRefused.length, bobRefused.length]).toEqual([1, 1]);
  });

  it('admitting an impostor into a room with a passphrase: the impostor is refused, and honest participants still link', async () => {
    const service = await startServer();
    const passphrase = 'correct horse battery staple';
    const [ann, bob] = [newRoom(service.url, 'r', 'ann', { rtc, passphrase }), newRoom(service.url, 'r', 'bob', { rtc, passphrase })];
    const impostor = newRoom(service.url, 'r', 'bob', { rtc }); // claims the name; no passphrase
    await Promise.all([ann.start(), bob.start(), impostor.start()]);
    const annRefused = failures(ann);
    const refused = waitForEvent(ann.messaging, 'peer_authentication_failed', 'ann refuses the impostor');
    await Promise.all([ann.messaging.enable(), bob.messaging.enable(), impostor.messaging.enable()]);
    const [event] = await refused;
    expect(event.participantId).toBe(impostor.localParticipant.id);
    expect(event.reason).toMatch(/passphrase/);
    const listed = (): string[] => ann.messaging.getParticipants().map((p) => p.id);
    if (!listed().includes(bob.localParticipant.id)) await waitForEvent(ann.messaging, 'participant_added', 'ann lists the real bob');
    expect(listed()).toEqual([bob.localParticipant.id]);
    await expectCode(ann.messaging.sendMessage({ to: impostor.localParticipant.id, type: 'secret', message: { text: MARKER } }), 'PEER_AUTHENTICATION_FAILED');
    expect(annRefused.map((e) => e.participantId)).toEqual([impostor.localParticipant.id]);
  });
});
