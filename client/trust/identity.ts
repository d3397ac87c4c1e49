/**
 * A participant's identity key: an Ed25519 signing key pair, made fresh for each RoomClient
 * unless one is passed in (`new RoomClient({ identity })`, from `generateIdentity()`). It signs
 * the binding of every stream it opens (binding.ts), so that a peer knows the stream ends at
 * the holder of this key and not at whoever relayed the offer. Pure JS (@noble/curves): the
 * same code in Node, in browsers, and on plain-http pages where WebCrypto is missing.
 *
 * `fingerprint` is the key as people compare it out of band: 30 digits in six groups of five
 * (the safety-number style), about 100 bits of the key's SHA-256.
 */
import * as ed25519 from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { RoomError } from '../../protocol/errors.js';

/** An identity key pair. Keep `secretKey` secret; store it (32 bytes) to be the same participant across sessions. */
export interface RoomIdentity {
  /** The Ed25519 secret key (32 bytes). */
  readonly secretKey: Uint8Array;
  /** The Ed25519 public key (32 bytes): what peers see and check. */
  readonly publicKey: Uint8Array;
  /** The public key as 30 digits in groups of five, for people to compare out of band. */
  readonly fingerprint: string;
}

export const SIGNATURE_BYTES = 64;

// The synchronous API wants its SHA-512 given (WebCrypto's is async, and absent from plain-http pages).
ed25519.hashes.sha512 = sha512;

const FINGERPRINT_CONTEXT = new TextEncoder().encode('roommesh fingerprint v1');

/** The public key's fingerprint: six groups of five digits (each from 5 bytes of its SHA-256, modulo 100,000). */
export function fingerprintOf(publicKey: Uint8Array): string {
  const input = new Uint8Array(FINGERPRINT_CONTEXT.length + publicKey.length);
  input.set(FINGERPRINT_CONTEXT);
  input.set(publicKey, FINGERPRINT_CONTEXT.length);
  const digest = sha256(input);
  const groups: string[] = [];
  for (let group = 0; group < 6; group++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (digest[group * 5 + i] ?? 0);
    groups.push(String(value % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}

/** `identity` from a stored secret key (32 bytes): the same public key and fingerprint as when it was made. */
export function identityFromSecretKey(secretKey: Uint8Array): RoomIdentity {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new RoomError('INVALID_ARGUMENT', 'identity.secretKey must be the 32-byte Ed25519 secret key generateIdentity() made');
  }
  const own = Uint8Array.from(secretKey);
  const publicKey = ed25519.getPublicKey(own);
  return Object.freeze({ secretKey: own, publicKey, fingerprint: fingerprintOf(publicKey) });
}

/** A fresh identity key pair (Ed25519). */
export function freshIdentity(): RoomIdentity {
  return identityFromSecretKey(ed25519.utils.randomSecretKey());
}

/** A fresh identity key pair (Ed25519), to pass as `new RoomClient({ identity })`. Async, so that a later version may make it with WebCrypto. */
export async function generateIdentity(): Promise<RoomIdentity> {
  return freshIdentity();
}

/** Signs `message` with the identity's key. */
export function sign(identity: RoomIdentity, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, identity.secretKey);
}

/** Whether `signature` is `publicKey`'s over `message`. Never throws. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

/** The normalised form of a fingerprint a person typed or pasted: its 30 digits, grouped by five. Undefined if it has not 30 digits. */
export function normalizeFingerprint(text: string): string | undefined {
  const digits = text.replace(/[\s-]/g, '');
  if (!/^\d{30}$/.test(digits)) return undefined;
  return digits.match(/\d{5}/g)?.join(' ');
}
