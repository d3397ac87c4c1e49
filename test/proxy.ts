/**
 * Proxies for tests, each on a free loopback port and closed after the test. recordingProxy: a
 * TCP proxy that records every byte the service sends through it, what a passive observer at
 * the service (or on its wire) sees. upgradeRefusingProxy: HTTP only, no WebSocket.
 */
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach } from 'vitest';

const proxies: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((close) => close()));
});

export interface RecordingProxy {
  url: string;
  /** Everything the service sent to clients through this proxy, so far. */
  fromService(): Buffer;
}

export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const { hostname, port } = new URL(target);
  const seen: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    upstream.on('data', (chunk: Buffer) => seen.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxies.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, fromService: () => Buffer.concat(seen) };
}

export interface UpgradeRefusingProxy {
  url: string;
  /** WebSocket upgrades it refused so far. */
  refusedUpgrades(): number;
}

/**
 * An HTTP proxy that passes plain requests on and refuses every WebSocket upgrade (403), as
 * some corporate proxies do: only HTTP long-polling gets through it.
 */
export async function upgradeRefusingProxy(target: string): Promise<UpgradeRefusingProxy> {
  const { hostname, port } = new URL(target);
  let refused = 0;
  const server = createHttpServer((request, response) => {
    const upstream = httpRequest({ host: hostname, port: Number(port), path: request.url, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('upgrade', (_request, socket: Socket) => {
    refused += 1;
    socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxies.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, refusedUpgrades: () => refused };
}
