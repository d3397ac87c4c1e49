/**
 * Scale-out: the Socket.IO Redis adapter (@socket.io/redis-adapter with the `redis`
 * client), so that every service process sees every room. Rooms, presence, signals and the
 * relay all go through the adapter (server-side emits, `fetchSockets`); nothing else is
 * stored in Redis. Three deployments, each through the client's own support:
 * - one Redis (`url`): the classic adapter;
 * - Redis Sentinel (`sentinel`): the client follows the master Sentinel names through a
 *   fail-over (node-redis `createSentinel`); the classic adapter on top;
 * - Redis Cluster (`cluster`): the sharded adapter (`createShardedAdapter`, Redis 7 sharded
 *   pub/sub), so that each room's channel lives on one shard; node-redis `createCluster`.
 */
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createClient, createCluster, createSentinel } from 'redis';
import type { Logger } from './logger.js';

export interface RedisNode {
  host: string;
  port: number;
}

/** Where the processes meet: one Redis by URL, a Sentinel-watched master by name, or a cluster. */
export type RedisTarget = { url: string } | { sentinel: { master: string; nodes: RedisNode[]; password?: string } } | { cluster: { nodes: RedisNode[]; password?: string } };

/** The target, for logs: a URL without its password, or the nodes. */
export function describeTarget(target: RedisTarget): string {
  if ('url' in target) return redactUrl(target.url);
  const nodes = ('sentinel' in target ? target.sentinel.nodes : target.cluster.nodes).map((n) => `${n.host}:${n.port}`).join(',');
  return 'sentinel' in target ? `sentinel ${nodes} master ${target.sentinel.master}` : `cluster ${nodes}`;
}

/** What the service uses of a client, whichever kind: pub/sub for the adapter, PING for health, events. */
interface AnyClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  ping(): Promise<string>;
  publish(...args: never[]): Promise<number>;
  duplicate(): AnyClient;
  destroy(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

export interface RedisLink {
  /** The adapter to hand to `io.adapter()`. */
  adapter: ReturnType<typeof createAdapter> | ReturnType<typeof createShardedAdapter>;
  /** Whether both connections are up and Redis answers a PING within `timeoutMs`. */
  healthy(timeoutMs: number): Promise<boolean>;
  /** Closes both connections; pending commands fail at once rather than wait for a Redis that is gone. */
  close(): Promise<void>;
}

export interface RedisOptions {
  target: RedisTarget;
  logger: Logger;
  /** How long to wait for Redis at start before giving up with an error. */
  connectTimeoutMs: number;
  /** How long a cross-process question (`fetchSockets`) waits for every process to answer. */
  requestsTimeoutMs: number;
  /** Called for each message to the other processes that could not be published. */
  onPublishFailed?: () => void;
}

/** Commands waiting for Redis (during an outage, or under overload) before new ones fail. */
const MAX_QUEUED_COMMANDS = 100_000;

/** `redis://user:secret@host` with the password hidden, for logs and errors. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

function createPublisher(target: RedisTarget, connectTimeoutMs: number): AnyClient {
  // Keep retrying while the service runs: /healthz reports the outage meanwhile.
  const socket = { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000), connectTimeout: connectTimeoutMs };
  // No per-command timeout (node-redis defaults to 5 s): a publish that is merely slow under
  // load must not be dropped, since relayed packets are already acknowledged to their sender.
  // What waits is bounded instead, in count.
  const common = { commandOptions: { timeout: 0 }, commandsQueueMaxLength: MAX_QUEUED_COMMANDS };
  if ('url' in target) return createClient({ url: target.url, socket, ...common }) as unknown as AnyClient;
  if ('sentinel' in target) {
    const { master, nodes, password } = target.sentinel;
    const sentinel = createSentinel({
      name: master,
      sentinelRootNodes: nodes,
      nodeClientOptions: { socket, ...common, ...(password === undefined ? {} : { password }) },
      sentinelClientOptions: { socket, ...(password === undefined ? {} : { password }) },
      passthroughClientErrorEvents: true,
    });
    // The adapter counts subscribers with a client's `sendCommand(args)`; a Sentinel client's takes `(isReadonly, args)`.
    const send = sentinel.sendCommand.bind(sentinel);
    (sentinel as { sendCommand: unknown }).sendCommand = (first: unknown, ...rest: unknown[]) =>
      Array.isArray(first) ? send(false, first as Parameters<typeof send>[1], ...(rest as [])) : send(first as boolean | undefined, ...(rest as [Parameters<typeof send>[1]]));
    return sentinel as unknown as AnyClient;
  }
  const { nodes, password } = target.cluster;
  return createCluster({ rootNodes: nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })), defaults: { socket, ...common, ...(password === undefined ? {} : { password }) } }) as unknown as AnyClient;
}

export async function connectRedis(options: RedisOptions): Promise<RedisLink> {
  const { logger, target } = options;
  const where = describeTarget(target);
  const pub = createPublisher(target, options.connectTimeoutMs);
  const sub = pub.duplicate();
  // The adapter does not handle a failed publish (a full queue, Redis gone) or subscription (a
  // client closed while a fail-over is under way), and an unhandled rejection ends a Node
  // process: catch them here, log them, count the lost messages.
  let lastDrop = 0;
  const guard = (client: AnyClient, method: string, onFailure: (error: unknown) => unknown): void => {
    const original = (client as unknown as Record<string, unknown>)[method];
    if (typeof original !== 'function') return;
    const bound = (original as (...args: unknown[]) => unknown).bind(client);
    (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = bound(...args);
      return result instanceof Promise ? result.catch(onFailure) : result;
    };
  };
  const lost = (error: unknown): number => {
    options.onPublishFailed?.();
    if (Date.now() - lastDrop > 5_000) {
      lastDrop = Date.now();
      logger.error({ redis: where, err: error instanceof Error ? error.message : String(error) }, 'a message for other service processes was lost');
    }
    return 0;
  };
  for (const method of ['publish', 'sPublish']) guard(pub, method, lost);
  for (const method of ['subscribe', 'pSubscribe', 'sSubscribe', 'unsubscribe', 'pUnsubscribe', 'sUnsubscribe']) {
    guard(sub, method, (error) => logger.warn({ redis: where, method, err: error instanceof Error ? error.message : String(error) }, 'a Redis subscription failed'));
  }
  let lastError = 0;
  for (const [role, client] of [['pub', pub], ['sub', sub]] as const) {
    client.on('error', ((error: Error) => {
      if (Date.now() - lastError < 5_000) return; // one line per outage burst, not one per retry
      lastError = Date.now();
      logger.error({ redis: where, role, err: error.message }, 'Redis connection error; retrying');
    }) as (...args: never[]) => void);
    client.on('ready', () => logger.info({ redis: where, role }, 'Redis connection ready'));
  }
  const close = async (): Promise<void> => {
    for (const client of [pub, sub]) if (client.isOpen) client.destroy();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.all([pub.connect(), sub.connect()]),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${where} within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      }),
    ]);
  } catch (error) {
    await close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    adapter: 'cluster' in target ? createShardedAdapter(pub, sub, { channelPrefix: 'roommesh' }) : createAdapter(pub, sub, { key: 'roommesh', requestsTimeout: options.requestsTimeoutMs }),
    async healthy(timeoutMs) {
      if (!pub.isReady || !sub.isReady) return false;
      let pingTimer: ReturnType<typeof setTimeout> | undefined;
      try {
        const pong = await Promise.race([
          pub.ping(),
          new Promise<string>((resolve) => {
            pingTimer = setTimeout(() => resolve('timeout'), timeoutMs);
          }),
        ]);
        return pong === 'PONG';
      } catch {
        return false;
      } finally {
        clearTimeout(pingTimer);
      }
    },
    close,
  };
}
