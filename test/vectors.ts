/**
 * The golden vectors both implementations are checked against (protocol/vectors/: the wire's
 * packets; the stream bindings, join proofs, passphrase key and relay sealing), read for the TypeScript
 * tests. python/tests read the same files.
 */
import { readFileSync } from 'node:fs';
import type { MessageHeader } from '../client/wire/codec.js';

const read = (name: string): unknown => JSON.parse(readFileSync(new URL(`../protocol/vectors/${name}`, import.meta.url), 'utf8'));

interface BindingEnd {
  id: string;
  secretKey: string;
  publicKey: string;
  nonce: string;
  channel: string;
}

export const TRUST_VECTORS = read('trust.json') as {
  binding: { room: string; kind: 'dtls' | 'relay'; a: BindingEnd & { fingerprint: string }; b: BindingEnd; signer: string; messageBytes: number; messageStart: string; messageSha256: string; signature: string };
  joinProof: { secretKey: string; room: string; token: string; at: number; message: string; signature: string; thumbprint: string };
  passphrase: { passphrase: string; room: string; iterations: number; key: string };
  relay: {
    alice: { id: string; privateKey: string; publicKey: string; keyFrame: string };
    bob: { id: string; privateKey: string; publicKey: string };
    sid: string;
    shared: string;
    aliceToBobKey: string;
    packet: string;
    counter: number;
    frame: string;
  };
};

/** A wire vector's record: the codec's fields, with message bytes (`bytes`) and an auth body (`body`) in hex. */
export type WireVectorRecord = Record<string, unknown> & { kind: string; bytes?: string; body?: string };

const wire = read('wire.json') as {
  vectors: Array<{ name: string; records: WireVectorRecord[]; hex: string }>;
  headers: Array<{ name: string; header: MessageHeader; json: string; alsoFrom?: string[] }>;
  invalidHeaders: Array<{ json: string; reason: string }>;
};
export const WIRE_VECTORS = wire.vectors;
export const WIRE_HEADERS = wire.headers;
export const WIRE_INVALID_HEADERS = wire.invalidHeaders;
