/**
 * The service's side of the signaling contract, one socket at a time. Every payload is
 * checked against the shared zod schemas; a bad one gets an error reply (or a `failure`
 * event where the client asked for no reply) and a log line, never an exception. The
 * service stamps the sender on everything it relays. Room state is read through the
 * Directory (every process's sockets), never kept here.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { ErrorCode, ErrorPayload } from '../protocol/errors.js';
import { joinRequestSchema, presenceRequestSchema, relayRequestSchema, resumeRequestSchema, setAttributesRequestSchema, signalRequestSchema } from '../protocol/schemas.js';
import type { JsonValue } from '../protocol/json.js';
import type { ClientToServerEvents, IceServer, JoinRequest, Reply, ServerToClientEvents } from '../protocol/signaling.js';
import { verifyToken } from './auth.js';
import { memberFrom, rooms, toInfo, type Directory, type KeyedLock, type Member, type MemberData } from './directory.js';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';
import { TokenBucket } from './rate-limit.js';

export interface SocketData extends MemberData {
  participantId: string | undefined;
  /** Attribute names set by the join token, which the participant may not change. */
  lockedAttributes: string[];
}

export type RoomServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type RoomSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface HandlerContext {
  io: RoomServer;
  directory: Directory;
  logger: Logger;
  metrics: ServiceMetrics;
  iceServers: IceServer[];
  /** When set, a join needs a token signed with it. */
  secret: string | Uint8Array | undefined;
  limits: { maxParticipantsPerRoom: number; maxRooms: number };
  /** Incoming packets per second per client, and the burst allowed above that rate. */
  rate: { perSecond: number; burst: number };
  /** Relayed bytes per second per client, and the burst; relayed packets are outside `rate`. */
  relayRate: { bytesPerSecond: number; burstBytes: number };
  /** True while the service drains for shutdown: connections that close then are moving, not leaving. */
  draining(): boolean;
  /** Joins to one room, one after another within this process (so its size check holds here). */
  joinLock: KeyedLock;
}

/** A resuming participant's join token may have expired this long ago (it was admitted while valid). */
const RESUME_TOKEN_GRACE_SECONDS = 3600;

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

type Identity = { name: string; role: string; attributes: Record<string, JsonValue> };

export function attachHandlers(socket: RoomSocket, context: HandlerContext): void {
  const { io, directory, logger, metrics } = context;
  socket.data.participantId = undefined;
  socket.data.lockedAttributes = [];
  limitRate(socket, context);

  const self = (): Member => {
    const member = memberFrom(socket.data);
    if (member === undefined) throw new Refusal('NOT_STARTED', 'join a room first');
    return member;
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
          error instanceof Refusal ? error : new Refusal('SIGNALING_FAILED', 'the service failed to handle this request; try again');
        if (!(error instanceof Refusal)) logger.error({ err: error, event, socket: socket.id }, 'handler failed');
        else logger.warn({ event, code: refusal.code, reason: refusal.message, socket: socket.id, participant: socket.data.participantId }, 'request refused');
        metrics.refused(event, refusal.code);
        const payloadError: ErrorPayload = { code: refusal.code, message: refusal.message };
        reply = { ok: false, error: payloadError };
        if (ack === undefined) socket.emit('failure', { ...payloadError, event });
      }
      ack?.(reply);
    });
  };

  /** The rooms a participant is in while its messaging is enabled: announcements, and signals to it. */
  const messagingRooms = (member: Member): string[] => [rooms.enabled(member.room), rooms.reachable(member.id, member.room)];

  /** Messaging off: no more announcements, signals or relayed packets reach this connection. */
  const stopMessaging = (member: Member): void => {
    socket.data.messaging = false;
    directory.forget(member.id, member.room);
    for (const name of messagingRooms(member)) void socket.leave(name);
  };

  /** Forgets who this connection was; returns the participant it spoke for. */
  const forget = (): Member | undefined => {
    const member = memberFrom(socket.data);
    socket.data.participantId = undefined;
    if (member === undefined) return undefined;
    stopMessaging(member);
    for (const name of [rooms.all(member.room), rooms.participant(member.id)]) void socket.leave(name);
    return member;
  };

  /** Who the request may be: from the token when the service has a secret, never from the client's claims. */
  const admit = async (request: JoinRequest, expiredGraceSeconds: number) => {
    let identity: Identity = { name: request.name, role: request.role ?? 'participant', attributes: request.attributes ?? {} };
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

  /** Puts this connection in `room` as `id`, within the room and service limits (counted across every process). */
  const register = (id: string, room: string, identity: Identity, locked: string[]): Promise<Member> =>
    context.joinLock.run(room, async () => {
      const others = (await directory.members(room)).filter((m) => m.id !== id);
      if (others.length >= context.limits.maxParticipantsPerRoom) {
        metrics.limitHit('room_full');
        throw new Refusal('ROOM_FULL', `room "${room}" is full`);
      }
      if (!directory.hostsLocally(room) && directory.localRoomCount() >= context.limits.maxRooms) {
        metrics.limitHit('service_full');
        throw new Refusal('SERVICE_FULL', 'this service hosts as many rooms as it may; try again later');
      }
      if (!socket.connected) throw new Refusal('CLOSED', 'the connection closed while joining');
      Object.assign(socket.data, { participantId: id, room, role: identity.role, attributes: { ...identity.attributes, name: identity.name }, messaging: false });
      socket.data.lockedAttributes = locked;
      void socket.join([rooms.all(room), rooms.participant(id)]);
      return self();
    });

  /**
   * Turns messaging on. The rooms are joined before the peers are asked for: of two
   * participants enabling at once on different processes, each then learns of the other at
   * least once (from its reply or from the other's announcement). Who offers is the pair's
   * id order, not the order of events (client/mesh.ts), so learning twice is harmless.
   */
  const enableMessaging = async (): Promise<Member[]> => {
    const member = self();
    const wasEnabled = member.messaging;
    socket.data.messaging = true;
    void socket.join(messagingRooms(member));
    const peers = await directory.enabledPeers(member.room, member.id);
    if (!socket.connected || socket.data.participantId !== member.id) throw new Refusal('CLOSED', 'the connection closed while enabling');
    if (!wasEnabled) socket.to(rooms.enabled(member.room)).emit('participant:enabled', toInfo(self()));
    return peers;
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
      const member = await register(participantIdFor(credential), request.room, identity, locked);
      metrics.joined('join');
      logger.info({ participant: member.id, room: request.room, name: identity.name }, 'participant joined');
      return { participant: toInfo(member), iceServers: context.iceServers, credential };
    });
  });

  handle('resume', (payload) => {
    const request = parse(resumeRequestSchema, payload);
    return once(async () => {
      const { identity, locked } = await admit(request, RESUME_TOKEN_GRACE_SECONDS);
      const id = participantIdFor(request.credential);
      // The same participant on a connection not yet seen to drop, on this process or another: this one replaces it.
      const previous = (await directory.connections(id)).filter((s) => s.id !== socket.id);
      if (previous.some((s) => s.data?.room !== undefined && s.data.room !== request.room)) {
        throw new Refusal('UNAUTHORIZED', 'this credential belongs to another room');
      }
      const member = await register(id, request.room, identity, locked);
      for (const stale of previous) stale.disconnect(true); // quiet: its process sees this connection still holds the id
      const participants = request.messaging ? await enableMessaging() : [];
      metrics.joined('resume');
      logger.info({ participant: id, room: request.room, name: identity.name, replaced: previous.length }, 'participant resumed');
      return { participant: toInfo(member), iceServers: context.iceServers, participants: participants.map(toInfo) };
    });
  });

  handle('leave', () => {
    self();
    const member = forget();
    if (member === undefined) return undefined;
    if (member.messaging) socket.to(rooms.enabled(member.room)).emit('participant:removed', { id: member.id, reason: 'left' });
    metrics.left('left');
    logger.info({ participant: member.id, room: member.room }, 'participant left');
    return undefined;
  });

  handle('messaging:enable', async () => ({ participants: (await enableMessaging()).map(toInfo) }));

  handle('messaging:disable', () => {
    const member = self();
    if (member.messaging) {
      stopMessaging(member);
      socket.to(rooms.enabled(member.room)).emit('participant:removed', { id: member.id, reason: 'disabled' });
      metrics.left('disabled');
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
    const member = self();
    socket.data.attributes = { ...member.attributes, ...attributes };
    const updated = self();
    if (updated.messaging) socket.to(rooms.enabled(updated.room)).emit('participant:updated', toInfo(updated));
    return { participant: toInfo(updated) };
  });

  // A peer whose link died asks whether the participant is still here: a process that died
  // took its participants without a word, and this is how their peers learn it.
  handle('presence:check', async (payload) => {
    const { id } = parse(presenceRequestSchema, payload);
    const member = self();
    if (!member.messaging) throw new Refusal('NOT_ENABLED', 'enable messaging first');
    return { present: await directory.isReachable(id, member.room, { fresh: true }) };
  });

  handle('signal', async (payload) => {
    const request = parse(signalRequestSchema, payload);
    const member = self();
    const notFound = new Refusal('PARTICIPANT_NOT_FOUND', `no participant ${request.to} with messaging enabled in your room`);
    if (!member.messaging || request.to === member.id) throw notFound;
    // Sent at once, so signals keep their order; the address reaches no one outside the room.
    io.to(rooms.reachable(request.to, member.room)).emit('signal', { from: member.id, sid: request.sid, data: request.data });
    metrics.signalRelayed();
    // Only feedback: a lookup that fails (Redis slow or gone) says nothing either way.
    const reachable = await directory.isReachable(request.to, member.room).catch(() => undefined);
    if (reachable === false) throw notFound;
    return undefined;
  });

  relayHandler(socket, context, self);

  socket.on('disconnect', (reason, description) => {
    // A payload over maxPayloadBytes ends the connection inside Socket.IO, silently: say so here.
    const fields = { socket: socket.id, participant: socket.data.participantId, reason, detail: String((description as { message?: string } | undefined)?.message ?? '') };
    if (reason === 'transport error' || reason === 'parse error') {
      metrics.limitHit('payload_size');
      logger.warn(fields, 'connection dropped (e.g. a payload over maxPayloadBytes)');
    } else logger.debug(fields, 'connection closed');
    const member = forget();
    if (member === undefined) return;
    // The service stopping or draining is not anyone leaving: peers keep their links and presence.
    if (reason === 'server shutting down' || context.draining()) return metrics.left('moved');
    // A client that disconnects on purpose has left; a dropped connection may come back (resume).
    const removal = reason === 'client namespace disconnect' ? 'left' : 'disconnected';
    metrics.left(removal);
    if (!member.messaging) return;
    void directory
      .connections(member.id)
      .then((still) => {
        if (still.length > 0) return; // resumed elsewhere already: nothing to announce
        io.to(rooms.enabled(member.room)).emit('participant:removed', { id: member.id, reason: removal });
        logger.info({ participant: member.id, room: member.room, reason: removal }, 'participant gone');
      })
      .catch((error: unknown) => logger.error({ err: error, participant: member.id }, 'could not tell the room a participant is gone'));
  });
}

/**
 * Relayed packets: only to a participant of the same room with messaging enabled, sender
 * stamped. Each is acknowledged once forwarded, which is the sender's flow control. Over the
 * byte rate, a packet waits (its acknowledgement with it); a client that keeps sending
 * without waiting for acknowledgements is disconnected.
 */
function relayHandler(socket: RoomSocket, context: HandlerContext, self: () => Member): void {
  const { bytesPerSecond, burstBytes } = context.relayRate;
  const bucket = new TokenBucket(bytesPerSecond, burstBytes, Date.now());
  let held = 0;
  let chain = Promise.resolve();
  socket.on('relay', (payload, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    let request;
    let from: Member;
    try {
      request = parse(relayRequestSchema, payload);
      from = self();
      if (!from.messaging || request.to === from.id) {
        throw new Refusal('PARTICIPANT_NOT_FOUND', `no participant ${request.to} with messaging enabled in your room`);
      }
    } catch (error) {
      const refusal = error instanceof Refusal ? error : new Refusal('INVALID_MESSAGE', 'bad relay packet');
      return reply({ ok: false, error: { code: refusal.code, message: refusal.message } });
    }
    const { to, sid, data } = request;
    held += data.length;
    if (held > 4 * burstBytes) {
      context.metrics.limitHit('relay_rate');
      context.logger.warn({ socket: socket.id, participant: from.id, held }, 'client disconnected for relaying without waiting for acknowledgements');
      socket.disconnect(true);
      return;
    }
    const forward = async (): Promise<void> => {
      held -= data.length;
      if (memberFrom(socket.data)?.messaging !== true || !(await context.directory.isReachable(to, from.room))) {
        return reply({ ok: false, error: { code: 'PARTICIPANT_NOT_FOUND', message: `participant ${to} left` } });
      }
      context.io.to(rooms.reachable(to, from.room)).emit('relay', { from: from.id, sid, data });
      context.metrics.relayed(data.length);
      reply({ ok: true });
    };
    // Packets leave in order: each waits for the one before it, and for the bucket.
    chain = chain.then(async () => {
      const cost = Math.min(data.length, burstBytes);
      const wait = bucket.wait(Date.now(), cost);
      if (wait > 0) {
        context.metrics.limitHit('relay_rate');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      bucket.take(Date.now(), cost);
      await forward().catch((error: unknown) => {
        context.logger.error({ err: error, participant: from.id }, 'relay lookup failed');
        reply({ ok: false, error: { code: 'SIGNALING_FAILED', message: 'the service could not relay this packet; try again' } });
      });
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
    context.metrics.limitHit('signal_rate');
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
