/**
 * The service's side of the signaling contract, one socket at a time. Every payload is
 * checked against the shared zod schemas; a bad one gets an error reply (or a `failure`
 * event where the client asked for no reply) and a log line, never an exception. The
 * service stamps the sender on everything it relays. Room state is read through the
 * Directory (every process's sockets), never kept here.
 */
import { RoomError, type ErrorPayload } from '../protocol/errors.js';
import { joinRequestSchema, presenceRequestSchema, resumeRequestSchema, setAttributesRequestSchema, signalRequestSchema, tokenUpdateRequestSchema } from '../protocol/schemas.js';
import { isDepartureRace, type ClientToServerEvents, type Reply, type Requests } from '../protocol/signaling.js';
import type { HandlerContext, RoomSocket } from './context.js';
import { memberFrom, rooms, toInfo, type Member } from './directory.js';
import { admission, attributesProblem, memberOf, newCredential, participantIdFor, rationKey } from './identity.js';
import { FloodLimiter } from './rate-limit.js';
import { relayHandler } from './relay.js';
import { notFound, parse } from './requests.js';
import { issueTicket } from './tickets.js';


export function attachHandlers(socket: RoomSocket, context: HandlerContext): void {
  const { io, directory, logger, metrics } = context;
  const { admit, register, renew } = admission(socket, context);
  socket.data.participantId = undefined;
  socket.data.lockedAttributes = [];
  limitRate(socket, context);

  let joining = false;
  // A connection that never joins holds a socket and a slot of its address for nothing.
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const armJoinDeadline = (): void => {
    clearTimeout(deadline);
    deadline = setTimeout(() => {
      if (socket.data.participantId !== undefined || joining || !socket.connected) return;
      metrics.limitHit('join_timeout');
      logger.info({ socket: socket.id, joinTimeoutMs: context.joinTimeoutMs }, 'connection closed: it did not join a room in time');
      socket.emit('failure', { code: 'UNAUTHORIZED', message: `join a room within ${context.joinTimeoutMs} ms of connecting`, event: 'join' });
      socket.disconnect(true);
    }, context.joinTimeoutMs);
  };
  armJoinDeadline();

  const self = (): Member => memberOf(socket);

  /**
   * Registers a handler whose last argument is the client's acknowledgement. Whatever the
   * client sends — wrong arity, no callback, garbage — ends in a reply or a log line.
   */
  type Success<E> = E extends keyof Requests ? Requests[E]['reply'] : never;
  // The client may send anything: the listener takes unknown arguments and checks them itself
  // (it is assignable to every event's listener type, so registering it needs no cast).
  const handle = <E extends keyof ClientToServerEvents>(event: E, run: (payload: unknown) => Success<E> | undefined | Promise<Success<E> | undefined>) => {
    return async (...args: unknown[]): Promise<void> => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (reply: Reply) => void) : undefined;
      const payload = ack === undefined ? args[0] : args.length > 1 ? args[0] : undefined;
      let reply: Reply;
      try {
        reply = { ok: true, ...((await run(payload)) ?? {}) };
      } catch (error) {
        const refusal =
          error instanceof RoomError ? error : new RoomError('SIGNALING_FAILED', 'the service failed to handle this request; try again');
        if (!(error instanceof RoomError)) logger.error({ err: error, event, socket: socket.id }, 'handler failed');
        else {
          (isDepartureRace(event, refusal.code) ? logger.debug : logger.warn).call(logger, { event, code: refusal.code, reason: refusal.message, socket: socket.id, participant: socket.data.participantId }, 'request refused');
        }
        metrics.refused(event, refusal.code);
        const payloadError: ErrorPayload = { code: refusal.code, message: refusal.message };
        reply = { ok: false, error: payloadError };
        if (ack === undefined) socket.emit('failure', { ...payloadError, event });
      }
      ack?.(reply);
    };
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

  /** Every enable makes each lower-id peer build a connection and offer: churn is rationed per participant (per token, when one participant holds it). */
  const rationEnable = (key: string, refusal: string): void => {
    if (context.enables.take(key, Date.now())) return;
    metrics.limitHit('enable_rate');
    logger.warn({ socket: socket.id, participant: socket.data.participantId, ration: key }, 'messaging enable refused: toggled too often');
    throw new RoomError('RATE_LIMITED', refusal);
  };

  /**
   * Turns messaging on. The rooms are joined before the peers are asked for: of two
   * participants enabling at once on different processes, each then learns of the other at
   * least once (from its reply or from the other's announcement). Who offers is the pair's
   * id order, not the order of events (client/mesh.ts), so learning twice is harmless.
   */
  const enableMessaging = async (prepaid = false): Promise<Member[]> => {
    const member = self();
    const wasEnabled = member.messaging;
    if (!wasEnabled && !prepaid) rationEnable(socket.data.rationKey ?? member.id, 'messaging was turned on and off too often; wait a few seconds before enabling again');
    socket.data.messaging = true;
    void socket.join(messagingRooms(member));
    const peers = await directory.enabledPeers(member.room, member.id);
    if (!socket.connected || socket.data.participantId !== member.id) throw new RoomError('CLOSED', 'the connection closed while enabling');
    if (!wasEnabled) socket.to(rooms.enabled(member.room)).emit('participant:enabled', toInfo(self()));
    return peers;
  };

  const once = async <T>(run: () => Promise<T>): Promise<T> => {
    if (socket.data.participantId !== undefined || joining) throw new RoomError('INVALID_MESSAGE', 'this connection has joined a room already');
    joining = true;
    try {
      return await run();
    } finally {
      joining = false;
    }
  };

  // Time-limited TURN credentials are pushed afresh before they expire, for as long as the connection lasts.
  let iceRenewal: ReturnType<typeof setInterval> | undefined;
  const renewIceServers = (id: string): void => {
    if (context.iceRenewMs === undefined) return;
    clearInterval(iceRenewal);
    iceRenewal = setInterval(() => socket.emit('ice:servers', { iceServers: context.iceServersFor(id) }), context.iceRenewMs);
  };
  socket.once('disconnect', () => clearInterval(iceRenewal));

  socket.on('join', handle('join', (payload) => {
    const request = parse(joinRequestSchema, payload);
    return once(async () => {
      const admitted = await admit(request);
      const { identity } = admitted;
      const credential = newCredential();
      const member = await register(participantIdFor(credential), admitted, request.room, 'join');
      metrics.joined('join');
      logger.info({ participant: member.id, room: request.room, name: identity.name }, 'participant joined');
      const ticket = context.ticketKey === undefined || request.token === undefined ? {} : { ticket: issueTicket(context.ticketKey, member.id, request.room, request.token) };
      renewIceServers(member.id);
      return { participant: toInfo(member), iceServers: context.iceServersFor(member.id), credential, limits: context.serviceLimits, ...ticket };
    });
  }));

  socket.on('resume', handle('resume', (payload) => {
    const request = parse(resumeRequestSchema, payload);
    return once(async () => {
      const id = participantIdFor(request.credential);
      const admitted = await admit(request, { id, ticket: request.ticket });
      // A resume with messaging on announces the participant again, as an enable does: it is
      // rationed alike, and refused before the connection is registered (the client retries later).
      if (request.messaging) rationEnable(rationKey(id, admitted.token), 'reconnecting (with messaging on) too often; retry in a few seconds');
      const { identity } = admitted;
      // The same participant on a connection not yet seen to drop, on this process or another: this one replaces it.
      const previous = (await directory.connections(id)).filter((s) => s.id !== socket.id);
      if (previous.some((s) => s.data?.room !== undefined && s.data.room !== request.room)) {
        throw new RoomError('UNAUTHORIZED', 'this credential belongs to another room');
      }
      const member = await register(id, admitted, request.room, 'resume');
      for (const stale of previous) stale.disconnect(true); // quiet: its process sees this connection still holds the id
      const participants = request.messaging ? await enableMessaging(true) : [];
      metrics.joined('resume');
      logger.info({ participant: id, room: request.room, name: identity.name, replaced: previous.length }, 'participant resumed');
      renewIceServers(id);
      return { participant: toInfo(member), iceServers: context.iceServersFor(id), participants: participants.map(toInfo), limits: context.serviceLimits };
    });
  }));

  socket.on('leave', handle('leave', () => {
    self();
    const member = forget();
    if (member === undefined) return undefined;
    if (member.messaging) socket.to(rooms.enabled(member.room)).emit('participant:removed', { id: member.id, reason: 'left' });
    metrics.left('left');
    logger.info({ participant: member.id, room: member.room }, 'participant left');
    armJoinDeadline();
    return undefined;
  }));

  socket.on('messaging:enable', handle('messaging:enable', async () => ({ participants: (await enableMessaging()).map(toInfo) })));

  socket.on('messaging:disable', handle('messaging:disable', () => {
    const member = self();
    if (member.messaging) {
      stopMessaging(member);
      socket.to(rooms.enabled(member.room)).emit('participant:removed', { id: member.id, reason: 'disabled' });
      metrics.left('disabled');
    }
    return undefined;
  }));

  socket.on('attributes:set', handle('attributes:set', (payload) => {
    const { attributes } = parse(setAttributesRequestSchema, payload);
    const locked = Object.keys(attributes).find((key) => socket.data.lockedAttributes.includes(key));
    if (locked !== undefined) throw new RoomError('UNAUTHORIZED', `attribute "${locked}" is set by your join token and cannot be changed`);
    if ('name' in attributes && (typeof attributes['name'] !== 'string' || attributes['name'].length === 0)) {
      throw new RoomError('INVALID_MESSAGE', 'attributes.name must be a non-empty string');
    }
    const member = self();
    const merged = { ...member.attributes, ...attributes };
    const problem = attributesProblem(merged, context.serviceLimits);
    if (problem !== undefined) {
      metrics.limitHit('attributes');
      throw problem;
    }
    socket.data.attributes = merged;
    const updated = self();
    if (updated.messaging) socket.to(rooms.enabled(updated.room)).emit('participant:updated', toInfo(updated));
    return { participant: toInfo(updated) };
  }));

  socket.on('token:update', handle('token:update', (payload) => renew(parse(tokenUpdateRequestSchema, payload))));

  // A peer whose link died asks whether the participant is still here: a process that died
  // took its participants without a word, and this is how their peers learn it.
  socket.on('presence:check', handle('presence:check', async (payload) => {
    const { id } = parse(presenceRequestSchema, payload);
    const member = self();
    if (!member.messaging) throw new RoomError('NOT_ENABLED', 'enable messaging first');
    // null: some process did not answer, and this one does not have it (the client then keeps waiting, as for no answer).
    return { present: (await directory.presence(id, member.room)) ?? null };
  }));

  socket.on('signal', handle('signal', async (payload) => {
    const request = parse(signalRequestSchema, payload);
    const member = self();
    if (!member.messaging || request.to === member.id) throw notFound(request.to);
    // Sent at once, so signals keep their order; the address reaches no one outside the room.
    io.to(rooms.reachable(request.to, member.room)).emit('signal', { from: member.id, sid: request.sid, data: request.data });
    metrics.signalRelayed();
    // Only feedback: a lookup that fails (Redis slow or gone) says nothing either way.
    const reachable = await directory.isReachable(request.to, member.room).catch(() => undefined);
    if (reachable === false) throw notFound(request.to);
    return undefined;
  }));

  relayHandler(socket, context, self);

  socket.on('disconnect', (reason, description) => {
    clearTimeout(deadline);
    // A payload over maxPayloadBytes ends the connection inside Socket.IO, silently: say so here.
    // Anything else (a tab closed, a network gone) is an ordinary end, logged at debug.
    const detail = String((description as { message?: string } | undefined)?.message ?? '');
    const fields = { socket: socket.id, participant: socket.data.participantId, reason, detail };
    if (reason === 'parse error' || /max payload size|too large/i.test(detail)) {
      metrics.limitHit('payload_size');
      logger.warn(fields, 'connection dropped: a payload over maxPayloadBytes, or one that does not parse');
    } else logger.debug(fields, 'connection closed');
    const member = forget();
    if (member === undefined) return;
    // The service stopping or draining is not anyone leaving: peers keep their links and presence.
    if (reason === 'server shutting down' || context.draining()) return metrics.left('moved');
    // A client that disconnects on purpose has left; a dropped connection may come back (resume);
    // one that went silent (no FIN: a hung process, a lost network) may be back soonest of all.
    const removal = reason === 'client namespace disconnect' ? 'left' : reason === 'ping timeout' ? 'unresponsive' : 'disconnected';
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
 * Every incoming packet but relayed ones passes the client's FloodLimiter. A dropped one is
 * answered with RATE_LIMITED (at most once a second) and logged; a flood is disconnected.
 */
function limitRate(socket: RoomSocket, context: HandlerContext): void {
  const limiter = new FloodLimiter(context.rate, Date.now());
  let lastNotice = 0;
  socket.use((packet, next) => {
    const event = typeof packet[0] === 'string' ? packet[0] : 'unknown';
    if (event === 'relay') return next(); // metered in bytes by relayHandler
    const request: unknown = packet[1];
    const target = event === 'signal' && typeof request === 'object' && request !== null ? String((request as { to?: unknown }).to).slice(0, 64) : undefined;
    const now = Date.now();
    const verdict = limiter.admit(now, target);
    if (verdict === 'pass') return next();
    context.metrics.limitHit('signal_rate');
    if (verdict === 'disconnect') {
      context.logger.warn({ socket: socket.id, participant: socket.data.participantId, event }, 'client disconnected for flooding');
      socket.disconnect(true);
      return;
    }
    if (now - lastNotice >= 1000) {
      lastNotice = now;
      context.logger.warn({ socket: socket.id, participant: socket.data.participantId, event }, 'rate limit hit; packets dropped');
      const perTarget = target === undefined ? '' : ` (or ${context.rate.perTargetPerSecond} signals per second to one participant)`;
      socket.emit('failure', { code: 'RATE_LIMITED', message: `more than ${context.rate.perSecond} messages per second${perTarget}; slow down`, event });
    }
  });
}
