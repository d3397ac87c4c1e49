/**
 * `roommesh`: the client, for Node and browsers. Start with {@link RoomClient}: `start()` joins a
 * room, and its `messaging` ({@link MessagingClient}) sends, receives and lists who is there.
 * Every failure is a {@link RoomError} with a `code` from {@link ErrorCode}.
 * @module roommesh
 */
export { RoomClient } from './room-client.js';
export type { RoomEvents, RoomState } from './room-client.js';
export { MessagingClient } from './messaging-client.js';
export type { MessagingEvents, PeerAuthenticationFailedEvent } from './messaging-context.js';
export { generateIdentity, identityFromSecretKey } from './trust/identity.js';
export type { RoomIdentity } from './trust/identity.js';
export type { IssuerKey } from './trust/token.js';
export type {
  BroadcastMessageOptions,
  BroadcastOutcome,
  Delivery,
  IncomingMessage,
  IncomingOf,
  IncomingAbortReason,
  IncomingAbortedEvent,
  IncomingProgressEvent,
  IncomingRequest,
  IsUntyped,
  Jsonable,
  MessageType,
  MessagesOptions,
  OutgoingBody,
  OutgoingOptions,
  ReceivedMessage,
  Reply,
  ReplyOptions,
  ReplyBody,
  RequestBody,
  RequestHandler,
  HandlerResult,
  TypedRequestHandler,
  UntypedHandlerResult,
  RequestOptions,
  SendMessageOptions,
  SendProgress,
  UntypedMessages,
} from './messages.js';
export { LocalParticipant, RemoteParticipant } from './participant.js';
export type { CandidateType, LinkKind, ParticipantPath, Route } from './participant.js';
export { DEFAULTS } from './options.js';
export type { DatagramCounts } from './wire/datagrams.js';
export type { Logger, RoomClientOptions, RtcImplementation, RtcStackName, Tunables } from './options.js';
export { ERROR_CODES, RoomError } from '../protocol/errors.js';
export type { ErrorCode } from '../protocol/errors.js';
export type { JsonObject, JsonValue } from '../protocol/json.js';
export type { IceServer } from '../protocol/signaling.js';
