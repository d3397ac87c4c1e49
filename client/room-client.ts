/**
 * RoomClient: joins a room through the signaling service and owns the local participant
 * and the messaging client. The service carries signaling only: losing it does not stop
 * open data channels, and is reported as `disconnected`.
 */
import { RoomError } from '../protocol/errors.js';
import { MAX_NAME_CHARS, MAX_ROLE_CHARS, MAX_ROOM_CHARS, MAX_TOKEN_CHARS, type ServiceLimits } from '../protocol/limits.js';
import { PROTOCOL_VERSION, isDepartureRace, type IceServer } from '../protocol/signaling.js';
import { TypedEmitter } from './emitter.js';
import { MessagingClient } from './messaging-client.js';
import { messagingControl, type MessagingControl } from './messaging-context.js';
import { DEFAULTS, ROOM_OPTION_KEYS, RTC_STACK_NAMES, consoleLogger, type Logger, type RoomClientOptions, type Tunables } from './options.js';
import type { UntypedMessages } from './messages.js';
import { LocalParticipant } from './participant.js';
import { SignalClient } from './signal-client.js';
import { checkAttributes, checkKeys, isPlainObject } from './validate.js';
import { freshIdentity, identityFromSecretKey, type RoomIdentity } from './trust/identity.js';
import { checkOwnToken, checkTrustOptions, pinnedFingerprints } from './trust/trust.js';
import { boundThumbprint, issuerKeyBytes, joinProof } from './trust/token.js';
import type { JoinProof } from '../protocol/key-binding.js';

export type RoomState = 'new' | 'starting' | 'started' | 'closed';

export interface RoomEvents {
  /**
   * The connection to the signaling service was lost; open data channels keep working, and the
   * client reconnects. Two reasons are final, and the room closes (`closed` follows):
   * `'replaced'`, a newer join with the same token took this participant's place; and
   * `'io server disconnect'`, the service cut the connection on purpose (e.g. for flooding).
   */
  disconnected: (reason: string) => void;
  /** The client is back in the room as the same participant, presence re-synced. */
  reconnected: () => void;
  /** `close()` finished. */
  closed: () => void;
}

const nonEmpty = (value: unknown, max = Number.POSITIVE_INFINITY): boolean => typeof value === 'string' && value.length > 0 && value.length <= max;

/** Throws INVALID_ARGUMENT unless `token` could be a join token. */
function checkTokenText(token: unknown, what: string): void {
  if (!nonEmpty(token, MAX_TOKEN_CHARS)) throw new RoomError('INVALID_ARGUMENT', `${what} must be a non-empty string of at most ${MAX_TOKEN_CHARS} characters (a join token from createToken)`);
}

function checkOptions(options: RoomClientOptions): Tunables {
  if (!isPlainObject(options)) throw new RoomError('INVALID_ARGUMENT', 'new RoomClient({ url, room, name }) takes an options object');
  const unknown = checkKeys(options, ROOM_OPTION_KEYS, 'new RoomClient()');
  if (unknown !== undefined) throw unknown;
  if (!nonEmpty(options.room, MAX_ROOM_CHARS)) throw new RoomError('INVALID_ARGUMENT', `option \`room\` must be a non-empty string of at most ${MAX_ROOM_CHARS} characters`);
  if (options.role !== undefined && !nonEmpty(options.role, MAX_ROLE_CHARS)) throw new RoomError('INVALID_ARGUMENT', `option \`role\` must be a non-empty string of at most ${MAX_ROLE_CHARS} characters`);
  if (options.token !== undefined) checkTokenText(options.token, 'option `token`');
  if (options.name !== undefined ? !nonEmpty(options.name, MAX_NAME_CHARS) : options.token === undefined) {
    throw new RoomError('INVALID_ARGUMENT', `option \`name\` must be a non-empty string of at most ${MAX_NAME_CHARS} characters (it may be left out only with a \`token\`, which names you)`);
  }
  const urls: unknown[] = Array.isArray(options.url) ? options.url : [options.url];
  if (urls.length === 0 || urls.some((u) => typeof u !== 'string' || u.length === 0)) {
    throw new RoomError('INVALID_ARGUMENT', 'option `url` must be a non-empty string, or a non-empty array of them (the service\'s processes)');
  }
  for (const url of urls as string[]) {
    const problem = checkServiceUrl(url);
    if (problem !== undefined) throw new RoomError('INVALID_ARGUMENT', `option \`url\`: ${problem}`);
  }
  if (options.attributes !== undefined) {
    const problem = checkAttributes(options.attributes, 'option `attributes`');
    if (problem !== undefined) throw problem;
  }
  const tunables: Tunables = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Array<keyof Tunables>) {
    const value: unknown = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RoomError('INVALID_ARGUMENT', `option \`${key}\` must be a positive number`);
    }
    tunables[key] = value;
  }
  const { rtc } = options as { rtc?: unknown };
  if (typeof rtc === 'string' ? !(RTC_STACK_NAMES as readonly string[]).includes(rtc) : rtc !== undefined && typeof (rtc as { RTCPeerConnection?: unknown } | null)?.RTCPeerConnection !== 'function') {
    throw new RoomError('INVALID_ARGUMENT', `option \`rtc\` must be one of ${RTC_STACK_NAMES.map((n) => `'${n}'`).join(', ')}, or an implementation { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate }`);
  }
  if (options.relay !== undefined && typeof options.relay !== 'boolean') throw new RoomError('INVALID_ARGUMENT', 'option `relay` must be a boolean');
  checkTrustOptions(options);
  if (options.longPolling !== undefined && typeof options.longPolling !== 'boolean') throw new RoomError('INVALID_ARGUMENT', 'option `longPolling` must be a boolean');
  if (tunables.lowWaterMarkBytes > tunables.highWaterMarkBytes) {
    throw new RoomError('INVALID_ARGUMENT', '`lowWaterMarkBytes` must not exceed `highWaterMarkBytes`');
  }
  return tunables;
}

/** Whether `value` is a list of ICE servers as RTCPeerConnection takes them. */
function isIceServerList(value: unknown): value is IceServer[] {
  const text = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length < 2048;
  return (
    Array.isArray(value) &&
    value.length <= 16 &&
    value.every((server: { urls?: unknown; username?: unknown; credential?: unknown } | null) =>
      typeof server === 'object' && server !== null && (text(server.urls) || (Array.isArray(server.urls) && server.urls.length > 0 && server.urls.every(text))) && (server.username === undefined || text(server.username)) && (server.credential === undefined || text(server.credential)),
    )
  );
}

/** Why `url` cannot name a signaling service, if it cannot: it needs a scheme Socket.IO speaks. */
function checkServiceUrl(url: string): string | undefined {
  let scheme: string | undefined;
  try {
    scheme = new URL(url).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme !== undefined && ['http:', 'https:', 'ws:', 'wss:'].includes(scheme)) return undefined;
  const noScheme = scheme === undefined || !url.includes('://');
  return noScheme
    ? `${JSON.stringify(url)} has no scheme: write it in full, e.g. "http://${url}" (or https://, ws://, wss://)`
    : `${JSON.stringify(url)} is not an http(s) or ws(s) URL; the signaling service is reached at e.g. "http://127.0.0.1:8787"`;
}

/**
 * A participant's client of one room: `start()` joins it through the signaling service, and
 * `messaging` (after `enable()`) sends and receives. `M`, optional, is the room's message map
 * (type → body), e.g. `RoomClient<{ chat: Chat; file: FileMeta }>`: sends and requests are
 * checked against it, and received messages and requests narrow by `type`. `R`, optional, maps
 * request types to their replies' bodies, which handlers must return and `request()` resolves with.
 */
export class RoomClient<M extends object = UntypedMessages, R extends object = UntypedMessages> extends TypedEmitter<RoomEvents> {
  readonly messaging: MessagingClient<M, R>;
  private readonly control: MessagingControl;
  readonly localParticipant: LocalParticipant;
  /** This participant's identity key: its streams are bound to it (localParticipant.fingerprint). */
  private readonly identity: RoomIdentity;
  /** The join token: `options.token`, or what updateToken() replaced it with. */
  private token: string | undefined;
  private _state: RoomState = 'new';
  private signaling: SignalClient | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private iceServers: IceServer[] = [];
  /** What the service enforces, from its join (and resume) reply. */
  private serviceLimits: ServiceLimits | undefined;
  /** Proves who we are when resuming; from the join reply. */
  private credential: string | undefined;
  /** With a service that has a secret: proves it admitted us, so that it takes us back. */
  private ticket: string | undefined;
  private readonly logger: Logger;
  private readonly tunables: Tunables;
  /** Joined and, after any reconnection, rejoined: the service knows us on this connection. */
  private resumed = false;
  /** A rate-limited resume waits this out before trying again. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  /** Throws a RoomError (INVALID_ARGUMENT) synchronously when the options are malformed. */
  constructor(private readonly options: RoomClientOptions) {
    super();
    const tunables = checkOptions(options);
    this.tunables = tunables;
    this.logger = options.logger ?? consoleLogger;
    this.identity = options.identity === undefined ? freshIdentity() : identityFromSecretKey(options.identity.secretKey);
    checkOwnToken(options.token, this.identity, options.issuerKey);
    this.token = options.token;
    const issuerKey = issuerKeyBytes(options.issuerKey);
    this.localParticipant = new LocalParticipant(async (attributes) => {
      const signaling = this.usableSignaling();
      if (signaling instanceof RoomError) throw signaling;
      return (await signaling.request('attributes:set', { attributes })).participant;
    }, this.identity.fingerprint);
    this.messaging = new MessagingClient<M, R>({
      signaling: () => this.usableSignaling(),
      iceServers: () => this.options.iceServers ?? this.iceServers,
      serviceLimits: () => this.serviceLimits,
      rtc: options.rtc,
      rtcConfig: options.rtcConfig ?? {},
      relay: options.relay ?? true,
      tunables,
      logger: this.logger,
      localId: () => this.localParticipant.id,
      room: options.room,
      identity: this.identity,
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
      pinned: pinnedFingerprints(options.pinnedFingerprints),
      ...(issuerKey === undefined ? {} : { issuerKey }),
      token: () => this.token,
    });
    this.control = messagingControl(this.messaging);
  }

  get state(): RoomState {
    return this._state;
  }

  /**
   * Replaces the join token, for a session that outlives it. Once started, the service checks
   * it as at join (it must name the same participant) and from then on a resume (after a
   * dropped connection or a service restart) presents it; every stream's binding does too.
   * Before `start()`, it is simply the token the join will present. Rejects with
   * INVALID_ARGUMENT for a token that cannot be this client's (another identity key), with
   * UNAUTHORIZED for one the service refuses, and with SIGNALING_FAILED while the service is
   * unreachable (the old token stays: try again once `reconnected`).
   */
  async updateToken(token: string): Promise<void> {
    checkTokenText(token, 'updateToken(token): the token');
    checkOwnToken(token, this.identity, this.options.issuerKey);
    if (this._state === 'new') {
      this.token = token;
      return;
    }
    const signaling = this.usableSignaling();
    if (signaling instanceof RoomError) throw signaling;
    const reply = await signaling.request('token:update', this.tokenFields(token));
    this.token = token;
    this.ticket = reply.ticket ?? this.ticket;
  }

  /** The join token (ours now, or `token`) as a join, resume or renewal presents it: with the proof of holding the key it binds, if it binds one. */
  private tokenFields(): { token?: string; proof?: JoinProof };
  private tokenFields(token: string): { token: string; proof?: JoinProof };
  private tokenFields(token = this.token): { token?: string; proof?: JoinProof } {
    if (token === undefined) return {};
    return boundThumbprint(token) === undefined ? { token } : { token, proof: joinProof(this.identity, this.options.room, token) };
  }

  /** Joins the room; `localParticipant.id` is set when this resolves. Calling it again returns the same promise. */
  start(): Promise<void> {
    if (this._state === 'closed') return Promise.reject(new RoomError('CLOSED', 'this room client was closed; create a new RoomClient'));
    this.starting ??= this.join();
    return this.starting;
  }

  /** Leaves the room: says goodbye to every peer, tells the service, closes everything. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** ICE servers from the service (at join, resume, or pushed afresh): checked, as anything the service sends is; a bad list keeps the previous one. */
  private takeIceServers(servers: unknown): void {
    if (isIceServerList(servers)) this.iceServers = servers;
    else this.logger.warn({}, 'the service sent ICE servers that are not a list of { urls, username?, credential? }; kept the previous ones');
  }

  private async join(): Promise<void> {
    this._state = 'starting';
    const signaling = new SignalClient({
      urls: typeof this.options.url === 'string' ? [this.options.url] : [...this.options.url],
      requestTimeoutMs: this.tunables.requestTimeoutMs,
      reconnectDelayMs: this.tunables.reconnectDelayMs,
      reconnectMaxDelayMs: this.tunables.reconnectMaxDelayMs,
      longPolling: this.options.longPolling ?? false,
      onDisconnect: (reason) => {
        if (this._state !== 'started') return;
        if (reason === 'io server disconnect') {
          // The service cut this connection on purpose (flooding, say): Socket.IO does not reconnect after that, so the room is over.
          this.logger.warn({ reason }, 'the signaling service disconnected this participant; closing the room');
          this.emit('disconnected', reason);
          void this.close();
          return;
        }
        this.resumed = false;
        this.logger.warn({ reason }, 'lost the signaling service; open data channels keep working; reconnecting');
        this.control.signalingLost();
        this.emit('disconnected', reason);
      },
      onReconnect: () => void this.resume(),
    });
    this.signaling = signaling;
    // Presence pushes, signals and relayed frames go to the messaging client and its mesh, which subscribe while enabled.
    // Everything the service refuses is worth a warning, but an ordinary race (the peer's own removal follows).
    signaling.on('failure', (failure) => {
      (isDepartureRace(failure.event, failure.code) ? this.logger.debug : this.logger.warn).call(this.logger, { ...failure }, 'the signaling service refused a message');
    });
    // Someone joined with our token (one live participant per token): the room is theirs now.
    // Fresh TURN credentials before the last expire: links made from now on use them.
    signaling.on('ice:servers', (update) => this.takeIceServers((update as { iceServers?: unknown } | undefined)?.iceServers));
    signaling.on('session:replaced', ({ message }) => {
      if (this._state !== 'started') return;
      this.logger.warn({ reason: String(message) }, 'replaced by a newer join with the same token; closing the room');
      this.emit('disconnected', 'replaced');
      void this.close();
    });
    try {
      await signaling.connect();
      const { options } = this;
      const reply = await signaling.request('join', {
        v: PROTOCOL_VERSION,
        room: options.room,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.role === undefined ? {} : { role: options.role }),
        ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
        ...this.tokenFields(),
      });
      if (this.isClosed()) throw new RoomError('CLOSED', 'the room was closed while joining');
      this.takeIceServers(reply.iceServers);
      this.serviceLimits = reply.limits;
      this.credential = reply.credential;
      this.ticket = reply.ticket;
      this.localParticipant._assign(reply.participant);
      if (options.token !== undefined && reply.ticket === undefined) {
        this.logger.warn({ url: signaling.url }, 'this service runs without a secret: your token was not checked, and anyone who reaches it may join under any name');
      }
      const named = this.localParticipant.name;
      if (options.name !== undefined && named !== options.name) {
        this.logger.warn({ asked: options.name, named }, `option \`name\` ignored: your join token names you "${named ?? ''}"`);
      }
      this._state = 'started';
      this.resumed = true;
    } catch (error) {
      signaling.close();
      if (!this.isClosed()) this._state = 'new';
      this.starting = undefined;
      this.signaling = undefined;
      throw error;
    }
  }

  /**
   * Rejoins as the same participant after the connection came back, with the attributes it
   * had, and re-syncs presence. A refusal (say, the room filled up meanwhile) is final: the
   * room closes, with the reason logged.
   */
  private async resume(): Promise<void> {
    const signaling = this.signaling;
    if (this._state !== 'started' || signaling === undefined || this.credential === undefined) return;
    const { options } = this;
    const attributes = { ...this.localParticipant.attributes };
    delete attributes['name'];
    try {
      const reply = await signaling.request('resume', {
        v: PROTOCOL_VERSION,
        credential: this.credential,
        room: options.room,
        ...((this.localParticipant.name ?? options.name) === undefined ? {} : { name: this.localParticipant.name ?? options.name }),
        ...(options.role === undefined ? {} : { role: options.role }),
        attributes,
        ...this.tokenFields(),
        ...(this.ticket === undefined ? {} : { ticket: this.ticket }),
        messaging: this.control.wantsMessaging,
      });
      if (this._state !== 'started' || !signaling.connected) return;
      this.takeIceServers(reply.iceServers);
      this.serviceLimits = reply.limits;
      this.localParticipant._assign(reply.participant);
      this.resumed = true;
      this.control.resumed(reply.participants);
      this.logger.info({ participant: reply.participant.id }, 'rejoined the room after reconnecting');
      this.emit('reconnected');
    } catch (error) {
      if (this._state !== 'started') return;
      const code = error instanceof RoomError ? error.code : 'SIGNALING_FAILED';
      if (code === 'SIGNALING_FAILED' || code === 'TIMEOUT') {
        this.logger.warn({ err: error }, 'rejoining failed; will retry on the next reconnection');
        signaling.drop();
        return;
      }
      if (code === 'RATE_LIMITED') {
        // Reconnected too often for the service's taste: wait for its budget to refill, then try again.
        this.logger.warn({ err: error }, `rejoining was rate-limited; retrying in ${this.tunables.reconnectMaxDelayMs} ms`);
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          if (this._state === 'started' && !this.resumed) signaling.drop();
        }, this.tunables.reconnectMaxDelayMs);
        return;
      }
      this.logger.error({ err: error }, 'the service refused to take this participant back; closing the room');
      void this.close();
    }
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    const wasStarted = this._state === 'started';
    this._state = 'closed';
    await this.control.close(new RoomError('CLOSED', 'the room was closed before the message was delivered'));
    const signaling = this.signaling;
    this.signaling = undefined;
    if (signaling !== undefined) {
      if (wasStarted && signaling.connected) {
        await signaling.request('leave').catch((cause: unknown) => this.logger.debug({ cause }, 'leave not acknowledged'));
      }
      signaling.close();
    }
    this.emit('closed');
    this.removeAllListeners();
  }

  /** Read through a method: TypeScript would otherwise keep a narrowing across awaits. */
  private isClosed(): boolean {
    return this._state === 'closed';
  }

  private usableSignaling(): SignalClient | RoomError {
    if (this._state === 'closed') return new RoomError('CLOSED', 'this room client was closed');
    if (this._state !== 'started' || this.signaling === undefined) return new RoomError('NOT_STARTED', 'call room.start() and wait for it first');
    if (!this.signaling.connected || !this.resumed) return new RoomError('SIGNALING_FAILED', 'the signaling service is unreachable (reconnecting)');
    return this.signaling;
  }
}
