/**
 * createSignalingServer: an HTTP server that answers `/` with a page, `/healthz` and
 * `/metrics`, and carries the Socket.IO signaling endpoint; with `redisUrl`, one of several
 * processes sharing rooms through Redis. `close()` leaves no handle open; `close({ drainMs })`
 * first tells every client to move and waits for them.
 */
import { randomBytes, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { LevelWithSilent } from 'pino';
import { Server } from 'socket.io';
import type { IceServer } from '../protocol/signaling.js';
import { ConnectionsPerAddress, clientAddress, metricsAllowed, originAllowed } from './connections.js';
import { SERVER_DEFAULTS } from './defaults.js';
import { DEFAULT_PATIENCE, Directory, KeyedLock } from './directory.js';
import type { RoomServer } from './context.js';
import { tokenKeys } from './auth.js';
import { attachHandlers } from './handlers.js';
import { KeyedBuckets } from './rate-limit.js';
import { ticketKey as createTicketKey } from './tickets.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type LocalCounts } from './metrics.js';
import { connectRedis, describeTarget, type RedisLink, type RedisTarget } from './redis.js';
import { serveStatic } from './static.js';
import { turnCredentials, type TurnSettings } from './turn-credentials.js';

export { SERVER_DEFAULTS } from './defaults.js';

export interface SignalingServerOptions {
  /** Interface to listen on; default 127.0.0.1 (pass 0.0.0.0 to accept other machines). */
  host?: string;
  /** Port; 0 picks a free one. Default 8787. */
  port?: number;
  /** ICE servers handed to every participant at join. Default: none (host candidates only). */
  iceServers?: IceServer[];
  /**
   * A TURN server sharing `secret` (coturn: `use-auth-secret`, `static-auth-secret`): each
   * participant is handed its own credentials for `urls`, valid `ttlSeconds` (default 3600), at
   * join and resume, and pushed fresh ones before they expire.
   */
  turn?: TurnSettingsOption;
  /** Require a join token signed with this secret (see createToken). Without it (or `issuerKey`) the service is open to anyone who reaches it. */
  secret?: string | Uint8Array;
  /**
   * Or (and): require a join token signed (EdDSA) by the holder of this key's private half,
   * the `issuerKey` of generateTokenKeys(). The service then holds no secret that could mint a
   * token, and participants given the same key check each other's tokens themselves.
   * Resume tickets are then signed with a key of this process's own (a participant whose token
   * expired resumes only on the process that admitted it), unless `secret` is given too.
   */
  issuerKey?: JsonWebKey;
  /** `/metrics` answers only requests with `Authorization: Bearer <metricsToken>`. Default: it answers anyone who reaches the service. */
  metricsToken?: string;
  /**
   * Browser pages allowed to connect, by origin (`https://app.example.org`). A connection whose
   * `Origin` header is neither one of these nor the service's own (its demo page) is refused;
   * clients that send no Origin (Node agents) are not browsers, and are let in. Default: any.
   */
  allowedOrigins?: string[];
  /**
   * A participant resuming (after its connection dropped, or the service restarted) with the
   * ticket its join was given may present a token expired this long ago. Default 3600 s.
   */
  resumeGraceSeconds?: number;
  /** Serve HTTPS/WSS with this certificate and key (PEM). Default: plain HTTP (put a TLS proxy in front). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Participants one room admits before refusing with ROOM_FULL. Default 50. */
  maxParticipantsPerRoom?: number;
  /** Rooms the service hosts at once before refusing new ones with SERVICE_FULL. Default 10,000. */
  maxRooms?: number;
  /** Packets per second each client may send, and the burst above that rate. Defaults 200 and 400. */
  signalsPerSecond?: number;
  signalBurst?: number;
  /** Signals per second a client may send to any one participant, and the burst. Defaults 20 and 60 (a negotiation takes about ten). */
  signalsPerTargetPerSecond?: number;
  signalsPerTargetBurst?: number;
  /** Times per minute a participant may turn messaging on (each makes its peers build connections). Default 12, in bursts of up to 4. */
  enablesPerMinute?: number;
  /** Connections the service accepts from one client address at once. Default 32. */
  maxConnectionsPerAddress?: number;
  /**
   * The service is behind one proxy that appends the client's address to `X-Forwarded-For`:
   * count connections by that header's last entry, not the proxy's address. Default false
   * (the header is ignored: anyone can write it).
   */
  trustProxy?: boolean;
  /** A connection that has not joined a room this long after connecting is closed. Default 10 s. */
  joinTimeoutMs?: number;
  /** Attributes one participant may have, and their total size as JSON. Defaults 64 and 16 KiB. */
  maxAttributes?: number;
  maxAttributeBytes?: number;
  /** Largest signaling payload a client may send, in bytes. Default 64 KiB. */
  maxPayloadBytes?: number;
  /** Bytes per second each client may relay (pairs with no direct link), and the burst. Defaults 16 MiB/s and 4 MiB. */
  relayBytesPerSecond?: number;
  relayBurstBytes?: number;
  /**
   * How often the service pings each client, and how long it waits for the pong. Defaults
   * 2 s and 2 s: a client that vanished silently is reported `disconnected` within ~4 s.
   */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /**
   * Share rooms with every other service process on this Redis (`redis://host:6379`), through
   * the Socket.IO Redis adapter. Default: none, this process alone.
   */
  redisUrl?: string;
  /**
   * Or a Redis that fails over: `{ sentinel: { master, nodes: [{ host, port }, …] } }` (Redis
   * Sentinel), or `{ cluster: { nodes } }` (Redis Cluster, with the sharded adapter). `{ url }` is
   * `redisUrl`. Default: none.
   */
  redis?: RedisTarget;
  /** A pino logger, or the level for the built-in one (default `info`). */
  logger?: Logger;
  logLevel?: LevelWithSilent;
}

export interface CloseOptions {
  /**
   * Drain first: stop accepting connections, fail `/healthz`, tell every client to move
   * (`service:closing`), and wait up to this long for them to go before closing the rest.
   * Default 0: close at once (clients still reconnect on their own).
   */
  drainMs?: number;
}

export interface SignalingServer {
  /** `http://host:port`, ready for `new RoomClient({ url })`. */
  readonly url: string;
  readonly port: number;
  /** Rooms and participants connected to this process right now. */
  stats(): { rooms: number; participants: number };
  /** Closes the service; idempotent. With `drainMs`, clients are told to move first (see CloseOptions). */
  close(options?: CloseOptions): Promise<void>;
}


/** TURN credentials last an hour unless told otherwise, and fresh ones are pushed at 80 % of that. */
const DEFAULT_TURN_TTL_SECONDS = 3600;
const TURN_RENEW_AT = 0.8;

/** The `turn` option: a TURN server sharing a secret with the service. */
export interface TurnSettingsOption {
  /** The secret the TURN server checks credentials with (coturn: static-auth-secret). */
  secret: string;
  /** Its URLs, e.g. `turn:turn.example.org:3478?transport=udp`, `turns:turn.example.org:5349`. */
  urls: string[];
  /** How long each participant's credentials last. Default 3600. */
  ttlSeconds?: number;
}

/** The adapter's own bound on a cross-process question (the directory stops waiting sooner: DEFAULT_PATIENCE). */
const REDIS_REQUEST_TIMEOUT_MS = 2_000;

/** `promise`, or a rejection after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('deadline')), ms)))]).finally(() => clearTimeout(timer));
}
/** How long the service waits for Redis at start. */
const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** How long /healthz waits for Redis to answer a ping. */
const HEALTH_PING_TIMEOUT_MS = 1_000;

/**
 * Starts the signaling service: HTTP (the demo room page at `/`, `/healthz`, `/metrics`) and
 * Socket.IO, listening on `host`:`port` (port 0: any free port). It admits participants to
 * rooms, tracks who has messaging enabled, relays their offers, answers and ICE candidates, and
 * relays sealed messages for pairs that cannot link directly. Resolves once it listens.
 */
export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const settings = { ...SERVER_DEFAULTS, ...options };
  const turn: TurnSettings | undefined = options.turn === undefined ? undefined : { ttlSeconds: DEFAULT_TURN_TTL_SECONDS, ...options.turn };
  const logger = options.logger ?? createLogger(options.logLevel);
  const scheme = options.tls === undefined ? 'http' : 'https';
  // Read only once the server below exists (metrics are rendered, health is checked, after listening).
  const sample = (): LocalCounts => {
    const sockets = server.of('/').sockets;
    const inRooms = new Set<string>();
    let participants = 0;
    for (const socket of sockets.values()) {
      if (socket.data.participantId === undefined || socket.data.room === undefined) continue;
      participants++;
      inRooms.add(socket.data.room);
    }
    return { rooms: inRooms.size, participants, connections: sockets.size };
  };
  const metrics = createMetrics(sample);
  let redis: RedisLink | undefined;
  let draining = false;

  const health = async (): Promise<{ ok: boolean; body: object }> => {
    const redisUp = redis === undefined ? undefined : await redis.healthy(HEALTH_PING_TIMEOUT_MS);
    const ok = !draining && redisUp !== false;
    // The processes this one reaches through Redis (itself included): how many subscribe to the adapter's channels now.
    const servers = redisUp !== true ? undefined : await withDeadline(server.of('/').adapter.serverCount(), HEALTH_PING_TIMEOUT_MS).catch(() => undefined);
    return { ok, body: { status: ok ? 'ok' : 'unavailable', draining, redis: redisUp === undefined ? 'none' : redisUp ? 'up' : 'down', ...(servers === undefined ? {} : { servers }), ...sample() } };
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/socket.io/')) return; // Socket.IO answers these
    if (request.method === 'GET' && path === '/healthz') {
      void health().then(({ ok, body }) => response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`));
      return;
    }
    if (request.method === 'GET' && path === '/metrics') {
      if (!metricsAllowed(request.headers.authorization, options.metricsToken)) {
        response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('this service\'s /metrics needs its bearer token (metricsToken, --metrics-token)\n');
        return;
      }
      void metrics.render().then(
        (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: unknown) => {
          logger.error({ err: error }, 'metrics failed');
          response.writeHead(500).end();
        },
      );
      return;
    }
    if (request.method === 'GET' && serveStatic(path, response)) return;
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };
  const http = options.tls === undefined ? createServer(onRequest) : createTlsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest);
  const redisTarget: RedisTarget | undefined = options.redis ?? (options.redisUrl === undefined ? undefined : { url: options.redisUrl });
  if (redisTarget !== undefined) {
    redis = await connectRedis({ target: redisTarget, logger, connectTimeoutMs: REDIS_CONNECT_TIMEOUT_MS, requestsTimeoutMs: REDIS_REQUEST_TIMEOUT_MS, onPublishFailed: () => metrics.redisPublishFailed() });
  }
  const server: RoomServer = new Server(http, {
    maxHttpBufferSize: settings.maxPayloadBytes,
    pingInterval: settings.pingIntervalMs,
    pingTimeout: settings.pingTimeoutMs,
    serveClient: false,
    ...(redis === undefined ? {} : { adapter: redis.adapter }),
    ...(options.allowedOrigins === undefined
      ? {}
      : {
          allowRequest: (request, callback) => {
            const allowed = originAllowed(request.headers.origin, request.headers.host, options.allowedOrigins ?? []);
            if (!allowed) logger.warn({ origin: request.headers.origin }, 'connection refused: its page\'s origin is not in allowedOrigins');
            callback(allowed ? null : 'this page\'s origin may not use this service (allowedOrigins, --allowed-origins)', allowed);
          },
        }),
  });
  const directory = new Directory(
    {
      fetch: (room) => server.in(room).fetchSockets(),
      ...(redis === undefined ? {} : { fetchLocal: (room: string) => server.in(room).local.fetchSockets() }),
      localRooms: () => server.of('/').adapter.rooms,
    },
    undefined,
    {
      ...DEFAULT_PATIENCE,
      onMiss: () => {
        metrics.unansweredQuery();
        if (Date.now() - lastMissLogged < 5_000) return;
        lastMissLogged = Date.now();
        logger.warn({ waitedMs: DEFAULT_PATIENCE.deadlineMs }, 'another service process did not answer in time (hung, or Redis is down); answering from this process alone');
      },
    },
  );
  let lastMissLogged = 0;
  const joinLock = new KeyedLock();
  const tokens = tokenKeys(options);
  const ticketKey = tokens === undefined ? undefined : createTicketKey(options.secret ?? randomBytes(32));
  const perAddress = new ConnectionsPerAddress(settings.maxConnectionsPerAddress);
  server.use((socket, next) => {
    const address = clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for'], settings.trustProxy);
    if (!perAddress.open(address)) {
      metrics.limitHit('connections_per_address');
      logger.warn({ address, max: settings.maxConnectionsPerAddress }, 'connection refused: too many from one address');
      const refusal = new Error(`too many connections from your address (at most ${settings.maxConnectionsPerAddress}); close some and try again`);
      return next(Object.assign(refusal, { data: { code: 'RATE_LIMITED' } }));
    }
    socket.once('disconnect', () => perAddress.close(address));
    next();
  });
  const enables = new KeyedBuckets(settings.enablesPerMinute / 60, Math.max(1, Math.min(4, settings.enablesPerMinute)));
  server.on('connection', (socket) =>
    attachHandlers(socket, {
      io: server,
      directory,
      logger,
      metrics,
      iceServersFor: (id) => [...(settings.iceServers ?? []), ...(turn === undefined ? [] : [turnCredentials(turn, id)])],
      iceRenewMs: turn === undefined ? undefined : Math.max(1_000, turn.ttlSeconds * 1000 * TURN_RENEW_AT),
      tokens,
      ticketKey,
      resumeGraceSeconds: settings.resumeGraceSeconds,
      limits: { maxParticipantsPerRoom: settings.maxParticipantsPerRoom, maxRooms: settings.maxRooms },
      serviceLimits: { maxPayloadBytes: settings.maxPayloadBytes, maxAttributes: settings.maxAttributes, maxAttributeBytes: settings.maxAttributeBytes },
      rate: {
        perSecond: settings.signalsPerSecond,
        burst: settings.signalBurst,
        perTargetPerSecond: settings.signalsPerTargetPerSecond,
        perTargetBurst: settings.signalsPerTargetBurst,
      },
      joinTimeoutMs: settings.joinTimeoutMs,
      enables,
      relayRate: { bytesPerSecond: settings.relayBytesPerSecond, burstBytes: settings.relayBurstBytes },
      draining: () => draining,
      joinLock,
    }),
  );
  const stats = () => {
    const { rooms, participants } = sample();
    return { rooms, participants };
  };

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(settings.port, settings.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    void server.close();
    await redis?.close();
    throw error;
  }
  const { port } = http.address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `${scheme}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url, redis: redisTarget === undefined ? undefined : describeTarget(redisTarget) }, 'signaling service listening');
  if (tokens === undefined) {
    logger.warn({ url }, 'running open: no secret, so anyone who reaches this service may join any room under any name');
    if ((settings.iceServers ?? []).some((server) => server.credential !== undefined)) {
      logger.warn({ url }, 'handing static TURN credentials (--ice-servers) to every joiner of an open service: anyone who reaches it can relay through your TURN server; prefer --turn-secret (time-limited credentials per participant) and a --secret');
    }
  }

  const drain = async (drainMs: number): Promise<void> => {
    draining = true;
    http.close(); // no new connections; the load balancer sees /healthz fail on those it has
    const sockets = server.of('/').sockets;
    logger.info({ url, clients: sockets.size, drainMs }, 'draining: telling clients to move');
    server.local.emit('service:closing', { drainMs });
    const deadline = Date.now() + drainMs;
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    if (sockets.size > 0) logger.warn({ url, clients: sockets.size }, 'drain time is up; closing the remaining connections');
  };

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stats,
    close(closeOptions = {}) {
      closing ??= (async () => {
        if ((closeOptions.drainMs ?? 0) > 0) await drain(closeOptions.drainMs ?? 0);
        // With Redis gone, the adapter's unsubscribe would wait for it: after a moment, drop the connections.
        const giveUp = setTimeout(() => void redis?.close(), 1_000);
        await new Promise<void>((resolve) => {
          void server.close(() => resolve()); // disconnects every client and closes the HTTP server
          http.closeAllConnections();
        });
        clearTimeout(giveUp);
        await redis?.close();
        logger.info({ url }, 'signaling service closed');
      })();
      return closing;
    },
  };
}
