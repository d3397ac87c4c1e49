/**
 * Scale-out harness: a private Redis and service processes started the way an operator starts them (`roommesh serve`, from
 * dist/), each on port 0. Whatever a test leaves running is killed after it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach } from 'vitest';
import { spawnCluster, spawnRedis, spawnSentinelSet, type RedisCluster, type RedisInstance, type SentinelSet } from '../scripts/redis-server.js';
import { withTimeout } from './helpers.js';

export type { RedisInstance };

const running: ChildProcess[] = [];
afterEach(async () => {
  const left = running.splice(0).filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(left.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL')))));
});

const exitOf = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

/** Starts a private redis-server (see scripts/redis-server.ts), stopped after the test if it still runs. */
export async function startRedis(port?: number): Promise<RedisInstance> {
  const redis = await spawnRedis(port);
  running.push(redis.process);
  return redis;
}

/** A private Sentinel set (a master, two replicas, three Sentinels), every process of it killed after the test. */
export async function startSentinelSet(): Promise<SentinelSet> {
  const set = await spawnSentinelSet();
  running.push(...set.all().map((r) => r.process));
  return set;
}

/** A private 3-master Redis Cluster, killed after the test. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const cluster = await spawnCluster(3);
  running.push(...cluster.all().map((r) => r.process));
  return cluster;
}

export interface ServiceProcess {
  url: string;
  process: ChildProcess;
  /** The service's JSON log lines so far. */
  logs: Array<{ level: number; msg: string } & Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** GETs `path` and returns its status and body. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** The value of one sample line of /metrics, e.g. `roommesh_participants` or `roommesh_joins_total{kind="join"}` (0 when absent). */
  metric(sample: string): Promise<number>;
}

/** Runs `roommesh serve --port <port, default 0> …args` from dist/ and resolves with its URL once it listens. */
export async function startService(args: string[] = [], env: Record<string, string> = {}, port = 0): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['signaling/dist/signaling/cli.js', 'serve', '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  running.push(child);
  const logs: ServiceProcess['logs'] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = exitOf(child);
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const announced = /^roommesh signaling service on (\S+)$/.exec(line);
        if (announced?.[1] !== undefined) return resolve(announced[1]);
        if (line.startsWith('{')) logs.push(JSON.parse(line) as ServiceProcess['logs'][number]);
      });
      void exited.then(({ code }) => reject(new Error(`service exited with ${code}: ${stderr}`)));
    }),
    15_000,
    'the service process to listen',
  );
  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, body: await response.text() };
  };
  return {
    url,
    process: child,
    logs,
    exited,
    get,
    async metric(sample) {
      const { body } = await get('/metrics');
      const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
      return line === undefined ? 0 : Number(line.slice(sample.length + 1));
    },
  };
}

/** Polls a condition that has no event of its own (an HTTP endpoint), with a label and a bound. */
export async function eventually(check: () => Promise<boolean>, label: string, timeoutMs = 10_000): Promise<void> {
  const poll = async (): Promise<void> => {
    while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  await withTimeout(poll(), timeoutMs, label);
}
