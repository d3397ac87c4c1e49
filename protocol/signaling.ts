/**
 * The signaling contract: what a client and the service say to each other over Socket.IO.
 * Plain types and constants only, so the browser bundle carries no validator; the zod
 * schemas that the service checks every payload with live in ./schemas.ts and are
 * typechecked against these types. Documented in docs/protocol.md.
 */
import type { ErrorPayload } from './errors.js';
import type { JsonValue } from './json.js';
import type { JoinProof } from './key-binding.js';
import type { ServiceLimits } from './limits.js';

export const PROTOCOL_VERSION = 1;

export interface JoinRequest {
  v: typeof PROTOCOL_VERSION;
  room: string;
  /** Required without a token; with one, the token names the participant and this is ignored. */
  name?: string | undefined;
  role?: string | undefined;
  attributes?: Record<string, JsonValue> | undefined;
  token?: string | undefined;
  /** With a token that binds an identity key (`cnf.jkt`): proof of holding that key (protocol/key-binding.ts). */
  proof?: JoinProof | undefined;
}

/**
 * Rejoins after the connection to the service dropped (or the service restarted): the same
 * participant, proven by the credential the join reply carried. The service keeps no state
 * for it: a participant's id is derived from its credential.
 */
export interface ResumeRequest extends Omit<JoinRequest, 'v'> {
  v: typeof PROTOCOL_VERSION;
  credential: string;
  /** The join reply's ticket (services with a secret): proves this service admitted this participant with this token. */
  ticket?: string | undefined;
  /** Whether messaging was enabled: if so the service enables it again and lists the peers. */
  messaging: boolean;
}

/** A fresh join token for the participant this connection is, for a session that outlives its first. */
export interface TokenUpdateRequest {
  token: string;
  /** As at join: when the token binds an identity key. */
  proof?: JoinProof | undefined;
}

export interface SetAttributesRequest {
  attributes: Record<string, JsonValue>;
}

export type SignalData =
  | { type: 'offer'; sdp: string }
  | { type: 'answer'; sdp: string }
  | {
      type: 'candidate';
      candidate: {
        candidate: string;
        sdpMLineIndex?: number | null | undefined;
        sdpMid?: string | null | undefined;
        usernameFragment?: string | null | undefined;
      };
    }
  | { type: 'renegotiate'; renegotiate: true }
  /** Not simple-peer's: this participant refused the sender's stream binding (PEER_AUTHENTICATION_FAILED), and why, so the peer need not wait to find out. */
  | { type: 'refuse'; reason: string };

/** The longest reason a `refuse` signal carries. */
export const MAX_REFUSE_REASON_CHARS = 512;

export interface SignalRequest {
  to: string;
  /** Link session id chosen by the initiator; signals of an older session are dropped. */
  sid: string;
  data: SignalData;
}

/** A STUN or TURN server, as RTCPeerConnection takes it. */
export interface IceServer {
  /** `stun:host:port`, `turn:host:port?transport=udp|tcp`, `turns:host:port`, or several. */
  urls: string | string[];
  /** TURN only: the user name. */
  username?: string;
  /** TURN only: the password. */
  credential?: string;
}

export interface ParticipantInfo {
  id: string;
  role: string;
  attributes: Record<string, JsonValue>;
}

export type Reply<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorPayload };

export interface JoinReply {
  participant: ParticipantInfo;
  iceServers: IceServer[];
  /** Proves this participant's identity to `resume`; a secret, never shown to others. */
  credential: string;
  /** The limits this service enforces (relayed packets are sized to fit its payload limit). */
  limits: ServiceLimits;
  /** With a secret: what `resume` must present, so that only a participant this service admitted can resume. */
  ticket?: string;
}

export interface ResumeReply {
  participant: ParticipantInfo;
  iceServers: IceServer[];
  /** When messaging was resumed: every other participant of the room with messaging enabled. */
  participants: ParticipantInfo[];
  limits: ServiceLimits;
}

/** A data-channel packet for a pair with no direct link, carried by the service. */
export interface RelayRequest {
  to: string;
  /** The relay stream, chosen by the pair's initiator. */
  sid: string;
  data: Uint8Array;
}

export interface RelayEnvelope {
  from: string;
  sid: string;
  data: Uint8Array;
}

/** Asks whether a participant is still connected to the service (on any process), in the asker's room with messaging enabled. */
export interface PresenceRequest {
  id: string;
}

export interface PresenceReply {
  /** null: the service cannot say (one of its processes did not answer in time). */
  present: boolean | null;
}

export interface EnableReply {
  /** Every other participant of the room with messaging enabled, at the moment of enabling. */
  participants: ParticipantInfo[];
}

export interface SignalEnvelope {
  from: string;
  sid: string;
  data: SignalData;
}

/**
 * Why the service removed a participant: `disabled` (it turned messaging off), `left` (it closed),
 * `disconnected` (its connection to the service dropped; it may still be reachable, and may resume),
 * `unresponsive` (its connection went silent, the service's ping timed out: it may be hung rather than gone).
 */
export type RemovalReason = 'disabled' | 'left' | 'disconnected' | 'unresponsive';

/** What a client emits (the last argument is the acknowledgement callback). */
export interface ClientToServerEvents {
  join: (request: JoinRequest, ack: (reply: Reply<JoinReply>) => void) => void;
  resume: (request: ResumeRequest, ack: (reply: Reply<ResumeReply>) => void) => void;
  leave: (ack: (reply: Reply) => void) => void;
  'messaging:enable': (ack: (reply: Reply<EnableReply>) => void) => void;
  'messaging:disable': (ack: (reply: Reply) => void) => void;
  'attributes:set': (request: SetAttributesRequest, ack: (reply: Reply<{ participant: ParticipantInfo }>) => void) => void;
  /** Replies with the resume ticket for the new token (services with a secret or issuer key). */
  'token:update': (request: TokenUpdateRequest, ack: (reply: Reply<{ ticket?: string }>) => void) => void;
  'presence:check': (request: PresenceRequest, ack: (reply: Reply<PresenceReply>) => void) => void;
  signal: (request: SignalRequest) => void;
  relay: (request: RelayRequest, ack: (reply: Reply) => void) => void;
}

/** Each acknowledged request, read off ClientToServerEvents: what it takes before the acknowledgement, and what a success carries. */
type Acked = {
  [E in keyof ClientToServerEvents]: ClientToServerEvents[E] extends (...args: [...infer P, (reply: Reply<infer R>) => void]) => void ? { payload: P; reply: R } : never;
};
export type Requests = { [E in keyof Acked as Acked[E] extends never ? never : E]: Acked[E] };

/**
 * A refusal that is an ordinary race, not anyone's mistake: a signal (a trailing ICE candidate,
 * say) to a participant that left a moment before. Both sides log it at debug, not as a warning.
 */
export function isDepartureRace(event: string, code: string): boolean {
  return event === 'signal' && code === 'PARTICIPANT_NOT_FOUND';
}

/** What the service pushes to a client. */
export interface ServerToClientEvents {
  'participant:enabled': (participant: ParticipantInfo) => void;
  'participant:removed': (removal: { id: string; reason: RemovalReason }) => void;
  'participant:updated': (participant: ParticipantInfo) => void;
  signal: (envelope: SignalEnvelope) => void;
  relay: (envelope: RelayEnvelope) => void;
  /**
   * This service process is shutting down: reconnect (to another process, or the same address
   * behind a load balancer) within `drainMs`; the room resumes there. Nobody is announced as gone.
   */
  'service:closing': (notice: { drainMs: number }) => void;
  /** Fresh ICE servers (time-limited TURN credentials about to expire): use them for links made from now on. */
  'ice:servers': (update: { iceServers: IceServer[] }) => void;
  /** A newer join with this connection's token took its place; the service disconnects this connection next. */
  'session:replaced': (notice: { message: string }) => void;
  /** A payload without an acknowledgement was refused (e.g. a bad signal). */
  failure: (failure: ErrorPayload & { event: string }) => void;
}
