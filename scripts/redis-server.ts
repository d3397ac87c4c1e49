/**
 * A private Redis for tests and benchmarks: redis-server on a free loopback port with
 * persistence off, stopped by its pid. Needs the `redis-server` command (Debian: apt-get
 * install redis-server; .ci/run installs it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

/** A port that was free a moment ago (redis-server cannot take port 0). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RedisInstance {
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGTERM by pid, then wait for the exit. */
  stop(): Promise<void>;
}

/** Starts redis-server on `port` (default: a free one); resolves once it accepts connections, within 10 s. */
export function spawnRedis(port?: number): Promise<RedisInstance> {
  return startServer(port, (at) => ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], 'Ready to accept connections');
}

/**
 * redis-server with `args(port)`, working in a temporary folder of its own (`--dir`: a replica's
 * full sync writes an RDB file there, never into the working tree), removed when it exits;
 * resolves once a line of its output includes `ready`.
 */
async function startServer(port: number | undefined, args: (port: number) => string[], ready: string): Promise<RedisInstance> {
  const at = port ?? (await freePort());
  const workDir = mkdtempSync(join(tmpdir(), 'roommesh-redis-'));
  const child = spawn('redis-server', [...args(at), '--dir', workDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve())).then(() => rmSync(workDir, { recursive: true, force: true }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`redis-server on port ${at} not ready within 10 s`)), 10_000);
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new Error('redis-server is not installed: apt-get install redis-server (see the README, "Tests")') : error),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes(ready)) resolve();
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    url: `redis://127.0.0.1:${at}`,
    port: at,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface SentinelSet {
  master: string;
  /** The data nodes: [0] starts as the master, the others replicate it. */
  nodes: RedisInstance[];
  sentinels: RedisInstance[];
  /** Every process of the set. */
  all(): RedisInstance[];
  /** Stops everything and removes the Sentinels' config files. */
  stop(): Promise<void>;
}

/**
 * A Sentinel set on loopback: a master, `replicas` replicas of it, and `sentinels` Sentinels
 * (quorum: a majority) that declare a silent master down after `downAfterMs` and promote a
 * replica. Sentinels rewrite their config file, so each gets one in a private directory.
 */
export async function spawnSentinelSet({ replicas = 2, sentinels = 3, downAfterMs = 1_000, master = 'roommesh' } = {}): Promise<SentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'roommesh-sentinel-'));
  const primary = await spawnRedis();
  const nodes = [primary];
  for (let i = 0; i < replicas; i++) {
    nodes.push(await startServer(undefined, (at) => ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--replicaof', '127.0.0.1', String(primary.port)], 'Ready to accept connections'));
  }
  const watchers: RedisInstance[] = [];
  for (let i = 0; i < sentinels; i++) {
    const port = await freePort();
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${master} 127.0.0.1 ${primary.port} ${Math.floor(sentinels / 2) + 1}`,
        `sentinel down-after-milliseconds ${master} ${downAfterMs}`,
        `sentinel failover-timeout ${master} 10000`,
        `sentinel parallel-syncs ${master} 1`,
        '',
      ].join('\n'),
    );
    watchers.push(await startServer(port, () => [file, '--sentinel'], '+monitor master'));
  }
  const all = (): RedisInstance[] => [...nodes, ...watchers];
  return {
    master,
    nodes,
    sentinels: watchers,
    all,
    async stop() {
      await Promise.all(all().map((r) => r.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  nodes: RedisInstance[];
  all(): RedisInstance[];
  stop(): Promise<void>;
}

/** A Redis Cluster of `masters` masters (no replicas) on loopback, its slots spread by `redis-cli --cluster create`. */
export async function spawnCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'roommesh-cluster-'));
  const nodes: RedisInstance[] = [];
  for (let i = 0; i < masters; i++) {
    nodes.push(
      await startServer(
        undefined,
        (at) => ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${at}.conf`), '--cluster-node-timeout', '2000'],
        'Ready to accept connections',
      ),
    );
  }
  const run = promisify(execFile);
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
  // Wait until every node agrees the cluster is up.
  const deadline = Date.now() + 15_000;
  for (const node of nodes) {
    for (;;) {
      const { stdout } = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { timeout: 5_000 });
      if (stdout.includes('cluster_state:ok')) break;
      if (Date.now() > deadline) throw new Error(`the cluster did not come up: ${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    nodes,
    all: () => nodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
