/**
 * The shapes of what `room.messaging` sends and receives: options, received messages,
 * progress, requests and replies, and the types that let a room declare its message map
 * (`RoomClient<{ chat: Chat }>`) or send interfaces without casts. Types only, plus the
 * option names each call takes (unknown ones are refused at run time).
 */
import type { RoomError } from '../protocol/errors.js';
import type { JsonObject, JsonValue } from '../protocol/json.js';
import type { RemoteParticipant } from './participant.js';
import type { Delivery } from './wire/codec.js';

export type { Delivery } from './wire/codec.js';

/**
 * `T` as JSON carries it: every property JSON cannot carry (functions, bigint, symbols,
 * class instances such as Date, whose methods are functions) becomes `never`, so passing
 * such a value is a compile error at that property. Interfaces pass as they are, unlike
 * `JsonObject`, whose index signature an interface does not have.
 */
export type Jsonable<T> = T extends JsonValue | undefined
  ? T
  : T extends bigint | symbol | ((...args: never[]) => unknown)
    ? never
    : T extends object
      ? { [K in keyof T]: Jsonable<T[K]> }
      : never;

/** The message map of a room that declares none: any type, any JSON object. */
export type UntypedMessages = { [type: string]: JsonObject };

/** A map with an index signature, or none at all (`object`), declares no types. */
export type IsUntyped<M> = string extends keyof M ? true : [keyof M] extends [never] ? true : false;

/** The message types of map `M` (any string when it is untyped). */
export type MessageType<M> = IsUntyped<M> extends true ? string : keyof M & string;

/** What `message` must be for type `K`: the map's body, or (untyped) any JSON-safe object that is not an array. */
export type OutgoingBody<M, K extends string, T> = IsUntyped<M> extends true ? (T extends readonly unknown[] ? never : T & Jsonable<T>) : K extends keyof M ? M[K] : never;

/** A message as it arrived. Its `type` narrows `message` when the room declares a message map. */
export interface ReceivedMessage<K extends string = string, T = JsonObject> {
  fromParticipantId: string;
  /** The sender, as in the presence list. */
  from: RemoteParticipant;
  type: K;
  /**
   * The body. With a message map this is its declared type, as the sender's code declared it:
   * a peer is not checked against your types, so validate what you cannot trust.
   */
  message: T;
  attachment: Uint8Array | undefined;
  /** True when the sender broadcast it to the whole room. */
  broadcast: boolean;
  /** Names this message among its sender's: the `messageId` its `incoming_progress` events carried. */
  messageId: string;
  /** How the sender sent it: `reliable`, or a datagram (`unordered`, `lossy`, `latest`). */
  delivery: Delivery;
}

/** Every message of map `M` that can arrive, as a union narrowed by `type`. */
export type IncomingMessage<M> = IsUntyped<M> extends true ? ReceivedMessage : { [K in keyof M & string]: ReceivedMessage<K, M[K]> }[keyof M & string];

/** What `messages({ type })` yields: the messages of that type (any, untyped). */
export type IncomingOf<M, K extends string> = IsUntyped<M> extends true ? ReceivedMessage : K extends keyof M ? ReceivedMessage<K, M[K]> : never;

/** How much of a send has been written to the path so far (JSON and attachment bytes; a broadcast sums its recipients). */
export interface SendProgress {
  sentBytes: number;
  totalBytes: number;
}

/** What a send and a broadcast both take. */
export interface OutgoingOptions<K extends string, T> {
  type: K;
  message: T;
  attachment?: Uint8Array | ArrayBuffer | ArrayBufferView | undefined;
  /** Called as packets take more of the message, ending at `totalBytes`; never backwards. */
  onProgress?: ((progress: SendProgress) => void) | undefined;
  /** Aborting stops a message not yet fully written: the recipient gets none of it, and the send rejects with ABORTED. */
  signal?: AbortSignal | undefined;
  /**
   * How it travels (README, "Cursors and game state"): `reliable` (the default, or the type's
   * `setDelivery`), once and in order, resolving on the recipient's receipt; `unordered`, reliable
   * but delivered as it arrives; `lossy`, sent at most once, resolving when written; `latest`, as
   * lossy, and only the newest unsent value per recipient and type is kept. The last three carry
   * at most 16,000 bytes of JSON and attachment (MESSAGE_TOO_LARGE).
   */
  delivery?: Delivery | undefined;
}

export interface SendMessageOptions<K extends string = string, T = JsonObject> extends OutgoingOptions<K, T> {
  /** The recipient, or its id. */
  to: RemoteParticipant | string;
  /** Resolve instead of rejecting when the recipient is not (or no longer) present. */
  ignoreOffline?: boolean | undefined;
}

export type BroadcastMessageOptions<K extends string = string, T = JsonObject> = OutgoingOptions<K, T>;

export type BroadcastOutcome =
  | { participantId: string; participant: RemoteParticipant; ok: true }
  | { participantId: string; participant: RemoteParticipant; ok: false; error: RoomError };

/** Progress of a large incoming message (one that spans packets), from the moment its JSON header is in. */
export interface IncomingProgressEvent {
  fromParticipantId: string;
  from: RemoteParticipant;
  type: string;
  /** Names this message among the sender's incoming messages (for matching progress to its end). */
  messageId: string;
  receivedBytes: number;
  totalBytes: number;
}

/**
 * Why a large incoming message will never complete: `cancelled`, its sender aborted the send;
 * `sender_left`, its sender left, disabled messaging or was given up before the last byte;
 * `disabled`, messaging stopped here (disable() or close()).
 */
export type IncomingAbortReason = 'cancelled' | 'sender_left' | 'disabled';

/** A large incoming message that will never complete: what arrived is discarded, and no `message` follows. */
export interface IncomingAbortedEvent extends IncomingProgressEvent {
  reason: IncomingAbortReason;
}

export interface RequestOptions<K extends string = string, T = JsonObject> {
  to: RemoteParticipant | string;
  type: K;
  message: T;
  attachment?: Uint8Array | ArrayBuffer | ArrayBufferView | undefined;
  /** How long to wait for the reply, from the call. @default 30_000 */
  timeoutMs?: number | undefined;
  /** Aborting stops the request: ABORTED, and a reply that still comes is dropped. */
  signal?: AbortSignal | undefined;
}

/** A reply: what the handler returned, and who returned it. With a replies map, `message` is the map's body for the request's type. */
export interface Reply<T = JsonObject> {
  message: T;
  attachment: Uint8Array | undefined;
  from: RemoteParticipant;
}

/** What a request handler is given. With a message map, `message` is the map's body for `type` (as the sender's code declared it). */
export interface IncomingRequest<K extends string = string, T = JsonObject> {
  type: K;
  message: T;
  attachment: Uint8Array | undefined;
  from: RemoteParticipant;
}

/** What a request handler returns (or resolves with): the reply's body and attachment. Nothing: an empty reply. */
export interface ReplyOptions<T = JsonObject> {
  message: T;
  attachment?: Uint8Array | ArrayBuffer | ArrayBufferView | undefined;
}

/** What a handler may return without a replies map: a reply, or nothing (an empty reply), at once or as a promise. */
export type UntypedHandlerResult = ReplyOptions<object> | undefined | void | Promise<ReplyOptions<object> | undefined | void>;

/** A request handler of a room that declares no maps: any request in, any JSON-safe reply (or none) out. */
export type RequestHandler = (request: IncomingRequest) => UntypedHandlerResult;

/** What a request of type `K` carries: the message map's body, or (untyped) any JSON object. */
export type RequestBody<M, K extends string> = IsUntyped<M> extends true ? JsonObject : K extends keyof M ? M[K] : never;

/** What a reply to a request of type `K` carries: the replies map's body, or (untyped) any JSON object. */
export type ReplyBody<R, K extends string> = IsUntyped<R> extends true ? JsonObject : K extends keyof R ? R[K] : never;

/** What a handler for requests of type `K` returns: with a replies map, a reply of the map's body for `K` (required); else as RequestHandler. */
export type HandlerResult<R, K extends string> = IsUntyped<R> extends true ? UntypedHandlerResult : ReplyOptions<ReplyBody<R, K>> | Promise<ReplyOptions<ReplyBody<R, K>>>;

/** The handler `onRequest(type, handler)` takes in a room with maps `M` (messages and requests) and `R` (replies). */
export type TypedRequestHandler<M, R, K extends string> = (request: IncomingRequest<K, RequestBody<M, K>>) => HandlerResult<R, K>;

export interface MessagesOptions<K extends string = string> {
  /** Only messages of this type. */
  type?: K | undefined;
  /** Ends the iteration early. */
  signal?: AbortSignal | undefined;
}

/** The option names each call takes; any other key is refused with INVALID_ARGUMENT. */
export const OPTION_KEYS = {
  sendMessage: ['to', 'type', 'message', 'attachment', 'onProgress', 'signal', 'ignoreOffline', 'delivery'],
  broadcastMessage: ['type', 'message', 'attachment', 'onProgress', 'signal', 'delivery'],
  request: ['to', 'type', 'message', 'attachment', 'timeoutMs', 'signal'],
  reply: ['message', 'attachment'],
  messages: ['type', 'signal'],
} as const;
