/**
 * Stream bindings (client/trust): two ends that see the same stream prove it to each other;
 * whatever a party in between, a replayed proof, a wrong passphrase, a pin or a changed key
 * does to them is refused with a reason. Pure: no sockets, the real keys and signatures.
 */
import { createHash, createHmac, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TRUST_VECTORS } from '../vectors.js';
import { fingerprintOf, freshIdentity, identityFromSecretKey, normalizeFingerprint } from '../../client/trust/identity.js';
import { bindingMessage, decodeProof, encodeProof, prove, type ChannelBinding } from '../../client/trust/binding.js';
import { deriveRoomKey } from '../../client/trust/passphrase.js';
import { checkTrustOptions, Trust, type StreamAuth, type TrustOptions } from '../../client/trust/trust.js';

const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
interface End {
  id: string;
  trust: Trust;
  authenticated: string[];
  options: TrustOptions;
}

function end(id: string, options: Partial<TrustOptions> = {}): End {
  const authenticated: string[] = [];
  const full: TrustOptions = { identity: freshIdentity(), room: 'room', ...options, authenticated: (peer, fingerprint) => void authenticated.push(`${peer} ${fingerprint}`) };
  return { id, trust: new Trust(full), authenticated, options: full };
}

/** One stream between `a` and `b`: each side's view of the channel keys (equal unless someone is in between). */
function stream(a: End, b: End, views: { a: ChannelBinding; b: ChannelBinding }, names = { a: 'a', b: 'b' }): { a: StreamAuth; b: StreamAuth; answers: [Uint8Array | string, Uint8Array | string] } {
  const authA = a.trust.forStream(a.id, b.id, () => names.b);
  const authB = b.trust.forStream(b.id, a.id, () => names.a);
  return { a: authA, b: authB, answers: [authA.answer(authB.hello(), views.a), authB.answer(authA.hello(), views.b)] };
}

const banned = freshIdentity();
const honest = { a: { kind: 'dtls', local: 'cert A', remote: 'cert B' }, b: { kind: 'dtls', local: 'cert B', remote: 'cert A' } } as const;

const proof = (answer: Uint8Array | string): Uint8Array => {
  if (typeof answer === 'string') throw new Error(`no proof: ${answer}`);
  return answer;
};

describe('stream bindings', () => {
  it('prove a stream both ends see alike, and tell each its peer\'s fingerprint', () => {
    const [a, b] = [end('a'), end('b')];
    const s = stream(a, b, honest);
    expect(s.a.check(proof(s.answers[1]))).toBeUndefined();
    expect(s.b.check(proof(s.answers[0]))).toBeUndefined();
    expect(a.authenticated).toEqual([`b ${b.options.identity.fingerprint}`]);
    expect(b.authenticated).toEqual([`a ${a.options.identity.fingerprint}`]);
  });

  it('refuse a stream with someone in between (its own DTLS certificate or relay key towards each side), both ways', () => {
    const [a, b] = [end('a'), end('b')];
    const s = stream(a, b, { a: { kind: 'dtls', local: 'cert A', remote: 'cert M1' }, b: { kind: 'dtls', local: 'cert B', remote: 'cert M2' } });
    expect(s.a.check(proof(s.answers[1]))).toMatch(/does not match this stream/);
    expect(s.b.check(proof(s.answers[0]))).toMatch(/does not match this stream/);
    const r = stream(a, b, { a: { kind: 'relay', local: 'ecdh A', remote: 'ecdh M1' }, b: { kind: 'relay', local: 'ecdh B', remote: 'ecdh M2' } });
    expect(r.a.check(proof(r.answers[1]))).toMatch(/does not match/);
    expect(a.authenticated).toEqual([]);
  });

  it('refuse a proof replayed from an earlier stream, and a proof given as the other side\'s', () => {
    const [a, b] = [end('a'), end('b')];
    const first = stream(a, b, honest);
    const second = stream(a, b, honest);
    expect(second.a.check(proof(first.answers[1]))).toMatch(/does not match/);
    const third = stream(a, b, honest);
    expect(third.a.check(proof(third.answers[0]))).toMatch(/does not match/); // a's own proof reflected back
    expect(third.a.check(proof(third.answers[1]))).toBeUndefined();
  });

  it('with a room passphrase, refuse a peer that does not know it, and one that knows another', async () => {
    const [key, other] = await Promise.all([deriveRoomKey('correct horse', 'room', 1_000), deriveRoomKey('wrong horse', 'room', 1_000)]);
    const [a, b] = [end('a', { roomKey: key }), end('b', { roomKey: key })];
    const s = stream(a, b, honest);
    expect(s.a.check(proof(s.answers[1]))).toBeUndefined();
    const outsider = end('c', {});
    const t = stream(a, outsider, honest);
    expect(t.a.check(proof(t.answers[1]))).toMatch(/no knowledge of the room passphrase/);
    const guesser = end('d', { roomKey: other });
    const u = stream(a, guesser, honest);
    expect(u.a.check(proof(u.answers[1]))).toMatch(/not MACed with this room passphrase/);
  });

  it('refuse a key other than the one pinned for the name, and a participant whose key changes', () => {
    const bob = end('b');
    const pinned = new Map([['bob', bob.options.identity.fingerprint]]);
    const a = end('a', { pinned });
    expect(typeof stream(a, bob, honest, { a: 'ann', b: 'bob' }).answers[0]).not.toBe('string');
    const impostor = end('c');
    expect(stream(a, impostor, honest, { a: 'ann', b: 'bob' }).answers[0]).toMatch(/not the one pinned for "bob"/);
    const s = stream(a, bob, honest, { a: 'ann', b: 'bob' });
    expect(s.a.check(proof(s.answers[1]))).toBeUndefined();
    const changed = end('b'); // the same participant id, another key
    expect(stream(a, changed, honest, { a: 'ann', b: 'bobby' }).answers[0]).toMatch(/identity key changed/);
  });

  it('remember the keys proved for as long as the caller keeps them (a messaging client: across disable and enable)', () => {
    const keys = new Map<string, string>();
    const a = end('a');
    const bob = end('b');
    const first = new Trust(a.options, keys);
    const authA = first.forStream('a', 'b', () => 'bob');
    const authB = bob.trust.forStream('b', 'a', () => 'ann');
    authA.answer(authB.hello(), honest.a);
    expect(authA.check(proof(authB.answer(authA.hello(), honest.b)))).toBeUndefined();
    const again = new Trust(a.options, keys); // enabled again
    const changed = end('b');
    const next = again.forStream('a', 'b', () => 'bob');
    expect(next.answer(changed.trust.forStream('b', 'a', () => 'ann').hello(), honest.a)).toMatch(/identity key changed/);
  });

  it('refuse a key whose holder was cut off as hostile, whatever participant id presents it', () => {
    const [a, b] = [end('a', { keyBanned: (fingerprint) => (fingerprint === banned.fingerprint ? 'its identity key was cut off as hostile (x)' : undefined) }), end('b')];
    const s = stream(a, b, honest);
    expect(s.a.check(proof(s.answers[1]))).toBeUndefined();
    const rejoined = end('b2', { identity: banned });
    const authA = a.trust.forStream(a.id, rejoined.id, () => 'b');
    expect(authA.answer(rejoined.trust.forStream(rejoined.id, a.id, () => 'a').hello(), honest.a)).toBe('its identity key was cut off as hostile (x)');
  });

  it('refuse a hello without a key, a peer presenting our own key, a stream whose keys cannot be read, and malformed proofs', () => {
    const [a, b] = [end('a'), end('b')];
    const auth = a.trust.forStream('a', 'b', () => 'b');
    expect(auth.answer({}, honest.a)).toMatch(/no identity key/);
    expect(auth.answer(a.trust.forStream('a', 'b', () => 'b').hello(), honest.a)).toMatch(/our own identity key/);
    expect(auth.answer(b.trust.forStream('b', 'a', () => 'a').hello(), 'no DTLS fingerprint')).toMatch(/could not be read/);
    expect(a.trust.forStream('a', 'b', () => 'b').check(new Uint8Array([1]))).toMatch(/before its hello/);
    for (const body of ['', '{', '{"sig":"zz"}', JSON.stringify({ sig: 'ab'.repeat(64), mac: 'x' })]) expect(typeof decodeProof(new TextEncoder().encode(body))).toBe('string');
    const sig = new Uint8Array(64).fill(7);
    expect(decodeProof(encodeProof({ sig }))).toEqual({ sig });
  });
});

describe('the vectors of docs/protocol.md (protocol/vectors/trust.json, shared with the Python participant)', () => {
  it('sign and MAC the binding message they lay out, as node:crypto checks independently', () => {
    const { binding: v } = TRUST_VECTORS;
    const [a, b] = [identityFromSecretKey(fromHex(v.a.secretKey)), identityFromSecretKey(fromHex(v.b.secretKey))];
    expect([Buffer.from(a.publicKey).toString('hex'), Buffer.from(b.publicKey).toString('hex')]).toEqual([v.a.publicKey, v.b.publicKey]);
    const message = bindingMessage(
      v.room,
      v.kind,
      { id: v.a.id, nonce: fromHex(v.a.nonce), key: a.publicKey, channel: v.a.channel },
      { id: v.b.id, nonce: fromHex(v.b.nonce), key: b.publicKey, channel: v.b.channel },
      v.signer,
    );
    expect(message.length).toBe(v.messageBytes);
    expect(Buffer.from(message).toString('hex').startsWith(v.messageStart)).toBe(true);
    expect(createHash('sha256').update(message).digest('hex')).toBe(v.messageSha256);
    const roomKey = new Uint8Array(32).fill(3);
    const { sig, mac } = prove(a, message, roomKey);
    expect(Buffer.from(sig).toString('hex')).toBe(v.signature);
    const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), a.publicKey]), format: 'der', type: 'spki' });
    expect(nodeVerify(null, message, spki, sig)).toBe(true);
    expect(Buffer.from(mac ?? []).toString('hex')).toBe(createHmac('sha256', roomKey).update(message).digest('hex'));
    expect(a.fingerprint).toBe(v.a.fingerprint);
  });

  it('derive the room key from a passphrase as PBKDF2-SHA-256 does (600,000 iterations)', async () => {
    const { passphrase: v } = TRUST_VECTORS;
    expect(Buffer.from(await deriveRoomKey(v.passphrase, v.room, v.iterations)).toString('hex')).toBe(v.key);
  });
});

describe('identity keys', () => {
  it('have a fingerprint of six groups of five digits, the same from a stored secret key (golden vector)', () => {
    const identity = identityFromSecretKey(new Uint8Array(32).fill(1));
    expect(identity.fingerprint).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(identityFromSecretKey(identity.secretKey).fingerprint).toBe(identity.fingerprint);
    expect(fingerprintOf(identity.publicKey)).toBe(identity.fingerprint);
    expect(Buffer.from(identity.publicKey).toString('hex')).toBe(TRUST_VECTORS.binding.a.publicKey);
    expect(identity.fingerprint).toBe(TRUST_VECTORS.binding.a.fingerprint); // both computed with node:crypto's Ed25519 and SHA-256 too
    expect(normalizeFingerprint(identity.fingerprint.replaceAll(' ', '-'))).toBe(identity.fingerprint);
    expect(normalizeFingerprint('123')).toBeUndefined();
  });

  it('are checked as options: a bad identity, passphrase or pin is INVALID_ARGUMENT', () => {
    expect(() => checkTrustOptions({ identity: { secretKey: 'x' } })).toThrow(/generateIdentity/);
    expect(() => checkTrustOptions({ passphrase: '' })).toThrow(/passphrase/);
    expect(() => checkTrustOptions({ pinnedFingerprints: { bob: '123' } })).toThrow(/30 digits/);
    expect(() => identityFromSecretKey(new Uint8Array(31))).toThrow(/32-byte/);
    checkTrustOptions({ identity: freshIdentity(), passphrase: 'p', pinnedFingerprints: { bob: freshIdentity().fingerprint } });
  });
});
