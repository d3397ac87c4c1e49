/**
 * The room key from a room passphrase: PBKDF2-HMAC-SHA-256, 600,000 iterations (OWASP's 2023
 * figure for it), salted with the room's name, 32 bytes. Every stream's binding is MACed with it
 * (binding.ts), so only those who know the passphrase can be a room's participants, and the
 * service, which never sees the passphrase, cannot stand in for one. Someone who recorded the
 * traffic must spend those iterations on every guess. WebCrypto where the page has it (about
 * 10x faster), else pure JS (@noble/hashes): the same key either way.
 */
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const PASSPHRASE_ITERATIONS = 600_000;

const encoder = new TextEncoder();

/** The room key for `passphrase` in `room`. */
export async function deriveRoomKey(passphrase: string, room: string, iterations = PASSPHRASE_ITERATIONS): Promise<Uint8Array> {
  const secret = encoder.encode(passphrase.normalize('NFC'));
  const salt = encoder.encode(`roommesh room passphrase v1\n${room}`);
  const subtle = globalThis.crypto?.subtle;
  if (subtle !== undefined) {
    const key = await subtle.importKey('raw', secret, 'PBKDF2', false, ['deriveBits']);
    return new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256));
  }
  return pbkdf2Async(sha256, secret, salt, { c: iterations, dkLen: 32, asyncTick: 20 });
}
