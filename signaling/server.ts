/**
 * createSignalingServer: an HTTP server that answers `/` with a page and carries the
 * Socket.IO signaling endpoint. `close()` leaves no handle open.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { LevelWithSilent } from 'pino';
import { Server } from 'socket.io';
import type { IceServer } from '../protocol/signaling.js';
import { attachHandlers, type RoomServer } from './handlers.js';
import { createLogger, type Logger } from './logger.js';
import { RoomRegistry } from './registry.js';
import { serveStatic } from './static.js';

export interface SignalingServerOptions {
  /** Interface to listen on; default 127.0.0.1 (pass 0.0.0.0 to accept other machines). */
  host?: string;
  /** Port; 0 picks a free one. Default 8787. */
  port?: number;
  /** ICE servers handed to every participant at join. Default: none (host candidates only). */
  iceServers?: IceServer[];
  /** Require a join token signed with this secret (see createToken). Without it the service is open to anyone who reaches it. */
  secret?: string | Uint8Array;
  /** Serve HTTPS/WSS with this certificate and key (PEM). Default: plain HTTP (put a TLS proxy in front). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Participants one room admits before refusing with ROOM_FULL. Default 50. */
  maxParticipantsPerRoom?: number;
  /** Rooms the service hosts at once before refusing new ones with SERVICE_FULL. Default 10,000. */
  maxRooms?: number;
  /** Packets per second each client may send, and the burst above that rate. Defaults 200 and 400. */
  signalsPerSecond?: number;
  signalBurst?: number;
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
  /** A pino logger, or the level for the built-in one (default `info`). */
  logger?: Logger;
  logLevel?: LevelWithSilent;
}

export interface SignalingServer {
  /** `http://host:port`, ready for `new RoomClient({ url })`. */
  readonly url: string;
  readonly port: number;
  /** Rooms and participants right now. */
  stats(): { rooms: number; participants: number };
  close(): Promise<void>;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8787,
  maxParticipantsPerRoom: 50,
  maxRooms: 10_000,
  signalsPerSecond: 200,
  signalBurst: 400,
  maxPayloadBytes: 64 * 1024,
  relayBytesPerSecond: 16 * 1024 * 1024,
  relayBurstBytes: 4 * 1024 * 1024,
  pingIntervalMs: 2_000,
  pingTimeoutMs: 2_000,
} as const;

export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const settings = { ...SERVER_DEFAULTS, ...options };
  const logger = options.logger ?? createLogger(options.logLevel);
  const scheme = options.tls === undefined ? 'http' : 'https';
  const registry = new RoomRegistry({ maxParticipantsPerRoom: settings.maxParticipantsPerRoom, maxRooms: settings.maxRooms });
  const stats = () => ({ rooms: registry.roomCount, participants: registry.participantCount });

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/socket.io/')) return; // Socket.IO answers these
    if (request.method === 'GET' && serveStatic(path, response)) return;
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };
  const http = options.tls === undefined ? createServer(onRequest) : createTlsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest);
  const io: RoomServer = new Server(http, {
    maxHttpBufferSize: settings.maxPayloadBytes,
    pingInterval: settings.pingIntervalMs,
    pingTimeout: settings.pingTimeoutMs,
    serveClient: false,
  });
  io.on('connection', (socket) =>
    attachHandlers(socket, {
      io,
      registry,
      logger,
      iceServers: settings.iceServers ?? [],
      secret: options.secret,
      rate: { perSecond: settings.signalsPerSecond, burst: settings.signalBurst },
      relayRate: { bytesPerSecond: settings.relayBytesPerSecond, burstBytes: settings.relayBurstBytes },
    }),
  );

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(settings.port, settings.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `${scheme}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url }, 'signaling service listening');
  if (options.secret === undefined) {
    logger.warn({ url }, 'running open: no secret, so anyone who reaches this service may join any room under any name');
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stats,
    close() {
      closing ??= new Promise<void>((resolve) => {
        io.close(() => resolve()); // disconnects every client and closes the HTTP server
        http.closeAllConnections();
      }).then(() => logger.info({ url }, 'signaling service closed'));
      return closing;
    },
  };
}
