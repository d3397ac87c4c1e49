/**
 * Key-bound tokens (signaling/auth.ts, client/trust/token.ts, protocol/key-binding.ts): a
 * token an issuer signs (EdDSA) for one identity key, the join proof the service asks of
 * whoever presents it, and the check a peer makes of a token forwarded in a stream's binding.
 * Pure: the real keys, tokens and signatures, no sockets.
 */
import { calculateJwkThumbprint, SignJWT, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkJoinProof, createToken, generateTokenKeys, keyThumbprint as serviceThumbprint, verifyToken } from '../../signaling/auth.js';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { freshIdentity, identityFromSecretKey } from '../../client/trust/identity.js';
import { boundThumbprint, checkPeerToken, issuerKeyBytes, joinProof, keyThumbprint } from '../../client/trust/token.js';
import { checkOwnToken, Trust } from '../../client/trust/trust.js';
import { decodeProof, encodeProof } from '../../client/trust/binding.js';
import { base64url, joinProofMessage } from '../../protocol/key-binding.js';
import { TRUST_VECTORS } from '../vectors.js';

const SECRET = 'unit-test-secret-of-at-least-32-bytes-00';
const keys = generateTokenKeys();
const issuer = issuerKeyBytes(keys.issuerKey) ?? new Uint8Array();

describe('key-bound tokens', () => {
  it('bind a key by its RFC 7638 thumbprint, the same in the client, the service and jose', async () => {
    const { publicKey } = freshIdentity();
    const expected = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: base64url(publicKey) }, 'sha256');
    expect(keyThumbprint(publicKey)).toBe(expected);
    expect(serviceThumbprint(publicKey)).toBe(expected);
    const token = await createToken({ signingKey: keys.signingKey, room: 'r', name: 'ann', publicKey });
    expect(boundThumbprint(token)).toBe(expected);
    const granted = await verifyToken({ issuerKey: keys.issuerKey }, token, 'r');
    expect(granted).toMatchObject({ name: 'ann', jkt: expected });
  });

  it('are checked by the algorithm the service takes: an EdDSA token on a secret-only service, an HS256 one on an issuer-only service, another issuer', async () => {
    const { publicKey } = freshIdentity();
    const signed = await createToken({ signingKey: keys.signingKey, room: 'r', name: 'ann', publicKey });
    const hs = await createToken({ secret: SECRET, room: 'r', name: 'ann' });
    expect(await verifyToken(SECRET, signed, 'r')).toMatch(/algorithm this service does not take \(it takes HS256\)/);
    expect(await verifyToken({ issuerKey: keys.issuerKey }, hs, 'r')).toMatch(/algorithm this service does not take \(it takes EdDSA\)/);
    expect(await verifyToken({ issuerKey: generateTokenKeys().issuerKey }, signed, 'r')).toMatch(/not signed by this service's secret or issuer key/);
    expect(await verifyToken({ secret: SECRET, issuerKey: keys.issuerKey }, hs, 'r')).toMatchObject({ name: 'ann' });
    expect(await verifyToken({ secret: SECRET, issuerKey: keys.issuerKey }, signed, 'r')).toMatchObject({ name: 'ann' });
    await expect(createToken({ room: 'r', name: 'ann' })).rejects.toThrow(/either `secret` \(HS256\) or `signingKey` \(EdDSA\)/);
    await expect(createToken({ signingKey: keys.issuerKey, room: 'r', name: 'ann' })).rejects.toThrow(/Ed25519 private key/);
    await expect(createToken({ secret: SECRET, room: 'r', name: 'ann', publicKey: new Uint8Array(31) })).rejects.toThrow(/32-byte Ed25519 public key/);
  });

  it('admit a join only with a fresh proof by the bound key', async () => {
    const identity = freshIdentity();
    const token = await createToken({ signingKey: keys.signingKey, room: 'r', name: 'ann', publicKey: identity.publicKey });
    const jkt = boundThumbprint(token) ?? '';
    expect(checkJoinProof(jkt, joinProof(identity, 'r', token), 'r', token)).toBeUndefined();
    expect(checkJoinProof(jkt, undefined, 'r', token)).toMatch(/carries no proof of holding it/);
    expect(checkJoinProof(jkt, joinProof(freshIdentity(), 'r', token), 'r', token)).toMatch(/binds another identity key/);
    expect(checkJoinProof(jkt, joinProof(identity, 'r', token, Date.now() - 301_000), 'r', token)).toMatch(/more than 300 s from this service's clock/);
    expect(checkJoinProof(jkt, joinProof(identity, 'other', token), 'r', token)).toMatch(/not signed by the identity key/);
    const forged = { ...joinProof(identity, 'r', token), at: Date.now() - 1_000 };
    expect(checkJoinProof(jkt, forged, 'r', token)).toMatch(/not signed by the identity key/);
  });

  it('vouch to a peer only when signed by the issuer, for this room and name, binding the key that signed the stream', async () => {
    const { publicKey } = freshIdentity();
    const mint = (options: { room?: string; name?: string; publicKey?: Uint8Array; signingKey?: typeof keys.signingKey } = {}): Promise<string> =>
      createToken({ signingKey: options.signingKey ?? keys.signingKey, room: options.room ?? 'r', name: options.name ?? 'ann', publicKey: options.publicKey ?? publicKey });
    const expected = { room: 'r', name: 'ann', key: publicKey };
    expect(checkPeerToken(await mint(), issuer, expected)).toBeUndefined();
    expect(checkPeerToken(undefined, issuer, expected)).toMatch(/presented no join token/);
    expect(checkPeerToken('not.a.token', issuer, expected)).toMatch(/malformed/);
    expect(checkPeerToken(await mint({ signingKey: generateTokenKeys().signingKey }), issuer, expected)).toMatch(/not signed by the room's issuer/);
    expect(checkPeerToken(await createToken({ secret: SECRET, room: 'r', name: 'ann', publicKey }), issuer, expected)).toMatch(/signed with "HS256"/);
    expect(checkPeerToken(await mint({ room: 'other' }), issuer, expected)).toMatch(/for room "other"/);
    expect(checkPeerToken(await mint({ name: 'bob' }), issuer, expected)).toMatch(/names it "bob", but the service lists it as "ann"/);
    expect(checkPeerToken(await mint({ publicKey: freshIdentity().publicKey }), issuer, expected)).toMatch(/binds another identity key/);
    // A payload changed after signing (the name swapped), under the original signature.
    const [header, , signature] = (await mint()).split('.');
    const payload = base64url(new TextEncoder().encode(JSON.stringify({ room: 'r', name: 'ann', iss: 'roommesh', cnf: { jkt: keyThumbprint(freshIdentity().publicKey) } })));
    expect(checkPeerToken(`${header ?? ''}.${payload}.${signature ?? ''}`, issuer, expected)).toMatch(/not signed by the room's issuer/);
    // An EdDSA token signed by the issuer's key with no issuer claim is not a roommesh token.
    const foreign = await new SignJWT({ room: 'r', name: 'ann', cnf: { jkt: keyThumbprint(publicKey) } }).setProtectedHeader({ alg: 'EdDSA' }).sign(await importJWK(keys.signingKey, 'EdDSA'));
    expect(checkPeerToken(foreign, issuer, expected)).toMatch(/not a roommesh join token \(its issuer is undefined\)/);
  });

  it('travel in stream bindings: a peer with the issuer key accepts a bound token and refuses a stream without one', async () => {
    const [ann, bob, eve] = [freshIdentity(), freshIdentity(), freshIdentity()];
    const tokens = {
      ann: await createToken({ signingKey: keys.signingKey, room: 'r', name: 'ann', publicKey: ann.publicKey }),
      bob: await createToken({ signingKey: keys.signingKey, room: 'r', name: 'bob', publicKey: bob.publicKey }),
    };
    const trust = (identity: typeof ann, token: string | undefined) => new Trust({ identity, room: 'r', issuerKey: issuer, token: () => token });
    const view = { kind: 'dtls', local: 'A', remote: 'B' } as const;
    const reverse = { kind: 'dtls', local: 'B', remote: 'A' } as const;
    /** One stream; `forward` is a token b's side puts in its proof whatever it binds (an honest client sends only its own, bound one). */
    const pair = (a: Trust, b: Trust, bName: string, forward?: string) => {
      const [sa, sb] = [a.forStream('a', 'b', () => bName), b.forStream('b', 'a', () => 'ann')];
      const [pa, pb] = [sa.answer(sb.hello(), view), sb.answer(sa.hello(), reverse)];
      if (typeof pa === 'string' || typeof pb === 'string') throw new Error('no proof');
      const sent = decodeProof(pb);
      if (typeof sent === 'string') throw new Error(sent);
      return { a: sa.check(forward === undefined ? pb : encodeProof({ ...sent, token: forward })), b: sb.check(pa) };
    };
    expect(pair(trust(ann, tokens.ann), trust(bob, tokens.bob), 'bob')).toEqual({ a: undefined, b: undefined });
    // Eve holds bob's token but not bob's key; then no token at all; then bob's token listed under another name.
    expect(pair(trust(ann, tokens.ann), trust(eve, tokens.bob), 'bob').a).toMatch(/presented no join token/);
    expect(pair(trust(ann, tokens.ann), trust(eve, undefined), 'bob', tokens.bob).a).toMatch(/binds another identity key/);
    expect(pair(trust(ann, tokens.ann), new Trust({ identity: eve, room: 'r' }), 'bob').a).toMatch(/presented no join token/);
    expect(pair(trust(ann, tokens.ann), trust(bob, tokens.bob), 'carol').a).toMatch(/names it "bob", but the service lists it as "carol"/);
  });

  it('match the join-proof vector of docs/protocol.md (protocol/vectors/trust.json), as node:crypto checks independently', () => {
    const v = TRUST_VECTORS.joinProof;
    const identity = identityFromSecretKey(new Uint8Array(Buffer.from(v.secretKey, 'hex')));
    const message = joinProofMessage(v.room, v.token, v.at);
    expect(Buffer.from(message).toString('hex')).toBe(v.message);
    const proof = joinProof(identity, v.room, v.token, v.at);
    expect(proof.sig).toBe(v.signature);
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64url(identity.publicKey) }, format: 'jwk' });
    expect(nodeVerify(null, message, publicKey, Buffer.from(proof.sig, 'hex'))).toBe(true);
    expect(keyThumbprint(identity.publicKey)).toBe(v.thumbprint);
  });

  it('are checked as options: a token for another key, or an issuer key without a bound token, is INVALID_ARGUMENT', async () => {
    const identity = freshIdentity();
    const bound = await createToken({ signingKey: keys.signingKey, room: 'r', name: 'ann', publicKey: identity.publicKey });
    expect(() => checkOwnToken(bound, identity, keys.issuerKey)).not.toThrow();
    expect(() => checkOwnToken(bound, freshIdentity(), undefined)).toThrow(/binds another identity key than this client's/);
    const unbound = await createToken({ secret: SECRET, room: 'r', name: 'ann' });
    expect(() => checkOwnToken(unbound, identity, keys.issuerKey)).toThrow(/must bind your identity key/);
    expect(issuerKeyBytes(keys.signingKey)).toBeUndefined();
    expect(issuerKeyBytes({ kty: 'OKP', crv: 'Ed25519', x: 'short' })).toBeUndefined();
  });
});
