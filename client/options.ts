/**
 * Client options: the public `RoomClientOptions` and the one defaults object that fills
 * every tunable. Durations end in `Ms`, sizes in `Bytes`.
 */
import type { JsonValue } from '../protocol/json.js';
import type { IceServer } from '../protocol/signaling.js';
import type { RoomIdentity } from './trust/identity.js';
import type { IssuerKey } from './trust/token.js';

/** A WebRTC implementation simple-peer can be given: @roamhq/wrtc, node-datachannel's polyfill, werift, a browser's globals. */
export interface RtcImplementation {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
}

/** A Node WebRTC stack chosen by name (loaded only when chosen). */
export type RtcStackName = '@roamhq/wrtc' | 'node-datachannel';
export const RTC_STACK_NAMES: readonly RtcStackName[] = ['@roamhq/wrtc', 'node-datachannel'];

/** pino's calling convention, so a pino logger can be passed as is. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface Tunables {
  /**
   * How long a request to the signaling service (join, enable, …) may take.
   * @default 10_000
   */
  requestTimeoutMs: number;
  /**
   * How long a participant may be without any path (direct or relayed) before it is given up as unreachable.
   * @default 15_000
   */
  connectTimeoutMs: number;
  /**
   * How long a direct link may take to open before the pair falls back to the relay.
   * @default 5_000
   */
  directTimeoutMs: number;
  /**
   * How long a direct attempt goes alone before the relay is opened beside it (make-before-break):
   * messages then flow through the service at once, and the pair moves to the direct link when it
   * opens (within `directTimeoutMs`, or a later retry).
   * @default 1_000
   */
  relayAfterMs: number;
  /**
   * When the service says a participant's connection dropped, how long its link has to answer a probe.
   * @default 1_000
   */
  probeTimeoutMs: number;
  /**
   * How long after its last byte was sent a message may wait for its receipt.
   * @default 30_000
   */
  receiptTimeoutMs: number;
  /**
   * A link with nothing else to send pings its peer this often…
   * @default 1_000
   */
  heartbeatIntervalMs: number;
  /**
   * …and a link that has heard nothing for this long is dead (the peer vanished without a goodbye).
   * @default 3_000
   */
  livenessTimeoutMs: number;
  /**
   * Largest attachment sent or accepted.
   * @default 64 MiB
   */
  maxAttachmentBytes: number;
  /**
   * Largest JSON header (type + message) sent or accepted.
   * @default 1 MiB
   */
  maxJsonBytes: number;
  /**
   * Messages a peer may have begun but not finished at once.
   * @default 8
   */
  maxIncompleteMessages: number;
  /**
   * Bytes held for a peer's unfinished messages.
   * @default 96 MiB
   */
  maxPendingBytes: number;
  /**
   * Stop sending above this many bytes buffered in a data channel…
   * @default 2 MiB
   */
  highWaterMarkBytes: number;
  /**
   * …and resume below this many.
   * @default 512 KiB
   */
  lowWaterMarkBytes: number;
  /**
   * How often the buffer is polled while above the high mark (@roamhq/wrtc has no event for it).
   * @default 2
   */
  pollIntervalMs: number;
  /**
   * Largest data-channel message sent; the peer's advertised maximum lowers it further.
   * @default 256 KiB
   */
  maxPacketBytes: number;
  /**
   * Messages larger than this (JSON + attachment) take the bulk lane, so they do not hold up smaller ones.
   * @default 1 MiB
   */
  bulkThresholdBytes: number;
  /**
   * Bytes of messages awaiting receipts per recipient before sends reject with QUEUE_FULL.
   * @default 256 MiB
   */
  maxQueuedBytes: number;
  /**
   * Delay before the first attempt to reconnect to the service; it doubles up to `reconnectMaxDelayMs`.
   * @default 250
   */
  reconnectDelayMs: number;
  /** @default 5_000 */
  reconnectMaxDelayMs: number;
  /**
   * How long `enable()` waits for a participant that has not answered at all (no signal, no
   * relayed frame) before it resolves without it. Participants that answer are waited for until
   * their link opens or they are given up (`connectTimeoutMs`); a silent one joins the
   * presence list later, if its link ever opens.
   * @default 1_500
   */
  enableWaitMs: number;
  /**
   * A peer cut off as hostile (it renegotiated or broke the protocol far beyond what repairs explain) is not linked again for this long.
   * @default 300_000 (5 minutes)
   */
  hostileBanMs: number;
}

export const DEFAULTS: Tunables = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 15_000,
  directTimeoutMs: 5_000,
  relayAfterMs: 1_000,
  probeTimeoutMs: 1_000,
  receiptTimeoutMs: 30_000,
  heartbeatIntervalMs: 1_000,
  livenessTimeoutMs: 3_000,
  maxAttachmentBytes: 64 * 1024 * 1024,
  maxJsonBytes: 1024 * 1024,
  maxIncompleteMessages: 8,
  maxPendingBytes: 96 * 1024 * 1024,
  highWaterMarkBytes: 2 * 1024 * 1024,
  lowWaterMarkBytes: 512 * 1024,
  pollIntervalMs: 2,
  maxPacketBytes: 256 * 1024,
  bulkThresholdBytes: 1024 * 1024,
  maxQueuedBytes: 256 * 1024 * 1024,
  reconnectDelayMs: 250,
  reconnectMaxDelayMs: 5_000,
  hostileBanMs: 5 * 60_000,
  enableWaitMs: 1_500,
};

export interface RoomClientOptions extends Partial<Tunables> {
  /**
   * The signaling service, e.g. `http://127.0.0.1:8787`; or several processes of one service
   * (sharing rooms through Redis): the first is tried first, and each reconnection tries the next.
   */
  url: string | readonly string[];
  /** The room to join. */
  room: string;
  /**
   * Becomes the participant's `name` attribute. Required without a token; with one, the
   * token names the participant, and a `name` that disagrees is ignored (with a warning).
   */
  name?: string;
  /** More attributes (JSON values). */
  attributes?: Record<string, JsonValue>;
  /** The participant's role (the service may override it from a token). */
  role?: string;
  /** A join token, required when the service runs with a secret. */
  token?: string;
  /**
   * The WebRTC stack. Browsers use their own; Node defaults to `'@roamhq/wrtc'`, and
   * `'node-datachannel'` (an optional dependency) is cheaper per connection and per message.
   * Or pass an implementation (`{ RTCPeerConnection, RTCSessionDescription, RTCIceCandidate }`).
   */
  rtc?: RtcImplementation | RtcStackName;
  /** Overrides the ICE servers the service hands out at join. */
  iceServers?: IceServer[];
  /** More RTCPeerConnection configuration, e.g. `iceTransportPolicy`. */
  rtcConfig?: Record<string, unknown>;
  /**
   * Let the service carry a pair's messages when no direct link can be opened (default
   * true). With false, such a participant is unreachable and sends to it fail with UNREACHABLE.
   */
  relay?: boolean;
  /**
   * Reach the service over HTTP long-polling first, and upgrade to WebSocket where the network
   * allows (default false: WebSocket only). For networks whose proxies refuse WebSocket
   * upgrades. Behind a load balancer with several service processes, polling needs sticky
   * sessions (each client kept on one process).
   */
  longPolling?: boolean;
  /** Where the client logs dropped frames and failed links; defaults to warnings on the console. */
  logger?: Logger;
  /**
   * This participant's identity key (from `generateIdentity()`, or `identityFromSecretKey()` of
   * a stored one): every stream it opens is bound to it, and peers see its `fingerprint`.
   * Default: a fresh one for this RoomClient.
   */
  identity?: RoomIdentity;
  /**
   * The room passphrase, shared out of band by those who may take part. Every stream must then
   * prove knowledge of it (a key derived with PBKDF2, 600,000 iterations, never sent anywhere):
   * a participant without it, or a service standing in between, is refused with
   * PEER_AUTHENTICATION_FAILED.
   */
  passphrase?: string;
  /**
   * Fingerprints (`participant.fingerprint`, compared out of band) by participant name: a
   * participant of that name whose key has another fingerprint is refused with
   * PEER_AUTHENTICATION_FAILED.
   */
  pinnedFingerprints?: Record<string, string>;
  /**
   * The token issuer's Ed25519 public key, as a JWK (`generateTokenKeys().issuerKey`). Every
   * peer must then show, in its stream's binding, a join token signed by this key, for this
   * room, naming the participant the service lists, and binding the identity key that signed
   * the stream (`createToken({ publicKey })`); any other is refused with
   * PEER_AUTHENTICATION_FAILED. The service can then neither invent a participant nor put its
   * own key behind someone's name. This client's own `token` must bind its `identity`.
   */
  issuerKey?: IssuerKey;
}

/** Every key RoomClientOptions has: any other is refused (a misspelt option would otherwise be ignored). */
export const ROOM_OPTION_KEYS: readonly string[] = [
  'url',
  'room',
  'name',
  'attributes',
  'role',
  'token',
  'rtc',
  'iceServers',
  'rtcConfig',
  'relay',
  'longPolling',
  'logger',
  'identity',
  'passphrase',
  'pinnedFingerprints',
  'issuerKey',
  ...Object.keys(DEFAULTS),
];

export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (fields, message) => console.warn(`[roommesh] ${message}`, fields),
  error: (fields, message) => console.error(`[roommesh] ${message}`, fields),
};
