/**
 * The binding of one stream (a direct link or a relay stream) to the two identity keys at its
 * ends. Each side's hello carries a fresh nonce and its identity key; once it has the peer's
 * hello, each side signs one transcript, the same on both sides when nobody is in between:
 *
 *   the room; both participant ids; both nonces; both identity keys; and what the stream's own
 *   encryption is keyed by at each end (a direct link's DTLS certificate fingerprints, read from
 *   each side's session description; a relay stream's ECDH public keys),
 *
 * each field the lower participant id's first, then the signer's id (so that a signature is
 * never valid as the other side's). A service that put itself in between (its own DTLS
 * certificate or ECDH key towards each side) leaves the two sides with different transcripts,
 * so neither can check the other's signature. Fresh nonces from both make an old binding
 * worthless. With a room passphrase, the same message is MACed with the key derived from it
 * (passphrase.ts): whoever signs must also know the passphrase.
 *
 * Pure: the keys and bytes come in, a record or a reason comes out.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { transcript } from '../../protocol/key-binding.js';
import { MAX_TOKEN_CHARS } from '../../protocol/limits.js';
import { HELLO_KEY_BYTES, HELLO_NONCE_BYTES, isHexOf } from '../wire/codec.js';
import { SIGNATURE_BYTES, sign, verify, type RoomIdentity } from './identity.js';

export const MAC_BYTES = 32;

/** What a stream's encryption is keyed by at each end: DTLS fingerprints (direct) or ECDH public keys (relay). */
export interface ChannelBinding {
  kind: 'dtls' | 'relay';
  local: string;
  remote: string;
}

/** One end of a stream as the transcript names it. */
export interface BindingEnd {
  id: string;
  nonce: Uint8Array;
  key: Uint8Array;
  channel: string;
}

/** The auth record's fields: the signature, and the MAC when the room has a passphrase. */
export interface AuthProof {
  sig: Uint8Array;
  mac?: Uint8Array;
  /** The signer's join token, when it binds the signer's identity key (token.ts): for peers that check tokens themselves. */
  token?: string;
}

const encoder = new TextEncoder();

/** The message `signerId` signs (and MACs) for a stream between `local` and `remote`. */
export function bindingMessage(room: string, kind: ChannelBinding['kind'], local: BindingEnd, remote: BindingEnd, signerId: string): Uint8Array {
  const [first, second] = local.id < remote.id ? [local, remote] : [remote, local];
  return transcript(['roommesh binding v1', kind, room, first.id, second.id, first.nonce, second.nonce, first.key, second.key, first.channel, second.channel, signerId]);
}

/** Our proof for a stream: the signature over the binding message, and its MAC under the room key if there is one. */
export function prove(identity: RoomIdentity, message: Uint8Array, roomKey: Uint8Array | undefined): AuthProof {
  const proof: AuthProof = { sig: sign(identity, message) };
  if (roomKey !== undefined) proof.mac = hmac(sha256, roomKey, message);
  return proof;
}

/** Undefined if `proof` is `key`'s over `message` (and MACed under `roomKey` when there is one), else why not. */
export function checkProof(message: Uint8Array, key: Uint8Array, proof: AuthProof, roomKey: Uint8Array | undefined): string | undefined {
  if (!verify(key, message, proof.sig)) return 'its binding signature does not match this stream (another party between us, or an old binding replayed)';
  if (roomKey === undefined) return undefined;
  if (proof.mac === undefined) return 'it proved no knowledge of the room passphrase';
  if (!equalBytes(hmac(sha256, roomKey, message), proof.mac)) return 'its binding is not MACed with this room passphrase';
  return undefined;
}

/** Constant-time comparison of two byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** The auth record's body (JSON with hex fields). */
export function encodeProof(proof: AuthProof): Uint8Array {
  const { sig, mac, token } = proof;
  return encoder.encode(JSON.stringify({ sig: bytesToHex(sig), ...(mac === undefined ? {} : { mac: bytesToHex(mac) }), ...(token === undefined ? {} : { token }) }));
}

/** An auth record's body read back, or why it is malformed. Never throws. */
export function decodeProof(body: Uint8Array): AuthProof | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return 'auth record is not JSON';
  }
  const { sig, mac, token } = (parsed ?? {}) as Record<string, unknown>;
  if (!isHexOf(sig, SIGNATURE_BYTES)) return 'auth record has no valid signature';
  if (mac !== undefined && !isHexOf(mac, MAC_BYTES)) return 'auth record has an invalid MAC';
  if (token !== undefined && (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS)) return 'auth record has an invalid token';
  return { sig: hexToBytes(sig), ...(mac === undefined ? {} : { mac: hexToBytes(mac) }), ...(token === undefined ? {} : { token }) };
}

/** A hello's nonce or identity key as bytes, or undefined if it has none (the codec checked the hex). */
export function helloBytes(value: unknown, kind: 'nonce' | 'key'): Uint8Array | undefined {
  return isHexOf(value, kind === 'nonce' ? HELLO_NONCE_BYTES : HELLO_KEY_BYTES) ? hexToBytes(value) : undefined;
}

export { bytesToHex };
