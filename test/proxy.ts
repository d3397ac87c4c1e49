/**
 * A TCP proxy on a free loopback port that records every byte the service sends through
 * it: what a passive observer at the service (or on its wire) sees. Closed after the test.
 */
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
