/**
 * Integration harness: real services on port 0, real clients with `iceServers: []`
 * (nothing leaves the machine), waits on events with a timeout and a label, and
 * cleanup that closes everything a test opened.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino, type Logger as PinoLogger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterEach } from 'vitest';
import { RoomClient, type Logger, type MessagingClient, type MessagingEvents, type RoomClientOptions, type RoomEvents, type RtcStackName } from '../client/index.js';
import { messagingControl } from '../client/messaging-context.js';
import { RTC_STACK_NAMES } from '../client/options.js';
import { createSignalingServer, type SignalingServer, type SignalingServerOptions } from '../signaling/index.js';
import { attachmentBytes } from './shared/driver.js';
import { withTimeout } from './timeout.js';

const servers: SignalingServer[] = [];
const rooms: RoomClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await Promise.all(rooms.splice(0).map((room) => room.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: object;
  message: string;
}

/** A client logger that records instead of printing, so tests can assert what was logged. */
export function captureLogger(): Logger & { entries: CapturedLog[] } {
  const entries: CapturedLog[] = [];
  const at = (level: CapturedLog['level']) => (fields: object, message: string) => entries.push({ level, fields, message });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The Node WebRTC stacks the suites run on. */
export const NODE_STACKS: readonly RtcStackName[] = RTC_STACK_NAMES;

export async function startServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const server = await createSignalingServer({ port: 0, logLevel: 'silent', ...options });
  servers.push(server);
  return server;
}

export function newRoom(url: string | string[], room: string, name: string, options: Partial<RoomClientOptions> = {}): RoomClient {
  const client = new RoomClient({ url, room, name, iceServers: [], logger: captureLogger(), ...options });
  rooms.push(client);
  return client;
}

/** Starts and enables each room in turn, so that each one's presence is complete when this resolves. */
export async function joinAll(...clients: RoomClient[]): Promise<void> {
  for (const client of clients) {
    await client.start();
    await client.messaging.enable();
  }
}

export { withTimeout };

interface WaitOptions<Args extends unknown[]> {
  timeoutMs?: number;
  predicate?: (...args: Args) => boolean;
}

/** Resolves with the arguments of the first `event` that passes `predicate`, or fails naming `label`. */
export function waitForEvent<E extends keyof MessagingEvents>(
  emitter: MessagingClient,
  event: E,
  label: string,
  options?: WaitOptions<Parameters<MessagingEvents[E]>>,
): Promise<Parameters<MessagingEvents[E]>>;
export function waitForEvent<E extends keyof RoomEvents>(
  emitter: RoomClient,
  event: E,
  label: string,
  options?: WaitOptions<Parameters<RoomEvents[E]>>,
): Promise<Parameters<RoomEvents[E]>>;
export function waitForEvent(
  emitter: { on(event: string, listener: (...args: unknown[]) => void): () => void },
  event: string,
  label: string,
  options: WaitOptions<unknown[]> = {},
): Promise<unknown[]> {
  let off: () => void = () => {};
  const seen = new Promise<unknown[]>((resolve) => {
    off = emitter.on(event, (...args: unknown[]) => {
      if (options.predicate === undefined || options.predicate(...args)) resolve(args);
    });
  });
  return withTimeout(seen, options.timeoutMs ?? 10_000, label).finally(off);
}

/** Resolves when `condition()` holds, checking after each event loop turn; for states with no event of their own. */
export async function until(condition: () => boolean, label: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Breaks `room`'s direct link to `peerId` as a network failure would (a test hook, off the public API); false if there is none. */
export const breakLink = (room: RoomClient, peerId: string): boolean => messagingControl(room.messaging).breakLink(peerId);

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** `length` pseudo-random bytes from `seed` (the shared suite's generator, so both sides can make them). */
export const randomBytes = (length: number, seed = 1): Uint8Array => attachmentBytes({ size: length, seed });

/** Expects `promise` to reject with a RoomError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.name !== 'RoomError' || e.code !== code) throw new Error(`expected RoomError ${code}, got ${e.name} ${e.code ?? ''}: ${e.message}`);
    return e;
  }
  throw new Error(`expected RoomError ${code}, but it resolved`);
}

/** A service logger whose JSON lines the test can read. */
export function serviceLog(): { lines: Array<{ level: number; msg: string }>; logger: PinoLogger } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

/** A bare socket.io-client speaking the signaling protocol by hand (closed after the test). */
export async function rawClient(url: string, options: { ca?: string; localAddress?: string; extraHeaders?: Record<string, string> } = {}): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, ...options });
  sockets.push(socket);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    }),
    5000,
    'raw socket connect',
  );
  return socket;
}

export interface RawReply {
  ok: boolean;
  error?: { code: string; message: string };
  participant?: { id: string; role?: string; attributes?: Record<string, unknown> };
  participants?: Array<{ id: string }>;
}

/** Sends a request on a raw socket and waits for its acknowledgement. */
export const ask = (socket: Socket, event: string, ...args: unknown[]): Promise<RawReply> =>
  withTimeout(socket.timeout(5000).emitWithAck(event, ...args) as Promise<RawReply>, 6000, `reply to ${event}`);
