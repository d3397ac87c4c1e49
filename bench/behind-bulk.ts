/**
 * Small messages behind an attachment: a pair on loopback (both ends in this process, one clock)
 * sends a small message every 10 ms, first alone, then while a 64 MiB attachment flows the same
 * way on the same pair. Reports the small messages' one-way latency (p50, p99, max) in both cases.
 * Beside it, in the same run, a raw simple-peer pair doing the same on its one data channel
 * (64 KiB chunks paced below 1 MiB buffered): the ratio is roommesh's cost. On @roamhq/wrtc the
 * attachment takes the link's bulk channel and small messages do not wait behind it; on
 * node-datachannel a link keeps to one data channel (client/rtc.ts, takesBulkChannel), so they
 * wait behind what is buffered of the attachment there, as in the raw pair.
 *   npm run bench:behind-bulk [-- --stack=node-datachannel]
 */
import SimplePeer from 'simple-peer';
import { createSignalingServer } from '../signaling/index.js';
import { RoomClient, type RtcStackName } from '../client/index.js';
import { resolveRtc } from '../client/rtc.js';
import { writeResult } from './out.js';

const stackArg = process.argv.find((a) => a.startsWith('--stack='))?.slice('--stack='.length);
const stacks: RtcStackName[] = stackArg === undefined ? ['@roamhq/wrtc', 'node-datachannel'] : [stackArg as RtcStackName];
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const ATTACHMENT = 64 * 1024 * 1024;
const EVERY_MS = 10;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

async function run(stack: RtcStackName): Promise<string[]> {
  const server = await createSignalingServer({ port: 0, logLevel: 'silent' });
  const a = new RoomClient({ url: server.url, room: 'b', name: 'a', rtc: stack, iceServers: [], logger: silent });
  const b = new RoomClient({ url: server.url, room: 'b', name: 'b', rtc: stack, iceServers: [], logger: silent });
  try {
    for (const room of [a, b]) {
      await room.start();
      await room.messaging.enable();
    }
    const to = b.localParticipant.id;
    const latencies: number[] = [];
    b.messaging.on('message', (m) => {
      if (m.type === 'tick') latencies.push(performance.now() - Number(m.message['at']));
    });
    const ticks = async (until: () => boolean): Promise<number[]> => {
      latencies.length = 0;
      const sends: Array<Promise<void>> = [];
      while (!until()) {
        sends.push(a.messaging.sendMessage({ to, type: 'tick', message: { at: performance.now() } }));
        await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
      }
      await Promise.all(sends);
      return [...latencies];
    };
    let count = 0;
    const alone = await ticks(() => ++count > 300);
    let done = false;
    const started = performance.now();
    const bulk = a.messaging.sendMessage({ to, type: 'bulk', message: {}, attachment: new Uint8Array(ATTACHMENT) }).then(() => (done = true));
    const behind = await ticks(() => done);
    await bulk;
    const seconds = (performance.now() - started) / 1000;
    const row = (label: string, values: number[]): string =>
      `| roommesh, ${stack} | ${label} | ${values.length} | ${percentile(values, 50).toFixed(1)} | ${percentile(values, 99).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`;
    return [row('alone', alone), row(`beside 64 MiB (${(ATTACHMENT / 1e6 / seconds).toFixed(0)} MB/s)`, behind)];
  } finally {
    await Promise.all([a.close(), b.close()]);
    await server.close();
  }
}

/** The same on a raw simple-peer pair: one channel, the small messages as JSON between 64 KiB chunks. */
async function raw(stack: RtcStackName): Promise<string[]> {
  const rtc = await resolveRtc(stack);
  const make = (initiator: boolean): SimplePeer.Instance => new SimplePeer({ initiator, wrtc: rtc as SimplePeer.Options['wrtc'], config: { iceServers: [] }, trickle: true });
  const a = make(true);
  const b = make(false);
  a.on('signal', (d: SimplePeer.SignalData) => b.signal(d));
  b.on('signal', (d: SimplePeer.SignalData) => a.signal(d));
  await Promise.all([new Promise((r) => a.once('connect', r)), new Promise((r) => b.once('connect', r))]);
  const latencies: number[] = [];
  let bulkDone: () => void = () => {};
  b.on('data', (data: Uint8Array) => {
    if (data[0] !== 0x7b) return;
    const body = JSON.parse(new TextDecoder().decode(data)) as { at?: number; end?: true };
    if (body.end === true) bulkDone();
    else latencies.push(performance.now() - Number(body.at));
  });
  const channel = (a as unknown as { _channel: { bufferedAmount: number } })._channel;
  const ticks = async (until: () => boolean): Promise<number[]> => {
    latencies.length = 0;
    while (!until()) {
      a.send(JSON.stringify({ at: performance.now() }));
      await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    return [...latencies];
  };
  let count = 0;
  const alone = await ticks(() => ++count > 300);
  let done = false;
  const started = performance.now();
  const finished = new Promise<void>((resolve) => (bulkDone = resolve));
  void (async () => {
    const chunk = new Uint8Array(64 * 1024);
    for (let sent = 0; sent < ATTACHMENT; sent += chunk.length) {
      while (channel.bufferedAmount > 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 2));
      a.send(chunk);
    }
    a.send(JSON.stringify({ end: true }));
  })();
  void finished.then(() => (done = true));
  const behind = await ticks(() => done);
  const seconds = (performance.now() - started) / 1000;
  a.destroy();
  b.destroy();
  const row = (label: string, values: number[]): string =>
    `| raw simple-peer, ${stack} | ${label} | ${values.length} | ${percentile(values, 50).toFixed(1)} | ${percentile(values, 99).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`;
  return [row('alone', alone), row(`beside 64 MiB (${(ATTACHMENT / 1e6 / seconds).toFixed(0)} MB/s)`, behind)];
}

const rows: string[] = [];
for (const stack of stacks) rows.push(...(await run(stack)), ...(await raw(stack)));
const table = [
  `Small messages every ${EVERY_MS} ms, one-way latency in ms (loopback, both ends in one process, ${new Date().toISOString().slice(0, 10)})`,
  '',
  '| party | while | messages | p50 | p99 | max |',
  '|---|---|---|---|---|---|',
  ...rows,
].join('\n');
console.log(table);
console.log(`written to ${writeResult('behind-bulk.md', `${table}\n`)}`);
process.exit(0);
