/**
 * Signed join tokens (JWT, HS256, via jose). A token names the room, the participant's
 * name, role and attributes, and expires; the service takes identity from it, never from
 * what the client claims. Every refusal says which check failed.
 */
import { MAX_NAME_CHARS, MAX_ROLE_CHARS, MAX_ROOM_CHARS } from '../protocol/limits.js';
import { SignJWT, errors, jwtVerify } from 'jose';
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
}

export interface TokenIdentity {
  room: string;
  name: string;
  role: string;
  attributes: Record<string, JsonValue>;
}

const ISSUER = 'roommesh';
const claimsSchema = z.object({
  room: z.string().min(1).max(MAX_ROOM_CHARS),
  name: z.string().min(1).max(MAX_NAME_CHARS),
  role: z.string().min(1).max(MAX_ROLE_CHARS).optional(),
  attrs: attributesSchema.optional(),
});

const key = (secret: string | Uint8Array): Uint8Array => (typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);

/** Mints a join token for `createSignalingServer({ secret })`. */
export async function createToken(options: TokenOptions): Promise<string> {
  const claims = claimsSchema.parse({ room: options.room, name: options.name, role: options.role, attrs: options.attributes });
  const expiresIn = options.expiresIn ?? 3600;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn)
    .sign(key(options.secret));
}

/**
 * The identity a token grants for `room`, or the reason it grants none. `expiredGraceSeconds`
 * accepts a token expired that long ago (a participant resuming after the service restarted
 * was admitted while its token was valid).
 */
export async function verifyToken(secret: string | Uint8Array, token: string | undefined, room: string, expiredGraceSeconds = 0): Promise<TokenIdentity | string> {
  if (token === undefined) return 'this service requires a join token; mint one with `roommesh token` or createToken()';
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key(secret), { issuer: ISSUER, algorithms: ['HS256'], requiredClaims: ['exp'], clockTolerance: expiredGraceSeconds }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return 'the join token has expired';
    if (error instanceof errors.JWSSignatureVerificationFailed) return 'the join token is not signed by this service (wrong secret)';
    if (error instanceof errors.JWTClaimValidationFailed) return `the join token's "${error.claim}" claim is invalid`;
    return 'the join token is malformed';
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) return 'the join token carries no valid room/name claims';
  if (claims.data.room !== room) return `the join token is for room "${claims.data.room}", not "${room}"`;
  return { room, name: claims.data.name, role: claims.data.role ?? 'participant', attributes: claims.data.attrs ?? {} };
}
