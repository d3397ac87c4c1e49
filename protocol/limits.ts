/**
 * Limits both sides must agree on, in one place: the client checks its own calls against
 * them (so a bad value is a clear error before anything is sent), the service's schemas
 * enforce them, and the relay's packet size is derived from the payload limit the service
 * announces at join. Plain constants only (the browser bundle imports this).
 */

/** Characters in a room name. */
export const MAX_ROOM_CHARS = 128;
/** Characters in a participant's name. */
export const MAX_NAME_CHARS = 128;
/** Characters in a role. */
export const MAX_ROLE_CHARS = 64;
/** Characters in an attribute's name. */
export const MAX_ATTRIBUTE_KEY_CHARS = 128;
/** Characters in a join token. */
export const MAX_TOKEN_CHARS = 8192;

/**
 * Default per-participant attribute caps (the service's `maxAttributes` / `maxAttributeBytes`
 * settings may lower or raise them; the join reply says which apply).
 */
export const DEFAULT_MAX_ATTRIBUTES = 64;
export const DEFAULT_MAX_ATTRIBUTE_BYTES = 16 * 1024;

/** The largest relayed packet a client sends, whatever the service allows. */
export const MAX_RELAY_PACKET_BYTES = 32 * 1024;
/**
 * Bytes a relayed packet gains on its way besides the wire packet itself: the sealed
 * frame's kind, counter and AES-GCM tag (client/peer/relay-crypto.ts), with room to spare for
 * Socket.IO's framing of the binary attachment.
 */
export const RELAY_OVERHEAD_BYTES = 256;
/** The smallest payload limit a service may be configured with (its relay packets must still fit). */
export const MIN_PAYLOAD_BYTES = 4 * 1024;

/** The relay packet size that fits a service whose payload limit is `maxPayloadBytes`. */
export const relayPacketBytesFor = (maxPayloadBytes: number): number =>
  Math.max(1024, Math.min(MAX_RELAY_PACKET_BYTES, maxPayloadBytes - RELAY_OVERHEAD_BYTES));

/** What the service tells each client at join (and resume) about the limits it enforces. */
export interface ServiceLimits {
  /** Largest signaling payload, in bytes: a relayed packet must fit in it. */
  maxPayloadBytes: number;
  /** Attributes per participant, and their total size as JSON. */
  maxAttributes: number;
  maxAttributeBytes: number;
}
