/**
 * A service that lies (test/malicious-proxy.ts, in front of the real one) against real
 * participants on both Node stacks: what it sees of relayed messages, what happens when it puts
 * itself inside a relay stream, and when it admits an impostor into a room with a passphrase or
 * with an issuer's tokens (a service that checks no token at all stands for one that lies about
 * them: peers check for themselves).
 * Relay-only pairs (`iceTransportPolicy: 'relay'` with no TURN server) make every message cross
 * the service.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomClient, RoomClientOptions } from '../../client/index.js';
import type { PeerAuthenticationFailedEvent } from '../../client/messaging-context.js';
import { freshIdentity, type RoomIdentity } from '../../client/trust/identity.js';
import { PROTOCOL_VERSION } from '../../protocol/signaling.js';
import { createToken, generateTokenKeys } from '../../signaling/index.js';
import { ask, expectCode, joinAll, newRoom, rawClient, startServer, waitForEvent } from '../helpers.js';
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

const issuer = generateTokenKeys();
/** A token from the room's issuer (or `signingKey`'s), bound to `identity`. */
const vouch = (name: string, identity: RoomIdentity, signingKey = issuer.signingKey): Promise<string> => createToken({ signingKey, room: 'r', name, publicKey: identity.publicKey });

describe('a service that checks tokens with the issuer\'s public key only', () => {
  it('admits a bound token with a proof by its key, and refuses it without one', async () => {
    const { url } = await startServer({ issuerKey: issuer.issuerKey });
    const identity = freshIdentity();
    const token = await vouch('ann', identity);
    const ann = newRoom(url, 'r', 'ann', { identity, token, issuerKey: issuer.issuerKey });
    await ann.start();
    expect(ann.localParticipant.name).toBe('ann');
    // A renewed token carries its proof too; one for another key is refused before it is sent.
    await ann.updateToken(await vouch('ann', identity));
    await expectCode(ann.updateToken(await vouch('ann', freshIdentity())), 'INVALID_ARGUMENT');
    // Whoever saw the token (a peer it was shown to) cannot join with it: no proof by its key.
    const thief = await rawClient(url);
    const reply = await ask(thief, 'join', { v: PROTOCOL_VERSION, room: 'r', token });
    expect(reply.error?.code).toBe('UNAUTHORIZED');
    expect(reply.error?.message).toMatch(/carries no proof of holding it/);
    thief.disconnect();
    // An HS256 token means nothing to it: it holds no secret.
    const hs = await createToken({ secret: 'some-other-secret-of-at-least-32-bytes!!', room: 'r', name: 'eve' });
    expect((await expectCode(newRoom(url, 'r', 'eve', { token: hs }).start(), 'UNAUTHORIZED')).message).toMatch(/it takes EdDSA/);
  });
});

/**
 * Ann and Bob, through a proxy that lies as `attack` says, enable and both refuse: what each
 * refusal said, what Bob was delivered, and everything each refused (to count).
 */
async function bothRefuse(attack: Parameters<typeof startMaliciousProxy>[1], options: Partial<RoomClientOptions>, timeoutMs = 10_000) {
  const service = await startServer();
  const proxy = await startMaliciousProxy(service.url, attack);
  proxies.push(proxy);
  const [ann, bob] = [newRoom(proxy.url, 'r', 'ann', options), newRoom(proxy.url, 'r', 'bob', options)];
  await Promise.all([ann.start(), bob.start()]);
  const refused = { ann: failures(ann), bob: failures(bob) };
  const delivered: unknown[] = [];
  bob.messaging.on('message', (message) => void delivered.push(message));
  const refusedByAnn = waitForEvent(ann.messaging, 'peer_authentication_failed', 'ann refuses the stream', { timeoutMs });
  const refusedByBob = waitForEvent(bob.messaging, 'peer_authentication_failed', 'bob refuses the stream', { timeoutMs });
  await Promise.all([ann.messaging.enable(), bob.messaging.enable()]);
  const [[a], [b]] = await Promise.all([refusedByAnn, refusedByBob]);
  return { proxy, ann, bob, a, b, refused, delivered };
}

describe.each(STACKS)('a service that lies, on %s', (rtc) => {
  it('admitting impostors into a room whose peers check the issuer\'s tokens: each is refused, and the vouched participants link', async () => {
    const service = await startServer(); // checks nothing: as a compromised service would
    const [annId, bobId] = [freshIdentity(), freshIdentity()];
    const vouched = (name: string, identity: RoomIdentity, token: string) => newRoom(service.url, 'r', name, { rtc, identity, token, issuerKey: issuer.issuerKey });
    const ann = vouched('ann', annId, await vouch('ann', annId));
    const bob = vouched('bob', bobId, await vouch('bob', bobId));
    // Claims bob's name: with no token; with a token from another issuer; with eve's own, genuine token.
    const eveId = freshIdentity();
    const impostors = [
      newRoom(service.url, 'r', 'bob', { rtc }),
      newRoom(service.url, 'r', 'bob', { rtc, identity: eveId, token: await vouch('bob', eveId, generateTokenKeys().signingKey) }),
      newRoom(service.url, 'r', 'bob', { rtc, identity: eveId, token: await vouch('eve', eveId) }),
    ];
    await Promise.all([ann, bob, ...impostors].map((room) => room.start()));
    const refused = failures(ann);
    const allRefused = new Promise<void>((resolve) => ann.messaging.on('peer_authentication_failed', () => refused.length === impostors.length && resolve()));
    await Promise.all([ann, bob, ...impostors].map((room) => room.messaging.enable()));
    await withTimeout(allRefused, 20_000, 'ann refuses all three impostors');
    const reasons = new Map(refused.map((event) => [event.participantId, event.reason]));
    expect(reasons.get(impostors[0]?.localParticipant.id ?? '')).toMatch(/presented no join token/);
    expect(reasons.get(impostors[1]?.localParticipant.id ?? '')).toMatch(/not signed by the room's issuer/);
    expect(reasons.get(impostors[2]?.localParticipant.id ?? '')).toMatch(/names it "eve", but the service lists it as "bob"/);
    const listed = (): string[] => ann.messaging.getParticipants().map((p) => p.id);
    if (!listed().includes(bob.localParticipant.id)) await waitForEvent(ann.messaging, 'participant_added', 'ann lists the real bob');
    expect(listed()).toEqual([bob.localParticipant.id]);
    expect(ann.messaging.getParticipant(bob.localParticipant.id)?.fingerprint).toBe(bobId.fingerprint);
    const got = waitForEvent(bob.messaging, 'message', 'the real bob gets the message');
    await ann.messaging.sendMessage({ to: bob.localParticipant.id, type: 'hi', message: { text: 'vouched' } });
    expect((await got)[0].message).toEqual({ text: 'vouched' });
    for (const impostor of impostors) await expectCode(ann.messaging.sendMessage({ to: impostor.localParticipant.id, type: 'secret', message: { text: MARKER } }), 'PEER_AUTHENTICATION_FAILED');
  });

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
    const { proxy, ann, bob, a, b, refused, delivered } = await bothRefuse({ swapRelayKeys: true }, { rtc, ...relayOnly });
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
    expect([refused.ann.length, refused.bob.length]).toEqual([1, 1]);
  });

  it('inside a direct link (its own DTLS certificate towards each side) is refused by both, PEER_AUTHENTICATION_FAILED, and nothing crosses', async () => {
    // Direct links only (the relay's own case is above): whatever is refused here, the DTLS binding refused.
    const { proxy, ann, bob, a, b, refused, delivered } = await bothRefuse({ dtlsMitm: {} }, { rtc, iceServers: [], relay: false });
    expect(a.reason).toMatch(/does not match this stream/);
    expect(b.reason).toMatch(/does not match this stream/);
    // The proxy was inside the link (it piped the hellos and proofs), and got no message through it.
    expect(proxy.mitm?.piped.length).toBeGreaterThan(0);
    expect(ann.messaging.getParticipants()).toEqual([]);
    await expectCode(ann.messaging.sendMessage({ to: bob.localParticipant.id, type: 'secret', message: { text: MARKER } }), 'PEER_AUTHENTICATION_FAILED');
    expect(carries(proxy.mitm?.piped ?? [], MARKER)).toBe(false);
    expect(delivered).toEqual([]);
    expect([refused.ann.length, refused.bob.length]).toEqual([1, 1]);
  });

  it('withholding the bindings from inside a direct link: both refuse once no proof came within the time the link had to open', async () => {
    const { proxy, ann, a, b } = await bothRefuse({ dtlsMitm: { dropAuth: true } }, { rtc, iceServers: [], relay: false }, 30_000);
    expect(a.reason).toMatch(/no proof of its identity key within \d+ ms of its hello/);
    expect(b.reason).toMatch(/no proof of its identity key within \d+ ms of its hello/);
    expect(proxy.mitm?.droppedAuth).toBeGreaterThanOrEqual(2);
    expect(ann.messaging.getParticipants()).toEqual([]);
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
