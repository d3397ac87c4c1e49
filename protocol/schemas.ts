/**
 * The zod schemas the service validates every client payload with (the service only: the
 * client imports the plain types from ./signaling.ts). Each schema is declared as producing
 * its contract type, so a schema that accepts something the type does not fails to compile.
 */
import { z } from 'zod';
import type { JsonValue } from './json.js';
import { DEFAULT_MAX_ATTRIBUTES, MAX_ATTRIBUTE_KEY_CHARS, MAX_NAME_CHARS, MAX_ROLE_CHARS, MAX_ROOM_CHARS, MAX_TOKEN_CHARS } from './limits.js';
import { MAX_REFUSE_REASON_CHARS, PROTOCOL_VERSION, type JoinRequest, type PresenceRequest, type RelayRequest, type ResumeRequest, type SetAttributesRequest, type SignalData, type SignalRequest, type TokenUpdateRequest } from './signaling.js';

const json: z.ZodType<JsonValue> = z.json();
/** What participantIdFor makes: 16 bytes, base64url. */
export const participantIdSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a participant id');
export const attributeKeySchema = z.string().min(1).max(MAX_ATTRIBUTE_KEY_CHARS);
/** One request's attributes; what a participant may hold in all is the service's maxAttributes / maxAttributeBytes. */
export const attributesSchema = z
  .record(attributeKeySchema, json)
  .refine((record) => Object.keys(record).length <= DEFAULT_MAX_ATTRIBUTES, `at most ${DEFAULT_MAX_ATTRIBUTES} attributes in one request`);

const joinFields = {
  v: z.literal(PROTOCOL_VERSION),
  room: z.string().min(1).max(MAX_ROOM_CHARS),
  name: z.string().min(1).max(MAX_NAME_CHARS).optional(),
  role: z.string().min(1).max(MAX_ROLE_CHARS).optional(),
  attributes: attributesSchema.optional(),
  token: z.string().min(1).max(MAX_TOKEN_CHARS).optional(),
  proof: z
    .strictObject({
      key: z.string().regex(/^[0-9a-f]{64}$/, 'not a 32-byte key in lower-case hex'),
      at: z.number().int().nonnegative(),
      sig: z.string().regex(/^[0-9a-f]{128}$/, 'not a 64-byte signature in lower-case hex'),
    })
    .optional(),
};
export const joinRequestSchema: z.ZodType<JoinRequest> = z.strictObject(joinFields);
export const tokenUpdateRequestSchema: z.ZodType<TokenUpdateRequest> = z.strictObject({ token: z.string().min(1).max(MAX_TOKEN_CHARS), proof: joinFields.proof });

/** 32 random bytes, base64url. */
export const credentialSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a credential this service issued');
export const resumeRequestSchema: z.ZodType<ResumeRequest> = z.strictObject({
  ...joinFields,
  credential: credentialSchema,
  ticket: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a ticket this service issued').optional(),
  messaging: z.boolean(),
});

export const setAttributesRequestSchema: z.ZodType<SetAttributesRequest> = z.strictObject({ attributes: attributesSchema });

const sdp = z.string().min(1).max(65_536);
export const signalDataSchema: z.ZodType<SignalData> = z.discriminatedUnion('type', [
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
  z.strictObject({ type: z.literal('refuse'), reason: z.string().max(MAX_REFUSE_REASON_CHARS) }),
]);

export const presenceRequestSchema: z.ZodType<PresenceRequest> = z.strictObject({ id: participantIdSchema });

export const signalRequestSchema: z.ZodType<SignalRequest> = z.strictObject({
  to: participantIdSchema,
  sid: z.string().min(1).max(64),
  data: signalDataSchema,
});

export const relayRequestSchema: z.ZodType<RelayRequest> = z.strictObject({
  to: participantIdSchema,
  sid: z.string().min(1).max(64),
  data: z.instanceof(Uint8Array).refine((data) => data.length > 0, 'empty packet'),
});
