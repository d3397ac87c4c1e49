/**
 * Signed join tokens (JWT, HS256, via jose). A token names the room, the participant's
 * name, role and attributes, and expires; the service takes identity from it, never from
 * what the client claims. Every refusal says which check failed.
 *
 * A token is one participant at a time: it carries a random `jti`, and the service lets one
 * live participant hold it (a second join replaces the first). A token minted for sharing
 * (`maxParticipants`, claim `share`) admits up to that many at once, and refuses the next.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { MAX_NAME_CHARS, MAX_ROLE_CHARS, MAX_ROOM_CHARS } from '../protocol/limits.js';
import { z } from 'zod';
import type { JsonValue } from '../protocol/json.js';
import { attributesSchema } from '../protocol/schemas.js';

export interface TokenOptions {
  /** The service's secret (at least 32 bytes of entropy is wise). */
  secret: string | Uint8Array;
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
});

const key = (secret: string | Uint8Array): Uint8Array => (typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);

/** Mints a join token for `createSignalingServer({ secret })`. */
export async function createToken(options: TokenOptions): Promise<string> {
  const share = options.maxParticipants === undefined || options.maxParticipants === 1 ? undefined : options.maxParticipants;
  const parsed = claimsSchema.parse({ room: options.room, name: options.name, role: options.role, attrs: options.attributes, share });
  const claims: Record<string, JsonValue> = { room: parsed.room, name: parsed.name };
  if (parsed.role !== undefined) claims['role'] = parsed.role;
  if (parsed.attrs !== undefined) claims['attrs'] = parsed.attrs;
  if (parsed.share !== undefined) claims['share'] = parsed.share;
  const expiresIn = options.expiresIn ?? 3600;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt()
    .setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn)
    .sign(key(options.secret));
}

/**
 * The identity a token grants for `room`, or the reason it grants none. `expiredGraceSeconds`
 * accepts a token expired that long ago: only for a resume the service has proven it admitted
 * (signaling/tickets.ts). A token not valid yet (`nbf`) is refused whatever the grace.
 */
export async function verifyToken(secret: string | Uint8Array, token: string | undefined, room: string, options: VerifyOptions = {}): Promise<TokenIdentity | string> {
  if (token === undefined) return 'this service requires a join token; mint one with `roommesh token` or createToken()';
  let payload: { nbf?: number } & Record<string, unknown>;
  try {
    // jose's tolerance relaxes nbf as well as exp: nbf is checked again, strictly, below.
    ({ payload } = await jwtVerify(token, key(secret), { issuer: ISSUER, algorithms: ['HS256'], requiredClaims: ['exp'], clockTolerance: options.expiredGraceSeconds ?? 0 }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return 'the join token has expired';
    if (error instanceof errors.JWSSignatureVerificationFailed) return 'the join token is not signed by this service (wrong secret)';
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
  return { room, name: data.name, role: data.role ?? 'participant', attributes: data.attrs ?? {}, key: tokenKey, share: data.share ?? 1 };
}
