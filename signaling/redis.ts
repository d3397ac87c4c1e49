/**
 * Scale-out: the Socket.IO Redis adapter (@socket.io/redis-adapter with the `redis`
 * client), so that every service process sees every room. Rooms, presence, signals and the
 * relay all go through the adapter (server-side emits, `fetchSockets`); nothing else is
 * stored in Redis.
 */
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { Logger } from './logger.js';

export interface RedisLink {
  /** The adapter to hand to `io.adapter()`. */
  adapter: ReturnType<typeof createAdapter>;
  /** Whether both connections are up and Redis answers a PING within `timeoutMs`. */
  healthy(timeoutMs: number): Promise<boolean>;
  /** Closes both connections; pending commands fail at once rather than wait for a Redis that is gone. */
  close(): Promise<void>;
}

export interface RedisOptions {
  url: string;
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

export async function connectRedis(options: RedisOptions): Promise<RedisLink> {
  const { logger } = options;
  const where = redactUrl(options.url);
  const pub = createClient({
    url: options.url,
    // Keep retrying while the service runs: /healthz reports the outage meanwhile.
    socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000), connectTimeout: options.connectTimeoutMs },
    // No per-command timeout (node-redis defaults to 5 s): a publish that is merely slow under
    // load must not be dropped, since relayed packets are already acknowledged to their sender.
    // What waits is bounded instead, in count.
    commandOptions: { timeout: 0 },
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
  });
  const sub = pub.duplicate();
  // The adapter does not handle a failed publish (a full queue, Redis gone), and an unhandled
  // rejection ends a Node process: catch it here, log it, count the loss.
  const publish = pub.publish.bind(pub);
  let lastDrop = 0;
  (pub as { publish: unknown }).publish = (...args: Parameters<typeof publish>) =>
    publish(...args).catch((error: unknown) => {
      options.onPublishFailed?.();
      if (Date.now() - lastDrop > 5_000) {
        lastDrop = Date.now();
        logger.error({ redis: where, err: error instanceof Error ? error.message : String(error) }, 'a message for other service processes was lost');
      }
      return 0;
    });
  let lastError = 0;
  for (const [role, client] of [['pub', pub], ['sub', sub]] as const) {
    client.on('error', (error: Error) => {
      if (Date.now() - lastError < 5_000) return; // one line per outage burst, not one per retry
      lastError = Date.now();
      logger.error({ redis: where, role, err: error.message }, 'Redis connection error; retrying');
    });
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
    adapter: createAdapter(pub, sub, { key: 'roommesh', requestsTimeout: options.requestsTimeoutMs }),
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
