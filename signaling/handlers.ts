/**
 * The service's side of the signaling contract, one socket at a time. Every payload is
 * checked against the shared zod schemas; a bad one gets an error reply (or a `failure`
 * event where the client asked for no reply) and a log line, never an exception. The
 * service stamps the sender on everything it relays.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { ErrorCode, ErrorPayload } from '../protocol/errors.js';
import { joinRequestSchema, relayRequestSchema, resumeRequestSchema, setAttributesRequestSchema, signalRequestSchema } from '../protocol/schemas.js';
import type {
  ClientToServerEvents,
  IceServer,
  JoinRequest,
  RemovalReason,
  Reply,
  ServerToClientEvents,
} from '../protocol/signaling.js';
import { verifyToken } from './auth.js';
import type { Logger } from './logger.js';
import { TokenBucket } from './rate-limit.js';
import { toInfo, type ParticipantRecord, type RoomRegistry } from './registry.js';
import type { JsonValue } from '../protocol/json.js';

export interface SocketData {
  participantId: string | undefined;
  /** Attribute names set by the join token, which the participant may not change. */
  lockedAttributes: string[];
}

export type RoomServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type RoomSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface HandlerContext {
  io: RoomServer;
  registry: RoomRegistry;
  logger: Logger;
  iceServers: IceServer[];
  /** When set, a join needs a token signed with it. */
  secret: string | Uint8Array | undefined;
  /** Incoming packets per second per client, and the burst allowed above that rate. */
  rate: { perSecond: number; burst: number };
  /** Relayed bytes per second per client, and the burst; relayed packets are outside `rate`. */
  relayRate: { bytesPerSecond: number; burstBytes: number };
}

/** A resuming participant's join token may have expired this long ago (it was admitted while valid). */
const RESUME_TOKEN_GRACE_SECONDS = 3600;

/** The Socket.IO room of a room's participants with messaging enabled. */
const enabledRoom = (room: string): string => `enabled:${room}`;

/** 256 random bits, URL-safe: the secret a participant resumes with. */
export const newCredential = (): string => randomBytes(32).toString('base64url');

/**
 * A participant's id: 128 bits of SHA-256 of its credential. Ids cannot be guessed, and
 * only the holder of the credential can claim one, even from a restarted service.
 */
export const participantIdFor = (credential: string): string => createHash('sha256').update(credential).digest().subarray(0, 16).toString('base64url');

class Refusal extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'payload' : issue.path.join('.');
    throw new Refusal('INVALID_MESSAGE', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

export function attachHandlers(socket: RoomSocket, context: HandlerContext): void {
  const { io, registry, logger } = context;
  socket.data.participantId = undefined;
  socket.data.lockedAttributes = [];
  limitRate(socket, context);

  const self = () => {
    const id = socket.data.participantId;
    const record = id === undefined ? undefined : registry.get(id);
    if (record === undefined) throw new Refusal('NOT_STARTED', 'join a room first');
    return record;
  };

  /**
   * Registers a handler whose last argument is the client's acknowledgement. Whatever the
   * client sends — wrong arity, no callback, garbage — ends in a reply or a log line.
   */
  const handle = (event: string, run: (payload: unknown) => object | undefined | Promise<object | undefined>): void => {
    (socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void }).on(event, async (...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (reply: Reply) => void) : undefined;
      const payload = ack === undefined ? args[0] : args.length > 1 ? args[0] : undefined;
      let reply: Reply;
      try {
        reply = { ok: true, ...((await run(payload)) ?? {}) };
      } catch (error) {
        const refusal =
          error instanceof Refusal ? error : new Refusal('SIGNALING_FAILED', 'the service failed to handle this request');
        if (!(error instanceof Refusal)) logger.error({ err: error, event, socket: socket.id }, 'handler failed');
        else logger.warn({ event, code: refusal.code, reason: refusal.message, socket: socket.id, participant: socket.data.participantId }, 'request refused');
        const payloadError: ErrorPayload = { code: refusal.code, message: refusal.message };
        reply = { ok: false, error: payloadError };
        if (ack === undefined) socket.emit('failure', { ...payloadError, event });
      }
      ack?.(reply);
    });
  };

  const leave = (reason: RemovalReason): void => {
    const id = socket.data.participantId;
    if (id === undefined) return;
    socket.data.participantId = undefined;
    const record = registry.leave(id);
    if (record === undefined) return;
    void socket.leave(enabledRoom(record.room));
    if (record.messaging) socket.to(enabledRoom(record.room)).emit('participant:removed', { id, reason });
    logger.info({ participant: id, room: record.room }, 'participant left');
  };

  /** Who the request may be: from the token when the service has a secret, never from the client's claims. */
  const admit = async (request: JoinRequest, expiredGraceSeconds: number) => {
    let identity = { name: request.name, role: request.role ?? 'participant', attributes: request.attributes ?? {} };
    let locked: string[] = [];
    if (context.secret !== undefined) {
      const granted = await verifyToken(context.secret, request.token, request.room, expiredGraceSeconds);
      if (typeof granted === 'string') throw new Refusal('UNAUTHORIZED', granted);
      identity = { name: granted.name, role: granted.role, attributes: { ...request.attributes, ...granted.attributes } };
      locked = ['name', ...Object.keys(granted.attributes)];
    }
    if (!socket.connected) throw new Refusal('CLOSED', 'the connection closed while joining');
    return { identity, locked };
  };

  const register = (id: string, room: string, identity: { name: string; role: string; attributes: Record<string, JsonValue> }, locked: string[]) => {
    const outcome = registry.join({ id, room, role: identity.role, attributes: { ...identity.attributes, name: identity.name }, socketId: socket.id });
    if (!outcome.ok) {
      if (outcome.reason === 'ROOM_FULL') throw new Refusal('ROOM_FULL', `room "${room}" is full`);
      if (outcome.reason === 'TOO_MANY_ROOMS') throw new Refusal('SERVICE_FULL', 'this service hosts as many rooms as it may; try again later');
      throw new Refusal('SIGNALING_FAILED', 'could not assign a participant id; try again');
    }
    socket.data.participantId = id;
    socket.data.lockedAttributes = locked;
    return outcome.record;
  };

  let joining = false;
  const once = async <T>(run: () => Promise<T>): Promise<T> => {
    if (socket.data.participantId !== undefined || joining) throw new Refusal('INVALID_MESSAGE', 'this connection has joined a room already');
    joining = true;
    try {
      return await run();
    } finally {
      joining = false;
    }
  };

  handle('join', (payload) => {
    const request = parse(joinRequestSchema, payload);
    return once(async () => {
      const { identity, locked } = await admit(request, 0);
      const credential = newCredential();
      const record = register(participantIdFor(credential), request.room, identity, locked);
      logger.info({ participant: record.id, room: request.room, name: identity.name }, 'participant joined');
      return { participant: toInfo(record), iceServers: context.iceServers, credential };
    });
  });

  handle('resume', (payload) => {
    const request = parse(resumeRequestSchema, payload);
    return once(async () => {
      const { identity, locked } = await admit(request, RESUME_TOKEN_GRACE_SECONDS);
      const id = participantIdFor(request.credential);
      const previous = registry.get(id);
      if (previous !== undefined) {
        // The same participant on a connection the service has not seen drop yet: this one replaces it, quietly.
        if (previous.room !== request.room) throw new Refusal('UNAUTHORIZED', 'this credential belongs to another room');
        const stale = io.sockets.sockets.get(previous.socketId);
        if (stale !== undefined) stale.data.participantId = undefined;
        registry.leave(id);
        stale?.disconnect(true);
      }
      const record = register(id, request.room, identity, locked);
      let participants: ParticipantRecord[] = [];
      if (request.messaging) {
        participants = registry.enabledPeers(id);
        registry.setMessaging(id, true);
        socket.to(enabledRoom(record.room)).emit('participant:enabled', toInfo(record));
        void socket.join(enabledRoom(record.room));
      }
      logger.info({ participant: id, room: request.room, name: identity.name, replaced: previous !== undefined }, 'participant resumed');
      return { participant: toInfo(record), iceServers: context.iceServers, participants: participants.map(toInfo) };
    });
  });

  handle('leave', () => {
    self();
    leave('left');
    return undefined;
  });

  handle('messaging:enable', () => {
    const record = self();
    const peers = registry.enabledPeers(record.id).map(toInfo);
    if (registry.setMessaging(record.id, true)) {
      socket.to(enabledRoom(record.room)).emit('participant:enabled', toInfo(record));
      void socket.join(enabledRoom(record.room));
    }
    return { participants: peers };
  });

  handle('messaging:disable', () => {
    const record = self();
    if (registry.setMessaging(record.id, false)) {
      void socket.leave(enabledRoom(record.room));
      socket.to(enabledRoom(record.room)).emit('participant:removed', { id: record.id, reason: 'disabled' });
    }
    return undefined;
  });

  handle('attributes:set', (payload) => {
    const { attributes } = parse(setAttributesRequestSchema, payload);
    const locked = Object.keys(attributes).find((key) => socket.data.lockedAttributes.includes(key));
    if (locked !== undefined) throw new Refusal('UNAUTHORIZED', `attribute "${locked}" is set by your join token and cannot be changed`);
    if ('name' in attributes && (typeof attributes['name'] !== 'string' || attributes['name'].length === 0)) {
      throw new Refusal('INVALID_MESSAGE', 'attributes.name must be a non-empty string');
    }
    const record = registry.updateAttributes(self().id, attributes);
    if (record === undefined) throw new Refusal('NOT_STARTED', 'join a room first');
    if (record.messaging) socket.to(enabledRoom(record.room)).emit('participant:updated', toInfo(record));
    return { participant: toInfo(record) };
  });

  handle('signal', (payload) => {
    const request = parse(signalRequestSchema, payload);
    const record = self();
    if (!registry.canSignal(record.id, request.to)) {
      throw new Refusal('PARTICIPANT_NOT_FOUND', `no participant ${request.to} with messaging enabled in your room`);
    }
    const target = registry.get(request.to);
    if (target !== undefined) io.to(target.socketId).emit('signal', { from: record.id, sid: request.sid, data: request.data });
    return undefined;
  });

  relayHandler(socket, context, self);

  socket.on('disconnect', (reason, description) => {
    // A payload over maxPayloadBytes ends the connection inside Socket.IO, silently: say so here.
    const fields = { socket: socket.id, participant: socket.data.participantId, reason, detail: String((description as { message?: string } | undefined)?.message ?? '') };
    if (reason === 'transport error' || reason === 'parse error') logger.warn(fields, 'connection dropped (e.g. a payload over maxPayloadBytes)');
    else logger.debug(fields, 'connection closed');
    // The service stopping is not anyone leaving: peers keep their links and their presence.
    if (reason === 'server shutting down') {
      const id = socket.data.participantId;
      if (id !== undefined) registry.leave(id);
      socket.data.participantId = undefined;
      return;
    }
    // A client that disconnects on purpose has left; a dropped connection may come back (resume).
    leave(reason === 'client namespace disconnect' ? 'left' : 'disconnected');
  });
}

/**
 * Relayed packets: only to a participant of the same room with messaging enabled, sender
 * stamped. Each is acknowledged once forwarded, which is the sender's flow control. Over the
 * byte rate, a packet waits (its acknowledgement with it); a client that keeps sending
 * without waiting for acknowledgements is disconnected.
 */
function relayHandler(socket: RoomSocket, context: HandlerContext, self: () => ParticipantRecord): void {
  const { bytesPerSecond, burstBytes } = context.relayRate;
  const bucket = new TokenBucket(bytesPerSecond, burstBytes, Date.now());
  let held = 0;
  let chain = Promise.resolve();
  socket.on('relay', (payload, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    let request;
    let from: string;
    try {
      request = parse(relayRequestSchema, payload);
      from = self().id;
      if (!context.registry.canSignal(from, request.to)) {
        throw new Refusal('PARTICIPANT_NOT_FOUND', `no participant ${request.to} with messaging enabled in your room`);
      }
    } catch (error) {
      const refusal = error instanceof Refusal ? error : new Refusal('INVALID_MESSAGE', 'bad relay packet');
      return reply({ ok: false, error: { code: refusal.code, message: refusal.message } });
    }
    const { to, sid, data } = request;
    held += data.length;
    if (held > 4 * burstBytes) {
      context.logger.warn({ socket: socket.id, participant: from, held }, 'client disconnected for relaying without waiting for acknowledgements');
      socket.disconnect(true);
      return;
    }
    const forward = (): void => {
      held -= data.length;
      const target = context.registry.get(to);
      if (target === undefined || !context.registry.canSignal(from, to)) {
        return reply({ ok: false, error: { code: 'PARTICIPANT_NOT_FOUND', message: `participant ${to} left` } });
      }
      context.io.to(target.socketId).emit('relay', { from, sid, data });
      reply({ ok: true });
    };
    // Packets leave in order: each waits for the one before it, and for the bucket.
    chain = chain.then(async () => {
      const cost = Math.min(data.length, burstBytes);
      const wait = bucket.wait(Date.now(), cost);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      bucket.take(Date.now(), cost);
      forward();
    });
  });
}

/**
 * Every incoming packet takes a token from the client's bucket. A packet over the rate is
 * dropped; the client hears RATE_LIMITED once a second, the operator a log line; a client
 * that keeps flooding (drops worth another full burst) is disconnected.
 */
function limitRate(socket: RoomSocket, context: HandlerContext): void {
  const bucket = new TokenBucket(context.rate.perSecond, context.rate.burst, Date.now());
  let dropped = 0;
  let lastNotice = 0;
  socket.use((packet, next) => {
    if (packet[0] === 'relay') return next(); // metered in bytes by relayHandler
    const now = Date.now();
    if (bucket.take(now)) {
      dropped = Math.max(0, dropped - 1);
      return next();
    }
    dropped++;
    const event = typeof packet[0] === 'string' ? packet[0] : 'unknown';
    if (dropped > context.rate.burst) {
      context.logger.warn({ socket: socket.id, participant: socket.data.participantId, dropped }, 'client disconnected for flooding');
      socket.disconnect(true);
      return;
    }
    if (now - lastNotice >= 1000) {
      lastNotice = now;
      context.logger.warn({ socket: socket.id, participant: socket.data.participantId, event }, 'rate limit hit; packets dropped');
      socket.emit('failure', { code: 'RATE_LIMITED', message: `more than ${context.rate.perSecond} messages per second; slow down`, event });
    }
  });
}
