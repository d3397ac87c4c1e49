/**
 * A whole mesh in one process, for formation time, memory per linked peer and idle CPU:
 *   local-mesh.ts rm <stack> <url> <n> [total] [offset]
 *                                         n roommesh participants, all enabling at once; with `total`,
 *                                         they are this process's share of a room of `total` spread over
 *                                         several processes (named from `offset`), and each waits for all
 *   local-mesh.ts raw <stack> <n>         n(n-1)/2 raw simple-peer pairs, all created at once
 * Reports { type: 'result', formationMs, rssPerPeerMiB, idleCpuPercent, fds } or { type: 'failed' }.
 */
import { readdirSync } from 'node:fs';
import SimplePeer from 'simple-peer';
import { RoomClient } from '../client/index.js';
import { idle } from './idle.js';
import { isStack, rawRtc } from './stack.js';

const send = (message: Record<string, unknown>): void => void process.send?.(message);
const [kind, stack, a, b, totalArg, offsetArg] = process.argv.slice(2);
if (!isStack(stack)) throw new Error(`unknown stack ${String(stack)}`);
const fds = (): number => readdirSync('/proc/self/fd').length;
let peakFds = 0;
const fdTimer = setInterval(() => (peakFds = Math.max(peakFds, fds())), 20);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

process.on('message', async (command: { type: string }) => {
  if (command.type !== 'go') return;
  try {
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    let close: () => Promise<void>;
    let links: number;
    if (kind === 'rm') {
      const n = Number(b);
      const total = totalArg === undefined ? n : Number(totalArg);
      const offset = Number(offsetArg ?? 0);
      const rooms = Array.from({ length: n }, (_, i) => new RoomClient({ url: String(a), room: 'local', name: `p${offset + i}`, rtc: stack, iceServers: [], logger: silent }));
      await Promise.all(rooms.map((r) => r.start()));
      await Promise.all(rooms.map((r) => r.messaging.enable()));
      while (!rooms.every((r) => r.messaging.getParticipants().length === total - 1)) await new Promise((resolve) => setTimeout(resolve, 2));
      links = n * (total - 1);
      close = async () => void (await Promise.all(rooms.map((r) => r.close())));
    } else {
      const n = Number(a);
      const wrtc = await rawRtc(stack);
      const peers: SimplePeer.Instance[] = [];
      let connected = 0;
      const all = n * (n - 1);
      const done = new Promise<void>((resolve, reject) => {
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            const x = new SimplePeer({ initiator: true, wrtc, config: { iceServers: [] } });
            const y = new SimplePeer({ wrtc, config: { iceServers: [] } });
            x.on('signal', (d) => y.signal(d));
            y.on('signal', (d) => x.signal(d));
            for (const p of [x, y]) {
              p.on('connect', () => ++connected === all && resolve());
              p.on('error', reject);
              peers.push(p);
            }
          }
        }
      });
      await done;
      links = all;
      close = async () => {
        for (const p of peers) p.destroy();
      };
    }
    const formationMs = performance.now() - started;
    const rssPerPeerMiB = (process.memoryUsage().rss - rssBefore) / links / 2 ** 20;
    const { cpuPercent: idleCpuPercent } = await idle(5_000);
    clearInterval(fdTimer);
    send({ type: 'result', formationMs, rssPerPeerMiB, idleCpuPercent, peakFds });
    await close();
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
  }
  process.disconnect?.();
  setTimeout(() => process.exit(0), 2_000).unref();
});
send({ type: 'started' });
