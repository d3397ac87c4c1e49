/**
 * `npm run bench:api`: what the application API's additions cost, against roommesh's own
 * baseline in the same run (a pair in one process, loopback, `iceServers: []`, each stack):
 * - a request's round trip against a message answered by a message (the echo every
 *   request/response library is compared with);
 * - a 32 MiB send with `onProgress` against the same send without;
 * - how soon an abort takes effect: from `abort()` to the send's ABORTED, and to the
 *   receiver's `incoming_aborted` (when its memory is freed), for a 64 MiB send aborted at 8 MiB.
 * Prints a table and writes api.{json,md} to test-artifacts/bench/ (bench/out.ts).
 *   npm run bench:api [-- --quick] [--stack=wrtc|ndc]
 */
import { writeResult } from './out.js';
import { cpus } from 'node:os';
import { RoomClient } from '../client/index.js';
import { createSignalingServer } from '../signaling/index.js';
import type { Figure } from './report.js';
import { SHORT, stacksFromArgs, type Stack } from './stack.js';
import { figure } from './stats.js';

const QUICK = process.argv.includes('--quick');
const REPS = QUICK ? 3 : 7;
const ROUND_TRIPS = QUICK ? 200 : 1000;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const MiB = 1024 * 1024;

async function pair(stack: Stack) {
  const server = await createSignalingServer({ port: 0, logLevel: 'silent' });
  const make = (name: string) => new RoomClient({ url: server.url, room: 'api', name, rtc: stack, iceServers: [], logger: silent });
  const a = make('a');
  const b = make('b');
  for (const room of [a, b]) {
    await room.start();
    await room.messaging.enable();
  }
  const bId = b.localParticipant.id;
  b.messaging.onRequest('echo', ({ message }) => ({ message }));
  b.messaging.on('message', (m) => {
    if (m.type === 'ping') void b.messaging.sendMessage({ to: m.from, type: 'pong', message: m.message });
  });
  return {
    a,
    b,
    bId,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await server.close();
    },
  };
}

type Pair = Awaited<ReturnType<typeof pair>>;

/** Median round trip (ms) of `n` requests, one at a time. */
async function requestRtt({ a, bId }: Pair): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    await a.messaging.request({ to: bId, type: 'echo', message: { i } });
    times.push(performance.now() - started);
  }
  return figure(times).median;
}

/** Median round trip (ms) of a message answered by a message. */
async function echoRtt({ a, bId }: Pair): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    const answered = new Promise<void>((resolve) => {
      const off = a.messaging.on('message', (m) => {
        if (m.type === 'pong' && m.message['i'] === i) {
          off();
          resolve();
        }
      });
    });
    await a.messaging.sendMessage({ to: bId, type: 'ping', message: { i } });
    await answered;
    times.push(performance.now() - started);
  }
  return figure(times).median;
}

const attachment = new Uint8Array(32 * MiB).fill(0x61);

/** MiB/s of one 32 MiB send, with or without a progress callback. */
async function bulk({ a, bId }: Pair, withProgress: boolean): Promise<number> {
  let calls = 0;
  const started = performance.now();
  await a.messaging.sendMessage({ to: bId, type: 'bulk', message: {}, attachment, ...(withProgress ? { onProgress: () => void calls++ } : {}) });
  const seconds = (performance.now() - started) / 1000;
  if (withProgress && calls === 0) throw new Error('onProgress was never called');
  return 32 / seconds;
}

const huge = new Uint8Array(64 * MiB).fill(0x62);

/** ms from abort() to the send's rejection, and to the receiver's incoming_aborted. */
async function abortLatency({ a, b, bId }: Pair): Promise<{ rejected: number; receiver: number }> {
  const controller = new AbortController();
  let abortedAt = 0;
  const receiverSaw = new Promise<number>((resolve) => {
    const off = b.messaging.on('incoming_aborted', () => {
      off();
      resolve(performance.now());
    });
  });
  const send = a.messaging.sendMessage({
    to: bId,
    type: 'huge',
    message: {},
    attachment: huge,
    signal: controller.signal,
    onProgress: ({ sentBytes }) => {
      if (abortedAt === 0 && sentBytes >= 8 * MiB) {
        abortedAt = performance.now();
        controller.abort();
      }
    },
  });
  const rejectedAt = await send.then(
    () => {
      throw new Error('the aborted send resolved');
    },
    () => performance.now(),
  );
  const receiverAt = await receiverSaw;
  if (b.messaging.stats().pendingIncomingBytes !== 0) throw new Error('the receiver still holds bytes of the aborted message');
  return { rejected: rejectedAt - abortedAt, receiver: receiverAt - abortedAt };
}

interface StackResult {
  requestRttMs: Figure;
  echoRttMs: Figure;
  bulkMiBs: Figure;
  bulkWithProgressMiBs: Figure;
  abortToRejectMs: Figure;
  abortToReceiverMs: Figure;
}

async function measure(stack: Stack): Promise<StackResult> {
  const p = await pair(stack);
  try {
    // Alternate the variants compared so that neither gets the warmer half of the run.
    const requests: number[] = [];
    const echoes: number[] = [];
    await requestRtt(p);
    await echoRtt(p);
    for (let i = 0; i < REPS; i++) {
      requests.push(await requestRtt(p));
      echoes.push(await echoRtt(p));
    }
    const plain: number[] = [];
    const progress: number[] = [];
    await bulk(p, false);
    for (let i = 0; i < REPS; i++) {
      plain.push(await bulk(p, false));
      progress.push(await bulk(p, true));
    }
    const rejected: number[] = [];
    const receiver: number[] = [];
    await abortLatency(p);
    for (let i = 0; i < REPS; i++) {
      const r = await abortLatency(p);
      rejected.push(r.rejected);
      receiver.push(r.receiver);
    }
    return { requestRttMs: figure(requests), echoRttMs: figure(echoes), bulkMiBs: figure(plain), bulkWithProgressMiBs: figure(progress), abortToRejectMs: figure(rejected), abortToReceiverMs: figure(receiver) };
  } finally {
    await p.close();
  }
}

const fmt = (f: Figure, digits = 2): string => `${f.median.toFixed(digits)} (${f.min.toFixed(digits)}–${f.max.toFixed(digits)})`;

const results: Partial<Record<Stack, StackResult>> = {};
for (const stack of stacksFromArgs(process.argv)) results[stack] = await measure(stack);

const lines = [
  `# The application API's costs (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, a pair in one process, median of ${REPS} (min–max))`,
  '',
  '| figure | ' + Object.keys(results).map((s) => SHORT[s as Stack]).join(' | ') + ' |',
  '|---|' + Object.keys(results).map(() => '---|').join(''),
];
const row = (label: string, pick: (r: StackResult) => string): void => {
  lines.push(`| ${label} | ${Object.values(results).map(pick).join(' | ')} |`);
};
row('request round trip, ms', (r) => fmt(r.requestRttMs, 3));
row('message answered by a message, ms', (r) => fmt(r.echoRttMs, 3));
row('request / message echo', (r) => `${(r.requestRttMs.median / r.echoRttMs.median).toFixed(2)}×`);
row('32 MiB send, MiB/s', (r) => fmt(r.bulkMiBs, 0));
row('… with onProgress, MiB/s', (r) => fmt(r.bulkWithProgressMiBs, 0));
row('with / without onProgress', (r) => `${(r.bulkWithProgressMiBs.median / r.bulkMiBs.median).toFixed(2)}×`);
row('abort() → send rejects ABORTED, ms', (r) => fmt(r.abortToRejectMs, 3));
row('abort() → receiver freed it (incoming_aborted), ms', (r) => fmt(r.abortToReceiverMs, 1));
const table = lines.join('\n');
console.log(table);
if (!QUICK) {
  writeResult('api.md', `${table}\n`);
  writeResult('api.json', `${JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, reps: REPS, results }, null, 2)}\n`);
}
