/**
 * End-to-end sealing of a relay stream, so that the service carrying it sees only
 * ciphertext. Each stream makes a fresh ECDH P-256 key pair; the two sides swap public
 * keys as the stream's first frames (through the service, like the DTLS fingerprints of a
 * direct link: see the trust model in the README), derive one AES-GCM key per direction
 * with HKDF-SHA-256 (salt: the stream id; info: who sends to whom), and seal every packet
 * with a counter as its nonce. The counter only goes up, so a replayed or reordered frame
 * is refused; a frame that does not open is refused. WebCrypto where there is one, else the
 * same in pure JS (relay-suite.ts): a plain-http page relays too.
 *
 * Frames (the `data` of a relay event):
 *   key:    0x01 | public key (65 bytes, uncompressed P-256 point)
 *   sealed: 0x02 | counter u64 big-endian | AES-GCM ciphertext with its 16-byte tag
 */

import { defaultSuite, type KeyPair, type SealKey, type SealSuite } from './relay-suite.js';

export const KEY_FRAME = 0x01;
export const SEALED_FRAME = 0x02;
const PUBLIC_KEY_BYTES = 65;
const COUNTER_BYTES = 8;
const TAG_BYTES = 16;
/** What sealing adds to a packet. */
export const SEAL_OVERHEAD_BYTES = 1 + COUNTER_BYTES + TAG_BYTES;

export type RelayFrame =
  | { kind: 'key'; publicKey: Uint8Array }
  | { kind: 'sealed'; counter: bigint; sealed: Uint8Array }
  | { kind: 'invalid'; reason: string };

/** Reads a frame's kind and fields; never throws. Pure. */
export function decodeRelayFrame(frame: Uint8Array): RelayFrame {
  if (frame.length === 0) return { kind: 'invalid', reason: 'empty relay frame' };
  if (frame[0] === KEY_FRAME) {
    if (frame.length !== 1 + PUBLIC_KEY_BYTES) return { kind: 'invalid', reason: `key frame of ${frame.length} bytes` };
    return { kind: 'key', publicKey: frame.subarray(1) };
  }
  if (frame[0] === SEALED_FRAME) {
    if (frame.length < 1 + COUNTER_BYTES + TAG_BYTES) return { kind: 'invalid', reason: `sealed frame of ${frame.length} bytes` };
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    return { kind: 'sealed', counter: view.getBigUint64(1), sealed: frame.subarray(1 + COUNTER_BYTES) };
  }
  return { kind: 'invalid', reason: `relay frame of unknown kind ${frame[0]}` };
}

const nonce = (counter: bigint): Uint8Array<ArrayBuffer> => {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(4, counter);
  return iv;
};

const encoder = new TextEncoder();

/** One side of a sealed relay stream. */
export class RelaySeal {
  private sendKey: SealKey | undefined;
  private receiveKey: SealKey | undefined;
  private sent = 0n;
  private received = 0n;
  /** The peer's public key, once agreed: with ours, what the stream's binding names (trust/binding.ts). */
  peerPublicKey: Uint8Array | undefined;

  private constructor(
    private readonly suite: SealSuite,
    private readonly pair: KeyPair,
    readonly keyFrame: Uint8Array,
  ) {}

  /** A fresh key pair; `keyFrame` is what to send the peer first. `suite`: WebCrypto where there is one, else pure JS (relay-suite.ts). */
  static async create(suite: SealSuite = defaultSuite()): Promise<RelaySeal> {
    const pair = await suite.keyPair();
    const frame = new Uint8Array(1 + pair.publicKey.length);
    frame[0] = KEY_FRAME;
    frame.set(pair.publicKey, 1);
    return new RelaySeal(suite, pair, frame);
  }

  get ready(): boolean {
    return this.sendKey !== undefined;
  }

  /**
   * Derives the stream's keys from the peer's public key. `sid` salts them; `from`/`to`
   * name the direction, so the two directions never share a key (nor, so, a nonce).
   * Rejects for a key that is not a P-256 point.
   */
  async agree(peerPublicKey: Uint8Array, sid: string, localId: string, peerId: string): Promise<void> {
    this.peerPublicKey = peerPublicKey.slice();
    const shared = await this.pair.agree(this.peerPublicKey);
    const key = (from: string, to: string) => this.suite.deriveKey(shared, encoder.encode(sid), encoder.encode(`roommesh relay v1 ${from} > ${to}`));
    [this.sendKey, this.receiveKey] = await Promise.all([key(localId, peerId), key(peerId, localId)]);
  }

  /**
   * A sealed frame carrying `packet`. The counter is taken when this is called, so calls may
   * overlap (WebCrypto runs them on a thread pool, so overlapping calls multiply the
   * throughput), but their frames must be sent in the order of the calls.
   */
  async seal(packet: Uint8Array): Promise<Uint8Array> {
    if (this.sendKey === undefined) throw new Error('relay stream keys not agreed yet');
    const counter = ++this.sent;
    const sealed = await this.sendKey.seal(nonce(counter), packet);
    const frame = new Uint8Array(1 + COUNTER_BYTES + sealed.length);
    frame[0] = SEALED_FRAME;
    new DataView(frame.buffer).setBigUint64(1, counter);
    frame.set(sealed, 1 + COUNTER_BYTES);
    return frame;
  }

  /** The packet inside a sealed frame, or a reason it was refused (replayed, tampered with, not ours). One at a time. */
  async open(counter: bigint, sealed: Uint8Array): Promise<Uint8Array | string> {
    const packet = await this.decrypt(counter, sealed);
    return typeof packet === 'string' ? packet : (this.accept(counter)?.refused ?? packet);
  }

  /** Authenticates and decrypts, without taking the counter: calls may overlap; `accept` each in order after. */
  async decrypt(counter: bigint, sealed: Uint8Array): Promise<Uint8Array | string> {
    if (this.receiveKey === undefined) return 'sealed frame before the keys were agreed';
    if (counter <= this.received) return `sealed frame ${counter} replayed or out of order (last ${this.received})`;
    try {
      return await this.receiveKey.open(nonce(counter), sealed);
    } catch {
      return 'sealed frame did not authenticate';
    }
  }

  /**
   * Takes the counter of an authenticated frame, in arrival order: undefined if it is the next
   * one, else why it is refused. The service relays a stream's frames in order, so a counter
   * that skips ahead means frames were lost between (a relay that dropped them, a Redis publish
   * that failed): `gap`, which ends the stream, since what it carries can no longer be trusted
   * to be whole (the session then resends over a new one).
   */
  accept(counter: bigint): { refused: string; gap: boolean } | undefined {
    if (counter <= this.received) return { refused: `sealed frame ${counter} replayed or out of order (last ${this.received})`, gap: false };
    const expected = this.received + 1n;
    this.received = counter;
    if (counter !== expected) return { refused: `sealed frames ${expected} to ${counter - 1n} never arrived`, gap: true };
    return undefined;
  }
}
