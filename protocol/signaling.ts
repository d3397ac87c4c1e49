/**
 * The signaling contract: what a client and the service say to each other over
 * Socket.IO. The zod schemas are the single source of truth; the service validates every
 * payload with them and the client imports only their inferred types (so zod stays out
 * of the browser bundle). Documented in docs/protocol.md.
 */
import { z } from 'zod';
import type { ErrorPayload } from './errors.js';
import type { JsonValue } from './json.js';

export const PROTOCOL_VERSION = 1;

const json: z.ZodType<JsonValue> = z.json();
export const participantIdSchema = z.string().min(1).max(64);
export const attributeKeySchema = z.string().min(1).max(128);
export const attributesSchema = z
  .record(attributeKeySchema, json)
  .refine((record) => Object.keys(record).length <= 64, 'at most 64 attributes');

export const joinRequestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  room: z.string().min(1).max(128),
  name: z.string().min(1).max(128),
  role: z.string().min(1).max(64).optional(),
  attributes: attributesSchema.optional(),
  token: z.string().min(1).max(8192).optional(),
});

export const setAttributesRequestSchema = z.strictObject({ attributes: attributesSchema });

const sdp = z.string().min(1).max(65_536);
export const signalDataSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('offer'), sdp }),
  z.strictObject({ type: z.literal('answer'), sdp }),
  z.strictObject({
    type: z.literal('candidate'),
    candidate: z.strictObject({
      candidate: z.string().max(2048),
      sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
      sdpMid: z.string().max(64).nullable().optional(),
      usernameFragment: z.string().max(256).nullable().optional(),
    }),
  }),
  z.strictObject({ type: z.literal('renegotiate'), renegotiate: z.literal(true) }),
]);

export const signalRequestSchema = z.strictObject({
  to: participantIdSchema,
  /** Link session id chosen by the initiator; signals of an older session are dropped. */
  sid: z.string().min(1).max(64),
  data: signalDataSchema,
});

export type JoinRequest = z.infer<typeof joinRequestSchema>;
export type SetAttributesRequest = z.infer<typeof setAttributesRequestSchema>;
export type SignalData = z.infer<typeof signalDataSchema>;
export type SignalRequest = z.infer<typeof signalRequestSchema>;

export interface IceServer {
  urls: string | string[];
  username?: string;
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

export type RemovalReason = 'disabled' | 'left';

/** What a client emits (the last argument is the acknowledgement callback). */
export interface ClientToServerEvents {
  join: (request: JoinRequest, ack: (reply: Reply<JoinReply>) => void) => void;
  leave: (ack: (reply: Reply) => void) => void;
  'messaging:enable': (ack: (reply: Reply<EnableReply>) => void) => void;
  'messaging:disable': (ack: (reply: Reply) => void) => void;
  'attributes:set': (request: SetAttributesRequest, ack: (reply: Reply<{ participant: ParticipantInfo }>) => void) => void;
  signal: (request: SignalRequest) => void;
}

/** What the service pushes to a client. */
export interface ServerToClientEvents {
  'participant:enabled': (participant: ParticipantInfo) => void;
  'participant:removed': (removal: { id: string; reason: RemovalReason }) => void;
  'participant:updated': (participant: ParticipantInfo) => void;
  signal: (envelope: SignalEnvelope) => void;
  /** A payload without an acknowledgement was refused (e.g. a bad signal). */
  failure: (failure: ErrorPayload & { event: string }) => void;
}
