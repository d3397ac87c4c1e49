/**
 * Join tokens as a participant sees them: this client's own (does it bind our identity key,
 * and the proof of holding that key that a join carries) and a peer's, forwarded in its auth
 * record and checked against the issuer's public key (`new RoomClient({ issuerKey })`). A
 * peer's token must be signed by the issuer (EdDSA), be for this room, name the participant
 * the service lists, and bind the key that signed the stream's binding: the service can then
 * neither invent a participant nor put its own key behind someone's name. Lifetimes are the
 * service's to enforce; a stolen token without its key is worthless to a peer or to the
 * service (the join proof).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64url, fromBase64url, joinProofMessage, thumbprintInput, type JoinProof } from '../../protocol/key-binding.js';
import { sign, verify, type RoomIdentity } from './identity.js';

/** An Ed25519 public key as a JWK (`{ kty: 'OKP', crv: 'Ed25519', x }`), as generateTokenKeys() gives the issuer's. */
export interface IssuerKey {
  kty?: string | undefined;
  crv?: string | undefined;
  x?: string | undefined;
  [member: string]: unknown;
}

/** The claims of a token that matter to peers. */
interface PeerClaims {
  room?: unknown;
  name?: unknown;
  iss?: unknown;
  cnf?: { jkt?: unknown };
}

const decoder = new TextDecoder();

/** An Ed25519 public key's RFC 7638 thumbprint: the `cnf.jkt` a token binds it by. */
export const keyThumbprint = (publicKey: Uint8Array): string => base64url(sha256(new TextEncoder().encode(thumbprintInput(publicKey))));

/** A JWS's three parts, its header and payload read as JSON; undefined if it is not one. */
function readJws(token: string): { header: Record<string, unknown>; claims: PeerClaims; signed: Uint8Array; signature: Uint8Array } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts.map((part) => fromBase64url(part));
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  try {
    const headerJson: unknown = JSON.parse(decoder.decode(header));
    const claims: unknown = JSON.parse(decoder.decode(payload));
    if (typeof headerJson !== 'object' || headerJson === null || typeof claims !== 'object' || claims === null) return undefined;
    const signed = new TextEncoder().encode(`${parts[0] ?? ''}.${parts[1] ?? ''}`);
    return { header: headerJson as Record<string, unknown>, claims: claims as PeerClaims, signed, signature };
  } catch {
    return undefined;
  }
}

/** The thumbprint of the key `token` binds (`cnf.jkt`), if it is a token that binds one. Reads, does not verify. */
export function boundThumbprint(token: string | undefined): string | undefined {
  const jkt = token === undefined ? undefined : readJws(token)?.claims.cnf?.jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/** The issuer's key (a JWK) as 32 raw bytes, or undefined if it is not an Ed25519 public key. */
export function issuerKeyBytes(jwk: unknown): Uint8Array | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const { kty, crv, x, d } = jwk as Record<string, unknown>;
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string' || d !== undefined) return undefined;
  const bytes = fromBase64url(x);
  return bytes?.length === 32 ? bytes : undefined;
}

/** The proof a join (or resume) with `token` carries: our identity key's signature over the room, the token and the time. */
export function joinProof(identity: RoomIdentity, room: string, token: string, at = Date.now()): JoinProof {
  return { key: bytesToHex(identity.publicKey), at, sig: bytesToHex(sign(identity, joinProofMessage(room, token, at))) };
}

/**
 * Undefined if `token` vouches for the participant the service lists as `name` in `room`
 * holding `key`: signed (EdDSA) by `issuerKey`, issued by roommesh, for this room and name,
 * binding this key. Else why not. Never throws.
 */
export function checkPeerToken(token: string | undefined, issuerKey: Uint8Array, expected: { room: string; name: string | undefined; key: Uint8Array }): string | undefined {
  if (token === undefined) return 'it presented no join token, and this room requires one from its issuer';
  const jws = readJws(token);
  if (jws === undefined) return 'its join token is malformed';
  if (jws.header['alg'] !== 'EdDSA') return `its join token is signed with ${JSON.stringify(jws.header['alg'])}, not the issuer's EdDSA key`;
  if (!verify(issuerKey, jws.signed, jws.signature)) return 'its join token is not signed by the room\'s issuer';
  const { claims } = jws;
  if (claims.iss !== 'roommesh') return `its join token is not a roommesh join token (its issuer is ${JSON.stringify(claims.iss) ?? 'undefined'})`;
  if (claims.room !== expected.room) return `its join token is for room ${JSON.stringify(claims.room)}, not this one`;
  if (claims.name !== expected.name) return `its join token names it ${JSON.stringify(claims.name)}, but the service lists it as ${JSON.stringify(expected.name)}`;
  if (claims.cnf?.jkt !== keyThumbprint(expected.key)) return 'its join token binds another identity key than the one that signed this stream';
  return undefined;
}
