/**
 * The cryptography a sealed relay stream runs on, in two implementations that agree bit for
 * bit: WebCrypto where the page or process has it (Node, and browsers in a secure context:
 * https or localhost), and audited pure JS (@noble/curves P-256, @noble/hashes HKDF-SHA-256,
 * @noble/ciphers AES-256-GCM) where it does not: a plain-http page served from a LAN address,
 * where `crypto.subtle` is missing, relays the same way. Both make an ECDH P-256 key pair
 * (the public key as a 65-byte uncompressed point), agree on its 32-byte x coordinate, and
 * derive one AES-256-GCM key per direction with HKDF-SHA-256.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ecdh, weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** One direction's AES-GCM key: seal, or open (which rejects a frame that does not authenticate). */
export interface SealKey {
  seal(iv: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  open(iv: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
}

/** A stream's own key pair: its public key, and the secret shared with a peer's (rejects for a key that is not a P-256 point). */
export interface KeyPair {
  publicKey: Uint8Array;
  agree(peerPublicKey: Uint8Array): Promise<Uint8Array>;
}

export interface SealSuite {
  readonly name: 'webcrypto' | 'noble';
  keyPair(): Promise<KeyPair>;
  /** The AES-256-GCM key HKDF-SHA-256 derives from `shared` with `salt` and `info`. */
  deriveKey(shared: Uint8Array, salt: Uint8Array, info: Uint8Array): Promise<SealKey>;
}

/** WebCrypto's types want ArrayBuffer-backed views; bytes from a socket may sit in a shared pool. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => (bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes));

function webCryptoSuite(subtle: SubtleCrypto): SealSuite {
  return {
    name: 'webcrypto',
    async keyPair() {
      const pair = (await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])) as CryptoKeyPair;
      const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
      return {
        publicKey,
        agree: async (peerPublicKey) => {
          const peerKey = await subtle.importKey('raw', own(peerPublicKey), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
          return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: peerKey }, pair.privateKey, 256));
        },
      };
    },
    async deriveKey(shared, salt, info) {
      const base = await subtle.importKey('raw', own(shared), 'HKDF', false, ['deriveKey']);
      const key = await subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: own(salt), info: own(info) }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      return {
        seal: async (iv, data) => new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: own(iv) }, key, own(data))),
        open: async (iv, data) => new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: own(iv) }, key, own(data))),
      };
    },
  };
}

/**
 * NIST P-256 (SEC 2, FIPS 186-5) for key agreement only: @noble/curves' ECDH over the curve's
 * published parameters, without the signing half that its `p256` export carries (15 KiB less in
 * the browser bundle). The unit tests agree with WebCrypto's P-256 both ways.
 */
let p256: ReturnType<typeof ecdh> | undefined;
export const p256Ecdh = (): ReturnType<typeof ecdh> =>
  (p256 ??= ecdh(
    weierstrass({
      p: BigInt('0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff'),
      n: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
      h: 1n,
      a: BigInt('0xffffffff00000001000000000000000000000000fffffffffffffffffffffffc'),
      b: BigInt('0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b'),
      Gx: BigInt('0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'),
      Gy: BigInt('0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'),
    }),
  ));

export const nobleSuite: SealSuite = {
  name: 'noble',
  keyPair() {
    const dh = p256Ecdh();
    const secretKey = dh.utils.randomSecretKey();
    const publicKey = dh.getPublicKey(secretKey, false);
    return Promise.resolve({
      publicKey,
      // The shared point, compressed (a prefix byte, then x): its x coordinate, as WebCrypto's deriveBits gives it.
      agree: async (peerPublicKey) => dh.getSharedSecret(secretKey, peerPublicKey, true).slice(1),
    });
  },
  deriveKey(shared, salt, info) {
    const key = hkdf(sha256, shared, salt, info, 32);
    return Promise.resolve({
      seal: async (iv, data) => gcm(key, iv).encrypt(data),
      open: async (iv, data) => gcm(key, iv).decrypt(data),
    });
  },
};

/** WebCrypto where there is one, else the pure-JS suite. */
export function defaultSuite(): SealSuite {
  const subtle = globalThis.crypto?.subtle;
  return subtle === undefined ? nobleSuite : webCryptoSuite(subtle);
}

/** The WebCrypto suite, for tests that compare the two (throws where there is none). */
export function webCrypto(): SealSuite {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) throw new Error('no WebCrypto here');
  return webCryptoSuite(subtle);
}
