/**
 * The client's side of the signaling contract: the only module that knows socket.io-client.
 * Requests are acknowledged emits with a timeout; a refusal becomes the service's RoomError.
 * Given several service URLs (processes sharing rooms through Redis), each reconnection
 * attempt tries the next one, so a client fails over when its process dies or drains.
 */
import { io, type Socket } from 'socket.io-client';
import { RoomError, isErrorCode, toRoomError } from '../protocol/errors.js';
import type { ClientToServerEvents, Reply, Requests, ServerToClientEvents, SignalRequest } from '../protocol/signaling.js';

export interface SignalClientOptions {
  /** The service's processes; the first is tried first. */
  urls: readonly string[];
  requestTimeoutMs: number;
  /** Reconnection backoff: the first delay, doubling (with jitter) up to the maximum. */
  reconnectDelayMs: number;
  reconnectMaxDelayMs: number;
  /** Start on HTTP long-polling, upgrading to WebSocket where the network allows (else WebSocket only). */
  longPolling: boolean;
  onDisconnect(reason: string): void;
  /** The connection is back after a drop (not the first connect): time to resume. */
  onReconnect(): void;
}

/** A connection refused by the service's middleware carries the refusal's code as `data`. */
const isRefusal = (error: Error): error is Error & { data: { code: import('../protocol/errors.js').ErrorCode } } =>
  isErrorCode((error as { data?: { code?: unknown } }).data?.code);

/**
 * How long the service may take to answer the check a quiet link prompts (`verify`) before the
 * connection counts as dead. Its own ping (5 s + 5 s) finds a dead connection only after ~10 s;
 * a host that moved to another network (its TCP connection gone with its old address) learns it
 * from this within a second or two, and reconnects.
 */
export const SERVICE_CHECK_MS = 1_500;

/** On `service:closing`, each client waits a random moment up to this long (and under half the drain) before moving. */
const MOVE_SPREAD_MS = 500;

export class SignalClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private at = 0;
  /** Set between `service:closing` and the drop that follows it. */
  private moving = false;
  private moveTimer: ReturnType<typeof setTimeout> | undefined;
  /** A `verify` under way. */
  private verifying = false;

  constructor(private readonly options: SignalClientOptions) {
    this.socket = io(this.url, {
      autoConnect: false,
      forceNew: true, // this client's own connection: its address changes on fail-over
      // Socket.IO reconnects with backoff; the RoomClient then resumes as the same participant.
      reconnection: true,
      reconnectionDelay: options.reconnectDelayMs,
      reconnectionDelayMax: options.reconnectMaxDelayMs,
      randomizationFactor: 0.5,
      transports: options.longPolling ? ['polling', 'websocket'] : ['websocket'],
      timeout: options.requestTimeoutMs,
    });
    // Each attempt after a drop goes to the next process. (The Manager reads `uri` as it opens.)
    this.socket.io.on('reconnect_attempt', () => this.rotate());
    // The service disconnecting us on purpose ('io server disconnect', e.g. for flooding) is final.
    this.socket.on('disconnect', (reason) => {
      const moved = this.moving;
      this.moving = false;
      options.onDisconnect(moved ? 'service closing' : reason);
    });
    // The process is draining: move before it closes, spread out so that not everyone lands at once.
    this.socket.on('service:closing', ({ drainMs }) => {
      if (this.moving) return;
      this.moving = true;
      const spread = Math.min(MOVE_SPREAD_MS, Math.max(0, Number(drainMs) / 2 || 0));
      this.moveTimer = setTimeout(() => this.drop(), Math.random() * spread);
    });
    let connectedBefore = false;
    this.socket.on('connect', () => {
      if (connectedBefore) options.onReconnect();
      connectedBefore = true;
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** The process this client is connected to (or trying). */
  get url(): string {
    return this.options.urls[this.at] ?? '';
  }

  private rotate(): void {
    if (this.options.urls.length < 2) return;
    this.at = (this.at + 1) % this.options.urls.length;
    (this.socket.io as unknown as { uri: string }).uri = this.url;
  }

  /** Resolves once connected to one of the URLs; rejects when each has failed once. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      let failures = 0;
      const done = (error?: Error): void => {
        this.socket.off('connect', onConnect);
        this.socket.off('connect_error', onError);
        if (error === undefined) resolve();
        else if (isRefusal(error)) {
          // The service refused the connection itself (e.g. too many from this address): final, not a network error.
          this.socket.disconnect();
          reject(new RoomError(error.data.code, `the signaling service at ${this.url} refused the connection: ${error.message}`));
        } else {
          const where = this.options.urls.length === 1 ? `at ${this.url}` : `at any of ${this.options.urls.join(', ')}`;
          reject(new RoomError('SIGNALING_FAILED', `cannot reach the signaling service ${where}: ${whyUnreachable(error)}`, { cause: rootCause(error) }));
        }
      };
      const onConnect = (): void => done();
      // Socket.IO retries a failed first connection by itself; each retry takes the next URL.
      const onError = (error: Error): void => {
        if (isRefusal(error) || ++failures >= this.options.urls.length) done(error);
      };
      this.socket.on('connect', onConnect);
      this.socket.on('connect_error', onError);
      this.socket.connect();
    });
  }

  /** Listens to a push of the service; returns the function that stops listening. */
  on<E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]): () => void {
    this.socket.on(event, listener as never);
    return () => void this.socket.off(event, listener as never);
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

  /** Whether the service still has participant `id`; undefined when it cannot say (unreachable, timed out). */
  async isPresent(id: string): Promise<boolean | undefined> {
    try {
      const { present } = await this.request('presence:check', { id });
      return typeof present === 'boolean' ? present : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A direct link went quiet, which may mean this host's network changed under the connection
   * to the service as well: asks the service about `id`, and if no answer comes within
   * SERVICE_CHECK_MS while the connection still looks open, drops it so that Socket.IO
   * reconnects (and the room resumes) at once. `dead` is told when it does. One check at a time.
   */
  verify(id: string, dead: () => void = () => {}): void {
    if (this.verifying || !this.socket.connected) return;
    this.verifying = true;
    const asked = this.socket.id;
    this.socket.timeout(SERVICE_CHECK_MS).emit('presence:check', { id }, (error: Error | null) => {
      this.verifying = false;
      if (error === null || !this.socket.connected || this.socket.id !== asked) return;
      dead();
      this.drop();
    });
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
    clearTimeout(this.moveTimer);
    this.socket.io.removeAllListeners();
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}

/**
 * The error underneath a failed connection: in Node, the socket's own (ECONNREFUSED, ENOTFOUND,
 * …), not the transport error that wraps it with the whole WebSocket object, which printed as
 * dozens of lines of internals; elsewhere, the message alone.
 */
function rootCause(error: Error): Error {
  const detail = (error as { description?: { error?: unknown } | Error }).description;
  if (detail instanceof Error) return detail;
  if (detail?.error instanceof Error) return detail.error;
  return new Error(error.message);
}

/** What a failed connection says, in words: Node's transport errors carry the system's code; browsers say nothing more. */
function whyUnreachable(error: Error): string {
  const detail = (error as { description?: { message?: unknown; code?: unknown; error?: { code?: unknown } } }).description;
  const code = detail?.error?.code ?? detail?.code;
  const text = typeof detail?.message === 'string' ? detail.message : error.message;
  if (code === 'ECONNREFUSED') return `nothing is listening there (${text}); is the service running (\`npx roommesh serve\`), on this host and port?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name does not resolve (${text}); check the URL`;
  return `${text}; check that the URL is right and the service is running (\`npx roommesh serve\`)`;
}
