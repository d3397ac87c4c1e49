/**
 * Who a messaging client trusts, and how each stream proves it: this client's identity key, the
 * room, the key derived from the room passphrase (if any), the fingerprints pinned by name,
 * and each participant's key as first authenticated (a key that changes for the same
 * participant is refused). `forStream` makes the StreamAuth one stream uses: its nonce and key
 * for the hello, its proof once it has the peer's hello, its check of the peer's proof.
 */
import { hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { HELLO_NONCE_BYTES } from '../wire/codec.js';
import { bindingMessage, bytesToHex, checkProof, decodeProof, encodeProof, helloBytes, prove, type ChannelBinding } from './binding.js';
import { RoomError } from '../../protocol/errors.js';
import { fingerprintOf, normalizeFingerprint, type RoomIdentity } from './identity.js';
import { boundThumbprint, checkPeerToken, issuerKeyBytes, keyThumbprint } from './token.js';

export interface TrustOptions {
  identity: RoomIdentity;
  room: string;
  /** From the room passphrase (passphrase.ts): every binding must be MACed with it. */
  roomKey?: Uint8Array;
  /** Fingerprints by participant name: a participant of that name with another key is refused. */
  pinned?: ReadonlyMap<string, string>;
  /** The issuer's Ed25519 public key (raw): every peer must present a join token it signed that binds the peer's key (token.ts). */
  issuerKey?: Uint8Array;
  /** Our join token, sent to peers in our auth record when it binds our key (else never: a bearer token is not for peers). */
  token?: () => string | undefined;
  /** Why a key may not be used any more (its holder was cut off as hostile), if it may not. */
  keyBanned?: (fingerprint: string) => string | undefined;
  /** A peer's stream proved its key: `fingerprint` is that participant's. */
  authenticated?: (peerId: string, fingerprint: string) => void;
}

/** What a stream's hello carries for its binding. */
export interface HelloBinding {
  nonce: string;
  key: string;
}

export class Trust {
  /**
   * @param keys The key each participant first authenticated with (hex), by participant id: the
   *   caller's, so that it outlives this Trust (a messaging client keeps it across disable and enable).
   */
  constructor(
    private readonly options: TrustOptions,
    private readonly keys = new Map<string, string>(),
  ) {}

  get fingerprint(): string {
    return this.options.identity.fingerprint;
  }

  /** A stream to `peerId` (named `name()` by the service) from `localId`. */
  forStream(localId: string, peerId: string, name: () => string | undefined): StreamAuth {
    return new StreamAuth(this.options, localId, peerId, name, this.keys);
  }
}

/** One stream's side of the binding. */
export class StreamAuth {
  private readonly nonce = randomBytes(HELLO_NONCE_BYTES);
  /** The message the peer must have signed, once its hello is in. */
  private expected: { message: Uint8Array; key: Uint8Array } | undefined;

  constructor(
    private readonly options: TrustOptions,
    private readonly localId: string,
    private readonly peerId: string,
    private readonly name: () => string | undefined,
    private readonly keys: Map<string, string>,
  ) {}

  /** The hello's nonce and key. */
  hello(): HelloBinding {
    return { nonce: bytesToHex(this.nonce), key: bytesToHex(this.options.identity.publicKey) };
  }

  /**
   * The peer's hello is in: our auth record's body, or why the peer cannot be authenticated (no
   * nonce or key in its hello; no channel binding to read; a key it may not have).
   */
  answer(peerHello: { nonce?: string; key?: string }, binding: ChannelBinding | string): Uint8Array | string {
    if (typeof binding === 'string') return `this stream's own keys could not be read (${binding})`;
    const nonce = helloBytes(peerHello.nonce, 'nonce');
    const key = helloBytes(peerHello.key, 'key');
    if (nonce === undefined || key === undefined) return 'its hello carries no identity key (a roommesh older than stream bindings)';
    const refused = this.checkKey(key);
    if (refused !== undefined) return refused;
    const { room, identity, roomKey } = this.options;
    const local = { id: this.localId, nonce: this.nonce, key: identity.publicKey, channel: binding.local };
    const remote = { id: this.peerId, nonce, key, channel: binding.remote };
    this.expected = { message: bindingMessage(room, binding.kind, local, remote, this.peerId), key };
    const proof = prove(identity, bindingMessage(room, binding.kind, local, remote, this.localId), roomKey);
    const token = this.options.token?.();
    if (token !== undefined && boundThumbprint(token) === keyThumbprint(identity.publicKey)) proof.token = token;
    return encodeProof(proof);
  }

  /** The peer's auth record: undefined if it proves the stream, else why not. */
  check(body: Uint8Array): string | undefined {
    if (this.expected === undefined) return 'an auth record before its hello';
    const proof = decodeProof(body);
    if (typeof proof === 'string') return proof;
    const { issuerKey, room, roomKey } = this.options;
    const refused =
      checkProof(this.expected.message, this.expected.key, proof, roomKey) ??
      (issuerKey === undefined ? undefined : checkPeerToken(proof.token, issuerKey, { room, name: this.name(), key: this.expected.key }));
    if (refused !== undefined) return refused;
    if (!this.keys.has(this.peerId)) this.keys.set(this.peerId, bytesToHex(this.expected.key));
    this.options.authenticated?.(this.peerId, fingerprintOf(this.expected.key));
    return undefined;
  }

  /** Whether the peer may have this key: the one it had before, the one pinned for its name. */
  private checkKey(key: Uint8Array): string | undefined {
    const hex = bytesToHex(key);
    if (hex === bytesToHex(this.options.identity.publicKey)) return 'it presents our own identity key';
    const fingerprint = fingerprintOf(key);
    const banned = this.options.keyBanned?.(fingerprint);
    if (banned !== undefined) return banned;
    const before = this.keys.get(this.peerId);
    if (before !== undefined && before !== hex) return `its identity key changed (fingerprint was ${fingerprintOf(hexToBytes(before))}, now ${fingerprint})`;
    const name = this.name();
    const pinned = name === undefined ? undefined : this.options.pinned?.get(name);
    if (pinned !== undefined && pinned !== fingerprint) return `its fingerprint ${fingerprint} is not the one pinned for ${JSON.stringify(name)} (${pinned})`;
    return undefined;
  }
}

/** Longest room passphrase taken (a passphrase, not a file). */
export const MAX_PASSPHRASE_CHARS = 1_024;

/** Checks `identity`, `passphrase` and `pinnedFingerprints` as a RoomClient takes them; throws INVALID_ARGUMENT. */
export function checkTrustOptions(options: { identity?: unknown; passphrase?: unknown; pinnedFingerprints?: unknown; issuerKey?: unknown }): void {
  const { identity, passphrase, pinnedFingerprints, issuerKey } = options;
  if (issuerKey !== undefined && issuerKeyBytes(issuerKey) === undefined) {
    throw new RoomError('INVALID_ARGUMENT', 'option `issuerKey` must be an Ed25519 public key as a JWK ({ kty: "OKP", crv: "Ed25519", x }: generateTokenKeys().issuerKey), never the private signingKey');
  }
  if (identity !== undefined && !(typeof identity === 'object' && identity !== null && (identity as { secretKey?: unknown }).secretKey instanceof Uint8Array)) {
    throw new RoomError('INVALID_ARGUMENT', 'option `identity` must be an identity from generateIdentity() (or identityFromSecretKey())');
  }
  if (passphrase !== undefined && (typeof passphrase !== 'string' || passphrase.length === 0 || passphrase.length > MAX_PASSPHRASE_CHARS)) {
    throw new RoomError('INVALID_ARGUMENT', `option \`passphrase\` must be a non-empty string of at most ${MAX_PASSPHRASE_CHARS} characters`);
  }
  if (pinnedFingerprints === undefined) return;
  if (typeof pinnedFingerprints !== 'object' || pinnedFingerprints === null || Array.isArray(pinnedFingerprints)) {
    throw new RoomError('INVALID_ARGUMENT', 'option `pinnedFingerprints` must be an object of participant names to fingerprints');
  }
  for (const [name, fingerprint] of Object.entries(pinnedFingerprints)) {
    if (typeof fingerprint !== 'string' || normalizeFingerprint(fingerprint) === undefined) {
      throw new RoomError('INVALID_ARGUMENT', `option \`pinnedFingerprints\`: ${JSON.stringify(name)} must map to a fingerprint of 30 digits (participant.fingerprint)`);
    }
  }
}

/**
 * Throws INVALID_ARGUMENT unless `token` suits `identity`: a token that binds a key must bind
 * this one (the service would refuse the join), and with an issuer key to check peers by, our
 * own token must bind our key too (peers would refuse us).
 */
export function checkOwnToken(token: string | undefined, identity: RoomIdentity, issuerKey: unknown): void {
  const bound = boundThumbprint(token);
  if (bound !== undefined && bound !== keyThumbprint(identity.publicKey)) {
    throw new RoomError('INVALID_ARGUMENT', 'the join token binds another identity key than this client\'s: pass the `identity` it was minted for (createToken({ publicKey: identity.publicKey }))');
  }
  if (issuerKey !== undefined && bound === undefined) {
    throw new RoomError('INVALID_ARGUMENT', 'with `issuerKey`, peers check your join token too: it must bind your identity key (createToken({ publicKey: identity.publicKey }), and pass that `identity`)');
  }
}

/** Pinned fingerprints by name, normalised (after checkTrustOptions). */
export function pinnedFingerprints(pinned: Record<string, string> | undefined): ReadonlyMap<string, string> {
  return new Map(Object.entries(pinned ?? {}).map(([name, fingerprint]) => [name, normalizeFingerprint(fingerprint) ?? fingerprint]));
}
