/**
 * `npm run bench:relay`: what a relayed pair (no direct link) carries through one service
 * process, sealed end to end, against the same service carrying the same bytes as bare
 * `relay` events (the transport alone, no roommesh client), in one run. The service runs in
 * its own process with the relay rate unmetered; the two clients run here. Each figure is
 * the median of 3 repetitions after a warm-up. (The before/after figures in the README came
 * from running it on the commit before sealing, which needs only the client's public API.)
 *   npm run build && npm run bench:relay [-- --quick]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { io as connect, type Socket } from 'socket.io-client';
import { MAX_RELAY_PACKET_BYTES } from '../protocol/limits.js';
import { RoomClient } from '../client/index.js';
import { repeat as repeatFigure } from './stats.js';

const QUICK = process.argv.includes('--quick');
const REPS = QUICK ? 1 : 3;
const BYTES = (QUICK ? 8 : 32) * 1024 * 1024;
const PACKET = MAX_RELAY_PACKET_BYTES;
const WINDOW = 16; // frames in flight, as the client's 512 KiB relay high mark allows

const child = spawn(process.execPath, ['signaling/dist/signaling/cli.js', 'serve', '--port', '0', '--log-level', 'warn', '--relay-bytes-per-second', '1073741824'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const found = /^roommesh signaling service on (\S+)$/.exec(line);
    if (found?.[1] !== undefined) resolve(found[1]);
  });
  child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
});
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let serial = 0;

/** A pair of room clients that can only relay (no TURN, relay-only ICE), one 32 MiB attachment. */
async function roommesh(): Promise<number> {
  const room = `rm-${serial++}`;
  const options = { url, room, iceServers: [], rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 200, logger: quiet };
  const alice = new RoomClient({ ...options, name: 'alice' });
  const bob = new RoomClient({ ...options, name: 'bob' });
  await alice.start();
  await alice.messaging.enable();
  await bob.start();
  await bob.messaging.enable();
  const attachment = new Uint8Array(BYTES).fill(0x61);
  const got = new Promise<void>((resolve) => bob.messaging.on('message', () => resolve()));
  const started = performance.now();
  await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'bulk', message: {}, attachment });
  await got;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([alice.close(), bob.close()]);
  return BYTES / 1e6 / seconds;
}

const ask = (socket: Socket, event: string, ...args: unknown[]): Promise<{ ok: boolean; participant?: { id: string } }> =>
  socket.timeout(5000).emitWithAck(event, ...args) as Promise<{ ok: boolean; participant?: { id: string } }>;

async function member(room: string): Promise<{ socket: Socket; id: string }> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const id = (await ask(socket, 'join', { v: 1, room, name: `m${serial++}` })).participant?.id ?? '';
  await ask(socket, 'messaging:enable');
  return { socket, id };
}

/** The same bytes as bare relay events through the same service: what the transport alone carries. */
async function bare(): Promise<number> {
  const room = `bare-${serial++}`;
  const sender = await member(room);
  const receiver = await member(room);
  const packets = BYTES / PACKET;
  const data = new Uint8Array(PACKET).fill(0x61);
  let arrived = 0;
  const done = new Promise<void>((resolve) => receiver.socket.on('relay', () => void (++arrived === packets && resolve())));
  const started = performance.now();
  let sent = 0;
  let inFlight = 0;
  const pump = (): void => {
    while (inFlight < WINDOW && sent < packets) {
      sent++;
      inFlight++;
      sender.socket.emit('relay', { to: receiver.id, sid: 'bench', data }, () => {
        inFlight--;
        pump();
      });
    }
  };
  pump();
  await done;
  const seconds = (performance.now() - started) / 1000;
  sender.socket.disconnect();
  receiver.socket.disconnect();
  return BYTES / 1e6 / seconds;
}

const repeat = (once: () => Promise<number>) => repeatFigure(once, REPS);

const fmt = (r: { median: number; min: number; max: number }): string => `${r.median.toFixed(1)} (${r.min.toFixed(1)}–${r.max.toFixed(1)})`;
const rm = await repeat(roommesh);
const raw = await repeat(bare);
console.log(`relayed pair, ${BYTES / 2 ** 20} MiB attachment, MB/s: roommesh ${fmt(rm)} | bare relay events ${fmt(raw)} | ratio ${(rm.median / raw.median).toFixed(2)}×`);
child.kill('SIGKILL');
process.exit(0);
