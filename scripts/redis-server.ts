/**
 * A private Redis for tests and benchmarks: redis-server on a free loopback port with
 * persistence off, stopped by its pid. Needs the `redis-server` command (Debian: apt-get
 * install redis-server; .ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

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
export async function spawnRedis(port?: number): Promise<RedisInstance> {
  const at = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`redis-server on port ${at} not ready within 10 s`)), 10_000);
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new Error('redis-server is not installed: apt-get install redis-server (see the README, "Tests")') : error),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('Ready to accept connections')) resolve();
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
