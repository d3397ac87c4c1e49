/**
 * RoomClient: joins a room through the signaling service and owns the local participant
 * and the messaging client. The service carries signaling only: losing it does not stop
 * open data channels, and is reported as `disconnected`.
 */
import { RoomError } from '../protocol/errors.js';
import { PROTOCOL_VERSION, type IceServer } from '../protocol/signaling.js';
import { TypedEmitter } from './emitter.js';
import { MessagingClient } from './messaging-client.js';
import { DEFAULTS, consoleLogger, type Logger, type RoomClientOptions, type Tunables } from './options.js';
import { LocalParticipant } from './participant.js';
import { SignalClient } from './signal-client.js';
import { checkAttributes, isPlainObject } from './validate.js';

export type RoomState = 'new' | 'starting' | 'started' | 'closed';

export interface RoomEvents {
  /** The connection to the signaling service was lost; open data channels keep working. */
  disconnected: (reason: string) => void;
  /** The connection to the signaling service is back (reserved: rejoining is not implemented yet). */
  reconnected: () => void;
  /** `close()` finished. */
  closed: () => void;
}

function checkOptions(options: RoomClientOptions): Tunables {
  if (!isPlainObject(options)) throw new RoomError('INVALID_ARGUMENT', 'new RoomClient({ url, room, name }) takes an options object');
  for (const key of ['url', 'room', 'name'] as const) {
    const value: unknown = options[key];
    if (typeof value !== 'string' || value.length === 0) throw new RoomError('INVALID_ARGUMENT', `option \`${key}\` must be a non-empty string`);
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
  if (tunables.lowWaterMarkBytes > tunables.highWaterMarkBytes) {
    throw new RoomError('INVALID_ARGUMENT', '`lowWaterMarkBytes` must not exceed `highWaterMarkBytes`');
  }
  return tunables;
}

export class RoomClient extends TypedEmitter<RoomEvents> {
  readonly messaging: MessagingClient;
  readonly localParticipant: LocalParticipant;
  private _state: RoomState = 'new';
  private signaling: SignalClient | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private iceServers: IceServer[] = [];
  private readonly logger: Logger;
  private readonly tunables: Tunables;

  /** Throws a RoomError (INVALID_ARGUMENT) synchronously when the options are malformed. */
  constructor(private readonly options: RoomClientOptions) {
    super();
    const tunables = checkOptions(options);
    this.tunables = tunables;
    this.logger = options.logger ?? consoleLogger;
    this.localParticipant = new LocalParticipant(async (attributes) => {
      const signaling = this.usableSignaling();
      if (signaling instanceof RoomError) throw signaling;
      return (await signaling.request('attributes:set', { attributes })).participant;
    });
    this.messaging = new MessagingClient({
      signaling: () => this.usableSignaling(),
      iceServers: () => this.options.iceServers ?? this.iceServers,
      rtc: options.rtc,
      rtcConfig: options.rtcConfig ?? {},
      tunables,
      logger: this.logger,
    });
  }

  get state(): RoomState {
    return this._state;
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

  private async join(): Promise<void> {
    this._state = 'starting';
    const signaling = new SignalClient({
      url: this.options.url,
      requestTimeoutMs: this.tunables.requestTimeoutMs,
      onDisconnect: (reason) => {
        if (this._state === 'closed') return;
        this.logger.warn({ reason }, 'lost the signaling service; open data channels keep working');
        this.emit('disconnected', reason);
      },
    });
    this.signaling = signaling;
    signaling.on('participant:enabled', (info) => this.messaging._participantEnabled(info));
    signaling.on('participant:removed', ({ id, reason }) => this.messaging._participantRemoved(id, reason));
    signaling.on('participant:updated', (info) => this.messaging._participantUpdated(info));
    signaling.on('signal', (envelope) => this.messaging._signal(envelope));
    signaling.on('failure', (failure) => this.logger.warn({ ...failure }, 'the signaling service refused a message'));
    try {
      await signaling.connect();
      const { options } = this;
      const reply = await signaling.request('join', {
        v: PROTOCOL_VERSION,
        room: options.room,
        name: options.name,
        ...(options.role === undefined ? {} : { role: options.role }),
        ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
        ...(options.token === undefined ? {} : { token: options.token }),
      });
      if (this.isClosed()) throw new RoomError('CLOSED', 'the room was closed while joining');
      this.iceServers = reply.iceServers;
      this.localParticipant._assign(reply.participant);
      this._state = 'started';
    } catch (error) {
      signaling.close();
      if (!this.isClosed()) this._state = 'new';
      this.starting = undefined;
      this.signaling = undefined;
      throw error;
    }
  }

  private async shutdown(): Promise<void> {
    const wasStarted = this._state === 'started';
    this._state = 'closed';
    await this.messaging._close(new RoomError('CLOSED', 'the room was closed before the message was delivered'));
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
    if (!this.signaling.connected) return new RoomError('SIGNALING_FAILED', 'the signaling service is unreachable');
    return this.signaling;
  }
}
