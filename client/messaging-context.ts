/**
 * What a messaging client is given and what it gives back, apart from its public methods: the
 * events it emits (typed by the room's message map), the context its RoomClient lends it, and
 * the control the RoomClient (and tests) drive it by, kept in a WeakMap off the public object.
 */
import type { RoomError } from '../protocol/errors.js';
import type { ServiceLimits } from '../protocol/limits.js';
import type { IceServer, ParticipantInfo } from '../protocol/signaling.js';
import type { IncomingAbortedEvent, IncomingMessage, IncomingProgressEvent, UntypedMessages } from './messages.js';
import type { Logger, RtcImplementation, RtcStackName, Tunables } from './options.js';
import type { RemoteParticipant } from './participant.js';
import type { SignalClient } from './signal-client.js';
import type { RoomIdentity } from './trust/identity.js';

export interface MessagingEvents<M extends object = UntypedMessages> {
  message: (message: IncomingMessage<M>) => void;
  participant_added: (participant: RemoteParticipant) => void;
  participant_removed: (participant: RemoteParticipant) => void;
  participant_attributes_updated: (participant: RemoteParticipant) => void;
  /** A listed participant's messages now go another way: `participant.link` is `'direct'` or `'relayed'`. */
  participant_link_changed: (participant: RemoteParticipant) => void;
  /** More of a large incoming message (one spanning packets) arrived. */
  incoming_progress: (progress: IncomingProgressEvent) => void;
  /**
   * A large incoming message will never complete (`reason`: its sender cancelled it, left or was
   * given up, or messaging stopped here): what had arrived is discarded, and no `message` follows.
   * Every message that had `incoming_progress` ends with this or with its `message`.
   */
  incoming_aborted: (event: IncomingAbortedEvent) => void;
  /** A `sendMessageNowait` failed (with no listener here, the logger is told instead). */
  error: (error: RoomError, context: { call: 'sendMessageNowait'; type: string; to: string }) => void;
  messaging_enabled: () => void;
  messaging_disabled: () => void;
  /**
   * A participant did not prove its identity (code PEER_AUTHENTICATION_FAILED): a stream to it
   * was not bound to its key (someone in between: the service, or whoever controls the network),
   * its key is not the one pinned for its name or had before, or it does not know the room
   * passphrase. Nothing is delivered to or from it; it is not linked again for `hostileBanMs`,
   * and sends to it reject with PEER_AUTHENTICATION_FAILED.
   */
  peer_authentication_failed: (event: PeerAuthenticationFailedEvent) => void;
}

/** What `peer_authentication_failed` says. */
export interface PeerAuthenticationFailedEvent {
  participantId: string;
  /** Its name as the service gave it. */
  name: string | undefined;
  /** Why, for logs and people. */
  reason: string;
}

/** What the RoomClient lends its messaging client. */
export interface MessagingContext {
  /** The signaling client, or an error saying why there is none to use. */
  signaling(): SignalClient | RoomError;
  iceServers(): IceServer[];
  /** The limits the service announced at join (undefined before, or from a service too old to say). */
  serviceLimits(): ServiceLimits | undefined;
  rtc: RtcImplementation | RtcStackName | undefined;
  rtcConfig: Record<string, unknown>;
  /** Whether the service may carry a pair's messages when no direct link opens. */
  relay: boolean;
  tunables: Tunables;
  logger: Logger;
  /** The local participant's id (set once the room has started). */
  localId(): string;
  /** The room's name, as this participant asked for it (every stream's binding names it). */
  room: string;
  identity: RoomIdentity;
  /** The room passphrase, when there is one: streams must prove it (trust/passphrase.ts). */
  passphrase?: string;
  /** Fingerprints pinned by participant name. */
  pinned: ReadonlyMap<string, string>;
  /** The token issuer's public key (raw Ed25519), when peers must show tokens it signed. */
  issuerKey?: Uint8Array;
  /** This client's join token now (sent in stream bindings when it binds our key). */
  token: () => string | undefined;
}


/** How the RoomClient (and the tests) drive a messaging client: kept off its public surface. */
export interface MessagingControl {
  /** The room closes. */
  close(error: RoomError): Promise<void>;
  /** Whether messaging should be enabled again when the room resumes. */
  readonly wantsMessaging: boolean;
  /** Our connection to the service dropped. */
  signalingLost(): void;
  /** The room rejoined after a reconnection; `participants` are those the service lists now. */
  resumed(participants: ParticipantInfo[]): void;
  /** Test hook: breaks the direct link to `id` as a network failure would; false if there is none. */
  breakLink(id: string): boolean;
}

const controls = new WeakMap<object, MessagingControl>();

/** Gives a messaging client its control (once, as it is made). */
export function registerControl(client: object, control: MessagingControl): void {
  controls.set(client, control);
}

/** The control of a messaging client. Not exported by the package: user code cannot reach it. */
export function messagingControl(client: object): MessagingControl {
  const control = controls.get(client);
  if (control === undefined) throw new Error('not a messaging client');
  return control;
}
