/**
 * What binds a join token to a participant's identity key, shared by the service and the
 * client: the key's thumbprint (RFC 7638, the token's `cnf.jkt` claim) and the join proof, a
 * signature by that key over the join, which shows the service that whoever presents a
 * key-bound token holds its key (so a token a peer has seen is worthless to that peer).
 * Pure, with no crypto of its own: each side hashes and signs with what it has.
 */

/** Length-prefixed fields (u32 big-endian length, then the bytes): no two transcripts encode alike. */
export function transcript(parts: Array<Uint8Array | string>): Uint8Array {
  const encoder = new TextEncoder();
  const bytes = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part));
  const out = new Uint8Array(bytes.reduce((sum, b) => sum + 4 + b.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of bytes) {
    view.setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** base64url without padding (RFC 4648 §5), as JWTs and JWKs write bytes. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** base64url (padded or not) as bytes, or undefined if it is not base64url. */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  const binary = atob(text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** The JSON an Ed25519 public key's RFC 7638 thumbprint is the SHA-256 of: its required members, in order. */
export const thumbprintInput = (publicKey: Uint8Array): string => `{"crv":"Ed25519","kty":"OKP","x":"${base64url(publicKey)}"}`;

/** How far a join proof's time may stray from the service's clock, either way. */
export const JOIN_PROOF_WINDOW_SECONDS = 300;

/** A join's (or resume's) proof of holding the key its token binds. */
export interface JoinProof {
  /** The Ed25519 public key, 32 bytes in lower-case hex. */
  key: string;
  /** When it was signed, in milliseconds since the epoch. */
  at: number;
  /** The signature over joinProofMessage, 64 bytes in lower-case hex. */
  sig: string;
}

/** What a join proof signs: the room, the token and the time, so it is good for that join only (give or take the window). */
export const joinProofMessage = (room: string, token: string, at: number): Uint8Array => transcript(['roommesh join v1', room, token, String(at)]);
