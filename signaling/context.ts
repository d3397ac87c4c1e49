/**
 * What one socket's handlers work with: the typed Socket.IO server and socket, the
 * participant record a socket carries, and everything the service hands each connection
 * (directory, limits, metrics). Types only, shared by the handlers and the relay.
 */
import type { Server, Socket } from 'socket.io';
import type { ServiceLimits } from '../protocol/limits.js';
import type { ClientToServerEvents, IceServer, ServerToClientEvents } from '../protocol/signaling.js';
import type { TokenKeys } from './auth.js';
import type { Directory, KeyedLock, MemberData } from './directory.js';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';
import type { FloodLimits, KeyedBuckets } from './rate-limit.js';

export interface SocketData extends MemberData {
  participantId: string | undefined;
  /** Attribute names set by the join token, which the participant may not change. */
  lockedAttributes: string[];
  /** Whose enable budget this connection spends (rationKey in identity.ts): its token's, else its participant's. */
  rationKey?: string;
  /** The key of the token it holds (its `jti`), if it joined with one. */
  tokenKey?: string;
}

export type RoomServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type RoomSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface HandlerContext {
  io: RoomServer;
  directory: Directory;
  logger: Logger;
  metrics: ServiceMetrics;
  /** The ICE servers a participant is handed now (static ones, and time-limited TURN credentials made for it). */
  iceServersFor(participantId: string): IceServer[];
  /** With TURN credentials: how often to push fresh ones to each connection, before the last expire. */
  iceRenewMs: number | undefined;
  /** When set, a join needs a token signed with the secret or the issuer's key. */
  tokens: TokenKeys | undefined;
  /** Signs resume tickets (derived from the secret; signaling/tickets.ts). */
  ticketKey: Buffer | undefined;
  /** A proven resume may present a token expired this long ago. */
  resumeGraceSeconds: number;
  limits: { maxParticipantsPerRoom: number; maxRooms: number };
  /** What the service tells every client at join, and enforces: payload size, attribute caps. */
  serviceLimits: ServiceLimits;
  /** Incoming packets per second per client (and per signal target), and the bursts allowed above those rates. */
  rate: FloodLimits;
  /** How long a connection may stay without joining a room before it is closed. */
  joinTimeoutMs: number;
  /** Turning messaging on, per participant id (shared by this process's connections, so reconnecting does not refill it). */
  enables: KeyedBuckets;
  /** Relayed bytes per second per client, and the burst; relayed packets are outside `rate`. */
  relayRate: { bytesPerSecond: number; burstBytes: number };
  /** True while the service drains for shutdown: connections that close then are moving, not leaving. */
  draining(): boolean;
  /** Joins to one room, one after another within this process (so its size check holds here). */
  joinLock: KeyedLock;
}

