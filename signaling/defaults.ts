/**
 * The service's defaults, one object: createSignalingServer fills its options from it, and
 * `roommesh serve`'s settings (config.ts) take their defaults from it. Each is documented on
 * SignalingServerOptions (server.ts) and in the README's settings and limits tables.
 */
import { DEFAULT_MAX_ATTRIBUTE_BYTES, DEFAULT_MAX_ATTRIBUTES } from '../protocol/limits.js';

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8787,
  maxParticipantsPerRoom: 50,
  maxRooms: 10_000,
  signalsPerSecond: 200,
  signalBurst: 400,
  signalsPerTargetPerSecond: 20,
  signalsPerTargetBurst: 60,
  enablesPerMinute: 12,
  maxConnectionsPerAddress: 32,
  trustProxy: false,
  joinTimeoutMs: 10_000,
  resumeGraceSeconds: 3600,
  maxAttributes: DEFAULT_MAX_ATTRIBUTES,
  maxAttributeBytes: DEFAULT_MAX_ATTRIBUTE_BYTES,
  maxPayloadBytes: 64 * 1024,
  relayBytesPerSecond: 16 * 1024 * 1024,
  relayBurstBytes: 4 * 1024 * 1024,
  // A client silent for ~10 s is dropped: long enough that a network blip or a stalled mobile
  // radio costs no removal and resume, short enough that a client finds a dead process soon.
  pingIntervalMs: 5_000,
  pingTimeoutMs: 5_000,
} as const;
