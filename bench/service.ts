/**
 * `npm run bench:service`: what one signaling process carries, and what a second one on
 * Redis costs, against a plain Socket.IO server that forwards by id with nothing else
 * (bench/plain-service.ts), in one run. The service runs in its own process; the load
 * (bare Socket.IO clients speaking the protocol, no WebRTC) runs here. Each figure is the
 * median of 3 repetitions after a warm-up. Writes service.{json,md} to test-artifacts/bench/ (bench/out.ts).
 *   npm run bench:service [-- --quick]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeResult } from './out.js';
import { cpus, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { io as connect, type Socket } from 'socket.io-client';
import { MAX_RELAY_PACKET_BYTES } from '../protocol/limits.js';
import { PROTOCOL_VERSION } from '../protocol/signaling.js';
import { spawnRedis } from '../scripts/redis-server.js';
import { median, repeat as repeatFigure } from './stats.js';

const QUICK = process.argv.includes('--quick');
const REPS = QUICK ? 1 : 3;
const JOINERS = QUICK ? 300 : 1000;
const PAIRS = 50;
const SIGNALS_PER_SENDER = QUICK ? 500 : 2000;
const RELAY_BYTES = (QUICK ? 16 : 64) * 1024 * 1024;
const RELAY_PACKET = MAX_RELAY_PACKET_BYTES;
const RELAY_WINDOW = 16; // packets in flight, as the client's 512 KiB relay high mark allows

type Kind = 'roommesh' | 'plain';
interface Service {
  url: string;
  child: ChildProcess;
}

async function startService(kind: Kind, redisUrl: string | undefined): Promise<Service> {
  const redis = redisUrl === undefined ? [] : ['--redis', redisUrl];
  const args =
    kind === 'roommesh'
      ? ['signaling/dist/signaling/cli.js', 'serve', '--port', '0', '--log-level', 'warn', '--signals-per-second', '10000000', '--signals-per-target', '10000000', '--max-connections-per-address', '100000', '--max-participants', '100000', '--relay-bytes-per-second', '1073741824', ...redis]
      : ['--import', 'tsx', 'bench/plain-service.ts', ...redis];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const found = /^(?:roommesh signaling service|plain service) on (\S+)$/.exec(line);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`${kind} service exited with ${code}`)));
  });
  return { url, child };
}

const stop = (service: Service): Promise<void> =>
  new Promise((resolve) => {
    service.child.once('exit', () => resolve());
    service.child.kill('SIGKILL');
  });

/** Resident memory of a process, in bytes (Linux). */
const rss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

interface Member {
  socket: Socket;
  id: string;
}

let serial = 0;
async function member(kind: Kind, url: string, room: string): Promise<Member> {
  const name = `m${++serial}`;
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, query: { id: name } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  if (kind === 'plain') return { socket, id: name };
  const joined = (await socket.timeout(20_000).emitWithAck('join', { v: PROTOCOL_VERSION, room, name })) as { ok: boolean; participant?: { id: string } };
  if (!joined.ok || joined.participant === undefined) throw new Error(`join refused: ${JSON.stringify(joined)}`);
  await socket.timeout(20_000).emitWithAck('messaging:enable');
  return { socket, id: joined.participant.id };
}

const CANDIDATE = { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0', sdpMLineIndex: 0, sdpMid: '0' } };

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const at = next++;
        results[at] = await task(items[at] as T);
      }
    }),
  );
  return results;
}

const closeAll = (members: Member[]): void => members.forEach((m) => m.socket.disconnect());

/** Joins (and enables) JOINERS participants in rooms of 10, 50 at a time: joins per second, and the service's memory per participant. */
async function joins(kind: Kind): Promise<{ perSecond: number; bytesEach: number }> {
  const service = await startService(kind, undefined);
  try {
    const before = rss(service.child.pid!);
    const started = performance.now();
    const members = await pool(Array.from({ length: JOINERS }, (_, i) => `room-${i % (JOINERS / 10)}`), 50, (room) => member(kind, service.url, room));
    const seconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the service settle before reading its memory
    const bytesEach = (rss(service.child.pid!) - before) / JOINERS;
    closeAll(members);
    return { perSecond: JOINERS / seconds, bytesEach };
  } finally {
    await stop(service);
  }
}

/** PAIRS senders each send SIGNALS_PER_SENDER signals to their receiver as fast as they can: signals delivered per second. */
async function signals(kind: Kind, services: [Service, Service]): Promise<number> {
  const [a, b] = services;
  const pairs = await pool(Array.from({ length: PAIRS }, (_, i) => i), 10, async (i) => {
    const room = `sig-${i}-${serial}`;
    return [await member(kind, a.url, room), await member(kind, b.url, room)] as const;
  });
  const total = PAIRS * SIGNALS_PER_SENDER;
  let received = 0;
  const done = new Promise<void>((resolve) => {
    for (const [, receiver] of pairs) {
      receiver.socket.on('signal', () => {
        if (++received === total) resolve();
      });
    }
  });
  const started = performance.now();
  for (let sent = 0; sent < SIGNALS_PER_SENDER; sent += 100) {
    for (const [sender, receiver] of pairs) {
      for (let k = 0; k < 100; k++) sender.socket.emit('signal', kind === 'roommesh' ? { to: receiver.id, sid: 'bench', data: CANDIDATE } : { to: receiver.id, data: CANDIDATE });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 60_000));
  await Promise.race([done, timeout]);
  const seconds = (performance.now() - started) / 1000;
  closeAll(pairs.flat());
  if (received < total) throw new Error(`${kind}: only ${received} of ${total} signals arrived`);
  return total / seconds;
}

/** One pair relays RELAY_BYTES in 32 KiB packets, RELAY_WINDOW unacknowledged at most: MB/s. */
async function relay(kind: Kind, services: [Service, Service]): Promise<number> {
  const room = `relay-${serial}`;
  const sender = await member(kind, services[0].url, room);
  const receiver = await member(kind, services[1].url, room);
  const packets = RELAY_BYTES / RELAY_PACKET;
  const data = new Uint8Array(RELAY_PACKET).fill(0x61);
  let arrived = 0;
  const done = new Promise<void>((resolve) => receiver.socket.on('relay', () => void (++arrived === packets && resolve())));
  const started = performance.now();
  let sent = 0;
  let inFlight = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inFlight < RELAY_WINDOW && sent < packets) {
        sent++;
        inFlight++;
        sender.socket.emit('relay', kind === 'roommesh' ? { to: receiver.id, sid: 'bench', data } : { to: receiver.id, data }, (reply: { ok: boolean }) => {
          if (!reply.ok) return reject(new Error(`${kind}: relay refused ${JSON.stringify(reply)}`));
          inFlight--;
          if (sent === packets && inFlight === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  closeAll([sender, receiver]);
  return RELAY_BYTES / 1e6 / seconds;
}

const repeat = (once: () => Promise<number>) => repeatFigure(once, REPS);

/** Two services of `kind` on one Redis, or one service used as both ends. */
async function withServices<T>(kind: Kind, redisUrl: string | undefined, run: (services: [Service, Service]) => Promise<T>): Promise<T> {
  const first = await startService(kind, redisUrl);
  const second = redisUrl === undefined ? first : await startService(kind, redisUrl);
  try {
    return await run([first, second]);
  } finally {
    await stop(first);
    if (second !== first) await stop(second);
  }
}

interface Row {
  scenario: string;
  unit: string;
  roommesh: { median: number; min: number; max: number };
  plain: { median: number; min: number; max: number };
}

const redis = await spawnRedis();
const rows: Row[] = [];
try {
  const joinFigures = { roommesh: [] as Array<{ perSecond: number; bytesEach: number }>, plain: [] as Array<{ perSecond: number; bytesEach: number }> };
  for (const kind of ['roommesh', 'plain'] as const) {
    await joins(kind);
    for (let i = 0; i < REPS; i++) joinFigures[kind].push(await joins(kind));
  }
  const spread = (values: number[]) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });
  rows.push({
    scenario: `joins, ${JOINERS} participants in rooms of 10, 50 at a time (roommesh: join + enable)`,
    unit: 'per s',
    roommesh: spread(joinFigures.roommesh.map((f) => f.perSecond)),
    plain: spread(joinFigures.plain.map((f) => f.perSecond)),
  });
  rows.push({
    scenario: `service memory per connected participant (${JOINERS} connected)`,
    unit: 'KiB',
    roommesh: spread(joinFigures.roommesh.map((f) => f.bytesEach / 1024)),
    plain: spread(joinFigures.plain.map((f) => f.bytesEach / 1024)),
  });
  for (const [label, url] of [['one process', undefined], ['two processes on Redis', redis.url]] as const) {
    const figures = {} as Record<Kind, { signals: Row['roommesh']; relay: Row['roommesh'] }>;
    for (const kind of ['roommesh', 'plain'] as const) {
      figures[kind] = await withServices(kind, url, async (services) => ({
        signals: await repeat(() => signals(kind, services)),
        relay: await repeat(() => relay(kind, services)),
      }));
    }
    rows.push({ scenario: `signals delivered, ${PAIRS} pairs flat out, ${label}`, unit: 'per s', roommesh: figures.roommesh.signals, plain: figures.plain.signals });
    rows.push({ scenario: `relay fallback, one pair, 32 KiB packets, ${label}`, unit: 'MB/s', roommesh: figures.roommesh.relay, plain: figures.plain.relay });
  }
} finally {
  await redis.stop();
}

const fmt = (n: number): string => (n >= 1000 ? Math.round(n).toLocaleString('en') : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const cell = (f: Row['roommesh']): string => (REPS > 1 ? `${fmt(f.median)} (${fmt(f.min)}–${fmt(f.max)})` : fmt(f.median));
const lines = [
  '| scenario | unit | roommesh | plain Socket.IO | roommesh / plain |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.scenario} | ${r.unit} | ${cell(r.roommesh)} | ${cell(r.plain)} | ${(r.roommesh.median / r.plain.median).toFixed(2)}× |`),
];
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const markdown = `${lines.join('\n')}\n\n${machine}; ${new Date().toISOString().slice(0, 10)}${QUICK ? '; --quick' : ''}\n`;
process.stdout.write(`\n${markdown}`);
if (!QUICK) {
  writeResult('service.md', markdown);
  writeResult('service.json', `${JSON.stringify({ machine, quick: QUICK, rows }, null, 2)}\n`);
}
process.exit(0);
