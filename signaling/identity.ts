/**
 * Admission: who a joining or resuming connection may be, and putting it in its room. The
 * identity comes from the join token when the service has a secret, never from the client's
 * claims; a resume must prove its earlier admission (its ticket, signaling/tickets.ts). A
 * room's and the service's limits are counted across every process, and so is a token's
 * holding: one live participant per token (a join takes over), or up to a shared token's cap.
 * Participant ids are derived from credentials, so a restarted service can take one back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { RoomError } from '../protocol/errors.js';
import type { JsonValue } from '../protocol/json.js';
import type { ServiceLimits } from '../protocol/limits.js';
import type { JoinProof } from '../protocol/key-binding.js';
import type { JoinRequest, TokenUpdateRequest } from '../protocol/signaling.js';
import { checkJoinProof, verifyToken, type TokenIdentity, type TokenKeys } from './auth.js';
import type { HandlerContext, RoomSocket } from './context.js';
import { memberFrom, rooms, type Member } from './directory.js';
import { checkTicket, issueTicket } from './tickets.js';

/** 256 random bits, URL-safe: the secret a participant resumes with. */
export const newCredential = (): string => randomBytes(32).toString('base64url');

/**
 * A participant's id: 128 bits of SHA-256 of its credential. Ids cannot be guessed, and
 * only the holder of the credential can claim one, even from a restarted service.
 */
export const participantIdFor = (credential: string): string => createHash('sha256').update(credential).digest().subarray(0, 16).toString('base64url');

/** Why `attributes` may not be a participant's, or undefined when they may. */
export function attributesProblem(attributes: Record<string, JsonValue>, limits: ServiceLimits): RoomError | undefined {
  const count = Object.keys(attributes).length;
  if (count > limits.maxAttributes) return new RoomError('INVALID_MESSAGE', `a participant may have at most ${limits.maxAttributes} attributes (this would make ${count})`);
  const bytes = Buffer.byteLength(JSON.stringify(attributes));
  if (bytes > limits.maxAttributeBytes) return new RoomError('MESSAGE_TOO_LARGE', `a participant's attributes may take at most ${limits.maxAttributeBytes} bytes as JSON (these would take ${bytes})`);
  return undefined;
}

export type Identity = { name: string; role: string; attributes: Record<string, JsonValue> };
/** The token a participant holds: its key (what makes two joins the same token) and how many may hold it at once. */
export type Holding = { key: string; share: number };


export interface Admission {
  identity: Identity;
  /** Attribute names the token set, which the participant may not change. */
  locked: string[];
  token: Holding | undefined;
}

/**
 * Whose budget an enable spends: a token held by one participant at a time (its `jti`), so that
 * rejoining with the same token (a fresh participant id) does not refill it; else (an open
 * service, or a token shared by a fleet) the participant's id.
 */
export const rationKey = (id: string, token: Holding | undefined): string => (token !== undefined && token.share === 1 ? `token:${token.key}` : id);

/** The participant a connection speaks for; NOT_STARTED before it joined. */
export function memberOf(socket: RoomSocket): Member {
  const member = memberFrom(socket.data);
  if (member === undefined) throw new RoomError('NOT_STARTED', 'join a room first');
  return member;
}

/** Admission for one connection. */
export function admission(socket: RoomSocket, context: HandlerContext) {
  const { io, directory, logger, metrics } = context;
  const self = (): Member => memberOf(socket);
  /**
   * Who the request may be: from the token when the service has a secret, never from the
   * client's claims. A resume must carry the ticket its join was given, for the same id, room
   * and token: only then may the token have expired (up to `resumeGraceSeconds` ago).
   */
  /** What `token` grants in `room`, with the proof of holding the key it binds (if it binds one) checked; UNAUTHORIZED otherwise. */
  const grant = async (tokens: TokenKeys, token: string | undefined, proof: JoinProof | undefined, room: string, expiredGraceSeconds = 0): Promise<TokenIdentity> => {
    const granted = await verifyToken(tokens, token, room, { expiredGraceSeconds });
    if (typeof granted === 'string') throw new RoomError('UNAUTHORIZED', granted);
    const unproven = granted.jkt === undefined || token === undefined ? undefined : checkJoinProof(granted.jkt, proof, room, token);
    if (unproven !== undefined) throw new RoomError('UNAUTHORIZED', unproven);
    return granted;
  };

  const admit = async (request: JoinRequest, resume?: { id: string; ticket: string | undefined }): Promise<Admission> => {
    let identity: Identity;
    let locked: string[] = [];
    let token: Holding | undefined;
    if (context.tokens !== undefined) {
      if (resume !== undefined && (context.ticketKey === undefined || request.token === undefined || !checkTicket(context.ticketKey, resume.ticket, resume.id, request.room, request.token))) {
        throw new RoomError('UNAUTHORIZED', 'this service never admitted this participant with this token (no valid resume ticket); join instead');
      }
      const granted = await grant(context.tokens, request.token, request.proof, request.room, resume === undefined ? 0 : context.resumeGraceSeconds);
      identity = { name: granted.name, role: granted.role, attributes: { ...request.attributes, ...granted.attributes } };
      locked = ['name', ...Object.keys(granted.attributes)];
      token = { key: granted.key, share: granted.share };
    } else {
      if (request.name === undefined) throw new RoomError('INVALID_MESSAGE', 'name: required (this service has no secret, so no token names you)');
      identity = { name: request.name, role: request.role ?? 'participant', attributes: request.attributes ?? {} };
    }
    const problem = attributesProblem({ ...identity.attributes, name: identity.name }, context.serviceLimits);
    if (problem !== undefined) {
      metrics.limitHit('attributes');
      throw problem;
    }
    if (!socket.connected) throw new RoomError('CLOSED', 'the connection closed while joining');
    return { identity, locked, token };
  };

  /**
   * Puts this connection in `room` as `id`, within the room and service limits (counted
   * across every process) and its token's: a token held by another participant already is
   * taken over by a join (the other is told, and dropped) and refused to a resume (it was
   * replaced); a shared token admits up to its `share` at once.
   */
  const register = (id: string, { identity, locked, token }: Admission, room: string, kind: 'join' | 'resume'): Promise<Member> =>
    context.joinLock.run(room, async () => {
      let replaced: string[] = [];
      if (token !== undefined) {
        const holders = (await directory.tokenHolders(token.key, room)).filter((holder) => holder !== id);
        if (token.share > 1 && holders.length >= token.share) {
          metrics.limitHit('token_share');
          throw new RoomError('UNAUTHORIZED', `this join token admits at most ${token.share} participants at once, and ${holders.length} hold it now`);
        }
        if (token.share === 1 && holders.length > 0) {
          if (kind === 'resume') throw new RoomError('UNAUTHORIZED', 'a newer join with the same token replaced this participant');
          replaced = holders;
        }
      }
      const others = (await directory.members(room)).filter((m) => m.id !== id && !replaced.includes(m.id));
      if (others.length >= context.limits.maxParticipantsPerRoom) {
        metrics.limitHit('room_full');
        throw new RoomError('ROOM_FULL', `room "${room}" is full`);
      }
      if (!directory.hostsLocally(room) && directory.localRoomCount() >= context.limits.maxRooms) {
        metrics.limitHit('service_full');
        throw new RoomError('SERVICE_FULL', 'this service hosts as many rooms as it may; try again later');
      }
      if (!socket.connected) throw new RoomError('CLOSED', 'the connection closed while joining');
      Object.assign(socket.data, { participantId: id, room, role: identity.role, attributes: { ...identity.attributes, name: identity.name }, messaging: false });
      socket.data.lockedAttributes = locked;
      socket.data.rationKey = rationKey(id, token);
      if (token !== undefined) socket.data.tokenKey = token.key;
      void socket.join([rooms.all(room), rooms.participant(id), ...(token === undefined ? [] : [rooms.token(token.key, room)])]);
      if (token !== undefined && replaced.length > 0) {
        // The notice and then the disconnect go down each replaced connection in order, on whichever process holds it.
        const holders = io.to(rooms.token(token.key, room)).except(rooms.participant(id));
        holders.emit('session:replaced', { message: 'a newer join with the same token took your place in the room' });
        io.in(rooms.token(token.key, room)).except(rooms.participant(id)).disconnectSockets(false);
        logger.info({ participant: id, room, replaced }, 'a join with the same token replaced a participant');
      }
      return self();
    });

  /**
   * A fresh token for this participant (its session outlives the first): checked as at join,
   * naming the same participant; the connection holds it from now on, and a resume presents it
   * with the ticket returned. Role and token attributes stay as the join set them.
   */
  const renew = async (request: TokenUpdateRequest): Promise<{ ticket?: string }> => {
    const member = self();
    if (context.tokens === undefined) throw new RoomError('INVALID_MESSAGE', 'this service runs without a secret or issuer key: it takes no join tokens');
    const granted = await grant(context.tokens, request.token, request.proof, member.room);
    const name = member.attributes['name'];
    if (granted.name !== name) throw new RoomError('UNAUTHORIZED', `the new token names "${granted.name}", and this participant is "${String(name)}"`);
    if (!socket.connected) throw new RoomError('CLOSED', 'the connection closed while the token was checked');
    const previous = socket.data.tokenKey;
    if (previous !== undefined && previous !== granted.key) void socket.leave(rooms.token(previous, member.room));
    void socket.join(rooms.token(granted.key, member.room));
    socket.data.tokenKey = granted.key;
    socket.data.rationKey = rationKey(member.id, { key: granted.key, share: granted.share });
    logger.info({ participant: member.id, room: member.room }, 'participant renewed its join token');
    return context.ticketKey === undefined ? {} : { ticket: issueTicket(context.ticketKey, member.id, member.room, request.token) };
  };

  return { admit, register, renew };
}
