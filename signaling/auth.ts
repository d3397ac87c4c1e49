/**
 * Signed join tokens (JWT via jose). A token names the room, the participant's name, role and
 * attributes, and expires; the service takes identity from it, never from what the client
 * claims. Every refusal says which check failed.
 *
 * Two ways to sign: HS256 with the service's secret, or EdDSA (Ed25519) with an issuer's
 * private key (generateTokenKeys), which the service and every peer check with its public
 * half: such a service holds no secret that could mint a token. A token may also bind the
 * participant's identity key (claim `cnf.jkt`, its RFC 7638 thumbprint): then only the key's
 * holder may join with it (key-binding.ts's join proof), and peers that know the issuer's
 * key check that the key which signs a stream's binding is the one the token names.
 *
 * A token is one participant at a time: it carries a random `jti`, and the service lets one
 * live participant hold it (a second join replaces the first). A token minted for sharing
 * (`maxParticipants`, claim `share`) admits up to that many at once, and refuses the next.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { SignJWT, errors, importJWK, jwtVerify, type CryptoKey, type JWTHeaderParameters } from 'jose';
import { JOIN_PROOF_WINDOW_SECONDS, base64url, joinProofMessage, thumbprintInput, type JoinProof } from '../protocol/key-binding.js';
import { MAX_NAME_CHARS, MAX_ROLE_CHARS, MAX_ROOM_CHARS } from '../protocol/limits.js';
import { z } from 'zod';
import type { JsonValue } from '../protocol/json.js';
import { attributesSchema } from '../protocol/schemas.js';
import { secretWeakness } from './key-files.js';

export interface TokenOptions {
  /** Sign with HS256 and the service's secret (at least 32 random bytes). Give this or `signingKey`. */
  secret?: string | Uint8Array;
  /** Or sign with EdDSA and the issuer's private key (generateTokenKeys().signingKey), checked with its public half. */
  signingKey?: JsonWebKey;
  /**
   * The participant's identity key (`identity.publicKey`, 32 bytes): the token is then good
   * with that key only (claim `cnf.jkt`). The service admits only whoever proves it holds the
   * key, and peers given the issuer's key refuse a stream signed by any other.
   */
  publicKey?: Uint8Array;
  room: string;
  name: string;
  role?: string;
  attributes?: Record<string, JsonValue>;
  /** Lifetime in seconds, or a jose time span such as `'2h'`. Default one hour. */
  expiresIn?: number | string;
  /**
   * How many participants may hold this token at once. Default 1: a second join with it
   * replaces the first (whose room is told, and closes). Above 1, a token meant to be shared
   * (a kiosk, a test fleet): joins past the cap are refused with UNAUTHORIZED.
   */
  maxParticipants?: number;
}

export interface TokenIdentity {
  room: string;
  name: string;
  role: string;
  attributes: Record<string, JsonValue>;
  /** What makes two joins "the same token": its `jti`, or for a token without one, its room and name. */
  key: string;
  /** Participants that may hold it at once. */
  share: number;
  /** The identity key's thumbprint the token binds (`cnf.jkt`), if it binds one. */
  jkt?: string;
}

/** What a service checks tokens with: its secret (HS256), the issuer's public key (EdDSA), or both. */
export interface TokenKeys {
  secret?: string | Uint8Array;
  /** The issuer's Ed25519 public key as a JWK (generateTokenKeys().issuerKey). */
  issuerKey?: JsonWebKey;
}

/** An Ed25519 key pair for signing tokens: `signingKey` stays with whoever mints them; `issuerKey` goes to the service and to participants. */
export function generateTokenKeys(): { signingKey: JsonWebKey; issuerKey: JsonWebKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { signingKey: privateKey.export({ format: 'jwk' }), issuerKey: publicKey.export({ format: 'jwk' }) };
}

/** An Ed25519 public key's RFC 7638 thumbprint (base64url SHA-256): the `cnf.jkt` a token binds it by. */
export const keyThumbprint = (publicKey: Uint8Array): string => base64url(createHash('sha256').update(thumbprintInput(publicKey)).digest());

/**
 * Undefined if `proof` shows that whoever joins `room` with `token` holds the key of thumbprint
 * `jkt`, signed within JOIN_PROOF_WINDOW_SECONDS of now; else why not.
 */
export function checkJoinProof(jkt: string, proof: JoinProof | undefined, room: string, token: string, now = Date.now()): string | undefined {
  if (proof === undefined) return 'the join token binds an identity key, and the join carries no proof of holding it (pass the same `identity` the token was minted for)';
  const key = Buffer.from(proof.key, 'hex');
  if (keyThumbprint(key) !== jkt) return 'the join token binds another identity key than the one this join proves (pass the `identity` the token was minted for)';
  if (Math.abs(now - proof.at) > JOIN_PROOF_WINDOW_SECONDS * 1000) return `the join proof was signed at ${new Date(proof.at).toISOString()}, more than ${JOIN_PROOF_WINDOW_SECONDS} s from this service's clock`;
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64url(key) }, format: 'jwk' });
  if (!verify(null, joinProofMessage(room, token, proof.at), publicKey, Buffer.from(proof.sig, 'hex'))) return 'the join proof is not signed by the identity key the join token binds';
  return undefined;
}

/** Rules of verification: how long ago an expired token may have expired (resumes only); never applied to `nbf`. */
export interface VerifyOptions {
  expiredGraceSeconds?: number;
}

const ISSUER = 'roommesh';
const claimsSchema = z.object({
  room: z.string().min(1).max(MAX_ROOM_CHARS),
  name: z.string().min(1).max(MAX_NAME_CHARS),
  role: z.string().min(1).max(MAX_ROLE_CHARS).optional(),
  attrs: attributesSchema.optional(),
  share: z.number().int().min(1).max(1_000_000).optional(),
  jti: z.string().min(1).max(256).optional(),
  cnf: z.object({ jkt: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }).optional(),
});

const key = (secret: string | Uint8Array): Uint8Array => (typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);

/** Whether `jwk` is an Ed25519 key (public, or private with `d`), as generateTokenKeys makes them. */
const isEd25519 = (jwk: JsonWebKey | undefined, secret: boolean): boolean =>
  jwk !== undefined && jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && (!secret || typeof jwk.d === 'string');

/** The keys a service checks tokens with (undefined: an open service); throws TypeError for an `issuerKey` that is not an Ed25519 public key. */
export function tokenKeys(options: TokenKeys): TokenKeys | undefined {
  if (options.issuerKey !== undefined && (!isEd25519(options.issuerKey, false) || options.issuerKey.d !== undefined)) {
    throw new TypeError('`issuerKey` must be an Ed25519 public key as a JWK (generateTokenKeys().issuerKey), never the private signingKey');
  }
  const weak = secretWeakness(options.secret);
  if (weak !== undefined) throw new TypeError(weak);
  if (options.secret === undefined && options.issuerKey === undefined) return undefined;
  return { ...(options.secret === undefined ? {} : { secret: options.secret }), ...(options.issuerKey === undefined ? {} : { issuerKey: options.issuerKey }) };
}

/** Mints a join token for `createSignalingServer({ secret })` or `({ issuerKey })`. */
export async function createToken(options: TokenOptions): Promise<string> {
  if ((options.secret === undefined) === (options.signingKey === undefined)) throw new TypeError('createToken needs either `secret` (HS256) or `signingKey` (EdDSA), not both');
  if (options.signingKey !== undefined && !isEd25519(options.signingKey, true)) throw new TypeError('`signingKey` must be an Ed25519 private key as a JWK (generateTokenKeys().signingKey)');
  if (options.publicKey !== undefined && !(options.publicKey instanceof Uint8Array && options.publicKey.length === 32)) throw new TypeError('`publicKey` must be an identity\'s 32-byte Ed25519 public key (identity.publicKey)');
  const share = options.maxParticipants === undefined || options.maxParticipants === 1 ? undefined : options.maxParticipants;
  const parsed = claimsSchema.parse({ room: options.room, name: options.name, role: options.role, attrs: options.attributes, share });
  const claims: Record<string, JsonValue> = { room: parsed.room, name: parsed.name };
  if (parsed.role !== undefined) claims['role'] = parsed.role;
  if (parsed.attrs !== undefined) claims['attrs'] = parsed.attrs;
  if (parsed.share !== undefined) claims['share'] = parsed.share;
  if (options.publicKey !== undefined) claims['cnf'] = { jkt: keyThumbprint(options.publicKey) };
  const expiresIn = options.expiresIn ?? 3600;
  const signer = options.signingKey === undefined ? { alg: 'HS256', key: key(options.secret ?? '') } : { alg: 'EdDSA', key: await importJWK(options.signingKey, 'EdDSA') };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: signer.alg, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt()
    .setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn)
    .sign(signer.key);
}

/** The keys jose checks a token with, by the algorithm its header names; throws (as jose does) for an algorithm the service does not take. */
async function verificationKeys(keys: TokenKeys): Promise<{ algorithms: string[]; keyFor: (header: JWTHeaderParameters) => Uint8Array | CryptoKey }> {
  const issuer = keys.issuerKey === undefined ? undefined : await importJWK(keys.issuerKey, 'EdDSA');
  if (issuer instanceof Uint8Array) throw new TypeError('`issuerKey` must be an Ed25519 public key');
  const algorithms = [...(keys.secret === undefined ? [] : ['HS256']), ...(issuer === undefined ? [] : ['EdDSA'])];
  return { algorithms, keyFor: (header) => (header.alg === 'EdDSA' && issuer !== undefined ? issuer : key(keys.secret ?? new Uint8Array(32))) };
}

/**
 * The identity a token grants for `room`, or the reason it grants none. `expiredGraceSeconds`
 * accepts a token expired that long ago: only for a resume the service has proven it admitted
 * (signaling/tickets.ts). A token not valid yet (`nbf`) is refused whatever the grace.
 */
export async function verifyToken(keys: string | Uint8Array | TokenKeys, token: string | undefined, room: string, options: VerifyOptions = {}): Promise<TokenIdentity | string> {
  if (token === undefined) return 'this service requires a join token; mint one with `roommesh token` or createToken()';
  const { algorithms, keyFor } = await verificationKeys(typeof keys === 'string' || keys instanceof Uint8Array ? { secret: keys } : keys);
  let payload: { nbf?: number } & Record<string, unknown>;
  try {
    // jose's tolerance relaxes nbf as well as exp: nbf is checked again, strictly, below.
    ({ payload } = await jwtVerify(token, keyFor, { issuer: ISSUER, algorithms, requiredClaims: ['exp'], clockTolerance: options.expiredGraceSeconds ?? 0 }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return 'the join token has expired';
    if (error instanceof errors.JWSSignatureVerificationFailed) return 'the join token is not signed by this service\'s secret or issuer key';
    if (error instanceof errors.JOSEAlgNotAllowed) return `the join token is signed with an algorithm this service does not take (it takes ${algorithms.join(' and ')})`;
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return 'the join token is not valid yet (its "nbf" lies in the future)';
    if (error instanceof errors.JWTClaimValidationFailed) return `the join token's "${error.claim}" claim is invalid`;
    return 'the join token is malformed';
  }
  if (typeof payload.nbf === 'number' && payload.nbf > Date.now() / 1000) return 'the join token is not valid yet (its "nbf" lies in the future)';
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) return 'the join token carries no valid room/name claims';
  const { data } = claims;
  if (data.room !== room) return `the join token is for room "${data.room}", not "${room}"`;
  const tokenKey = data.jti !== undefined ? `jti:${data.jti}` : `name:${JSON.stringify([data.room, data.name])}`;
  return { room, name: data.name, role: data.role ?? 'participant', attributes: data.attrs ?? {}, key: tokenKey, share: data.share ?? 1, ...(data.cnf === undefined ? {} : { jkt: data.cnf.jkt }) };
}
