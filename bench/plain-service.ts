/**
 * The baseline for `npm run bench:service`: a plain Socket.IO server that forwards events to
 * a client by id, with no validation, rooms, limits or metrics; with `--redis URL`, through
 * the same Redis adapter. It prints its URL on stdout.
 *   node --import tsx bench/plain-service.ts [--redis redis://…]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

const at = process.argv.indexOf('--redis');
const redisUrl = at === -1 ? undefined : process.argv[at + 1];
const http = createServer();
let adapter: ReturnType<typeof createAdapter> | undefined;
if (redisUrl !== undefined) {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  adapter = createAdapter(pub, sub);
}
const io = new Server(http, { serveClient: false, maxHttpBufferSize: 1e6, ...(adapter === undefined ? {} : { adapter }) });
io.on('connection', (socket) => {
  const id = String(socket.handshake.query['id'] ?? socket.id);
  void socket.join(id);
  socket.on('signal', (request: { to: string; data: unknown }) => io.to(request.to).emit('signal', { from: id, data: request.data }));
  socket.on('relay', (request: { to: string; data: Uint8Array }, ack: (reply: { ok: boolean }) => void) => {
    io.to(request.to).emit('relay', { from: id, data: request.data });
    ack({ ok: true });
  });
});
http.listen(0, '127.0.0.1', () => process.stdout.write(`plain service on http://127.0.0.1:${(http.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => io.close(() => process.exit(0)));
