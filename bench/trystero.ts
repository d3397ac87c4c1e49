/**
 * Trystero 0.25 (@trystero-p2p/mqtt) in bench/run.ts's scenarios: every peer in its own process
 * (bench/trystero-party.ts), signaling through a private mosquitto (Debian's `mosquitto`) on
 * 127.0.0.1, started here on a free port. Trystero's offers and answers travel through that
 * broker as roommesh's travel through its service.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { QUICK, closeAll, expectAt, measureRoom, party, repeat, type Room } from './drive.js';
import { epoch, type Party } from './party.js';
import type { Figure } from './report.js';
import type { Stack } from './stack.js';
import { median } from './stats.js';

const PARTY = 'bench/trystero-party.ts';

export interface Broker {
  url: string;
  close(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** A private mosquitto on 127.0.0.1, or why there is none (not installed). */
export async function startBroker(): Promise<Broker | string> {
  const port = await freePort();
  const dir = mkdtempSync(joinPath(tmpdir(), 'roommesh-mosquitto-'));
  const config = joinPath(dir, 'mosquitto.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
  const failed = new Promise<string>((resolve) => child.once('error', (error) => resolve(`mosquitto did not start (${error.message}): apt-get install mosquitto`)));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const outcome = await Promise.race([failed, accepts(port)]);
    if (typeof outcome === 'string') return outcome;
    if (outcome) break;
    if (Date.now() > deadline) {
      child.kill();
      return 'mosquitto did not listen within 5 s';
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `n` Trystero peers, one process each, not yet in a room. */
const spawnPeers = (stack: Stack, n: number, label: string): Promise<Party[]> => Promise.all(Array.from({ length: n }, (_, i) => party(PARTY, [stack], `${label}-${i}`)));

let rooms = 0;
/** Tells `members` to join one fresh room at once, each expecting all the others. */
function joinOneRoom(broker: Broker, members: Party[]): void {
  const room = `room-${++rooms}`;
  for (const m of members) m.send({ type: 'join', broker: broker.url, room, peers: members.length - 1 });
}

/** `n` Trystero peers joining one fresh room at once (one process each, started beforehand). */
async function join(broker: Broker, stack: Stack, n: number): Promise<Party[]> {
  const members = await spawnPeers(stack, n, 'ty');
  joinOneRoom(broker, members);
  return members;
}

/** Round trip, small messages and the 32 MiB attachment between two Trystero peers. */
export async function trysteroOneToOne(broker: Broker, stack: Stack): Promise<{ rtt: Figure | string; small: Figure | string; bulk: Figure | string }> {
  try {
    const [a, b] = await join(broker, stack, 2);
    if (a === undefined || b === undefined) throw new Error('no pair');
    const formed = await Promise.all([a.next('complete', 30_000), b.next('complete', 30_000)]).then(
      () => undefined,
      (error: Error) => `never linked: ${error.message}`,
    );
    if (formed !== undefined) return { rtt: formed, small: formed, bulk: formed };
    const rtt = await repeat(async () => {
      a.send({ type: 'rtt', count: 300 });
      return median(((await a.next('rtt', 60_000))['times'] as number[]) ?? []);
    });
    const N = QUICK ? 10_000 : 20_000;
    const small = await repeat(async () => {
      await expectAt(b, N);
      a.send({ type: 'small', count: N });
      const { at: started } = await a.next('sending', 60_000);
      const { at } = await b.next('all', 120_000);
      return N / ((Number(at) - Number(started)) / 1000);
    }).catch((error: Error) => `failed: ${error.message}`);
    const size = 32 * 1024 * 1024;
    const bulk = await repeat(async () => {
      await expectAt(b, 1);
      a.send({ type: 'file', size });
      const { at: started } = await a.next('sending', 60_000);
      // Its send resolves once the last chunk is handed to the channel, or once it gives up: on
      // @roamhq/wrtc, which never fires bufferedamountlow, each wait for one ends after 10 s and
      // the rest of the message is dropped without an error.
      const arrived = b.next('all', 120_000);
      await a.next('sent', 120_000);
      const { at } = await Promise.race([
        arrived,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('its send resolved, but the message never arrived (chunks dropped)')), 5_000)),
      ]);
      return size / 1e6 / ((Number(at) - Number(started)) / 1000);
    }).catch((error: Error) => `failed: ${error.message.replace(/^ty-\d+: /, '')}`);
    return { rtt, small, bulk };
  } finally {
    await closeAll();
  }
}

/** A room of `n` Trystero processes: its idle cost, then its broadcast fan-out (bench/drive.ts). */
export async function trysteroRoom(broker: Broker, stack: Stack, n: number): Promise<Room> {
  try {
    return await measureRoom(await join(broker, stack, n));
  } finally {
    await closeAll();
  }
}

/** From the joins sent until every Trystero peer has seen every other (the processes started beforehand, as for roommesh). */
export async function trysteroMesh(broker: Broker, stack: Stack, n: number): Promise<Figure | string> {
  let failure: string | undefined;
  const measured = await repeat(
    async () => {
      if (failure !== undefined) return NaN;
      const members = await spawnPeers(stack, n, 'ty-mesh');
      const started = epoch();
      joinOneRoom(broker, members);
      const done = await Promise.all(members.map((m) => m.next('complete', 60_000).then((d) => Number(d['at']), () => NaN)));
      await closeAll();
      if (done.some(Number.isNaN)) failure = `incomplete: ${done.filter(Number.isNaN).length} of ${n} never saw everyone`;
      return Math.max(...done) - started;
    },
    n > 8 ? 3 : undefined,
  );
  return failure ?? measured;
}
