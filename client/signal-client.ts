/**
 * The client's side of the signaling contract: the only module that knows socket.io-client.
 * Requests are acknowledged emits with a timeout; a refusal becomes the service's RoomError.
 */
import { io, type Socket } from 'socket.io-client';
import { RoomError, toRoomError } from '../protocol/errors.js';
import type {
  ClientToServerEvents,
  EnableReply,
  JoinReply,
  JoinRequest,
  ParticipantInfo,
  Reply,
  ResumeReply,
  ResumeRequest,
  ServerToClientEvents,
  SetAttributesRequest,
  SignalRequest,
} from '../protocol/signaling.js';

/** The acknowledged requests: what each takes and what a success carries. */
interface Requests {
  join: { payload: [JoinRequest]; reply: JoinReply };
  resume: { payload: [ResumeRequest]; reply: ResumeReply };
  leave: { payload: []; reply: object };
  'messaging:enable': { payload: []; reply: EnableReply };
  'messaging:disable': { payload: []; reply: object };
  'attributes:set': { payload: [SetAttributesRequest]; reply: { participant: ParticipantInfo } };
}

export interface SignalClientOptions {
  url: string;
  requestTimeoutMs: number;
  /** Reconnection backoff: the first delay, doubling (with jitter) up to the maximum. */
  reconnectDelayMs: number;
  reconnectMaxDelayMs: number;
  onDisconnect(reason: string): void;
  /** The connection is back after a drop (not the first connect): time to resume. */
  onReconnect(): void;
}

export class SignalClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;

  constructor(private readonly options: SignalClientOptions) {
    this.socket = io(options.url, {
      autoConnect: false,
      // Socket.IO reconnects with backoff; the RoomClient then resumes as the same participant.
      reconnection: true,
      reconnectionDelay: options.reconnectDelayMs,
      reconnectionDelayMax: options.reconnectMaxDelayMs,
      randomizationFactor: 0.5,
      transports: ['websocket'],
      timeout: options.requestTimeoutMs,
    });
    // The service disconnecting us on purpose ('io server disconnect', e.g. for flooding) is final.
    this.socket.on('disconnect', (reason) => options.onDisconnect(reason));
    let connectedBefore = false;
    this.socket.on('connect', () => {
      if (connectedBefore) options.onReconnect();
      connectedBefore = true;
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        this.socket.off('connect', onConnect);
        this.socket.off('connect_error', onError);
        if (error === undefined) resolve();
        else reject(new RoomError('SIGNALING_FAILED', `cannot reach the signaling service at ${this.options.url}: ${error.message}`, { cause: error }));
      };
      const onConnect = (): void => done();
      const onError = (error: Error): void => done(error);
      this.socket.on('connect', onConnect);
      this.socket.on('connect_error', onError);
      this.socket.connect();
    });
  }

  on<E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]): void {
    this.socket.on(event, listener as never);
  }

  async request<E extends keyof Requests>(event: E, ...payload: Requests[E]['payload']): Promise<Requests[E]['reply']> {
    if (!this.socket.connected) throw new RoomError('SIGNALING_FAILED', 'not connected to the signaling service');
    let reply: Reply;
    try {
      const emitter = this.socket.timeout(this.options.requestTimeoutMs) as unknown as {
        emitWithAck(event: string, ...args: unknown[]): Promise<Reply>;
      };
      reply = await emitter.emitWithAck(event, ...payload);
    } catch (error) {
      if (!this.socket.connected) throw new RoomError('SIGNALING_FAILED', `lost the signaling service during "${event}"`, { cause: error });
      throw new RoomError('TIMEOUT', `the signaling service did not answer "${event}" within ${this.options.requestTimeoutMs} ms`, { cause: error });
    }
    if (!reply.ok) throw toRoomError(reply.error);
    return reply as Requests[E]['reply'];
  }

  signal(request: SignalRequest): void {
    if (this.socket.connected) this.socket.emit('signal', request);
  }

  /** Sends one packet through the service's relay; `done` when it was forwarded or refused. */
  relay(to: string, sid: string, data: Uint8Array, done: (ok: boolean, reason: string) => void): void {
    if (!this.socket.connected) return done(false, 'not connected to the signaling service');
    this.socket.timeout(this.options.requestTimeoutMs).emit('relay', { to, sid, data }, (error: Error | null, reply: Reply) => {
      if (error !== null) done(false, 'the service did not acknowledge a relayed packet in time');
      else if (!reply.ok) done(false, reply.error.message);
      else done(true, '');
    });
  }

  /** Drops the connection so that Socket.IO reconnects (and the room resumes) afresh. */
  drop(): void {
    this.socket.io.engine?.close();
  }

  close(): void {
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
