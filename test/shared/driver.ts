/**
 * What the shared messaging suite needs from a participant, whatever runs it: a RoomClient
 * in this process (node-driver.ts) or in a Chromium page (browser/page-driver.ts). Every
 * argument and result is plain JSON, so it can cross into a page.
 */
import type { Delivery } from '../../client/index.js';

export interface AttachmentSpec {
  size: number;
  seed: number;
}

export interface ReceivedSummary {
  from: string;
  type: string;
  message: Record<string, unknown>;
  broadcast: boolean;
  attachment: { size: number; sha256: string } | null;
  /** How it was sent: 'reliable', 'unordered', 'lossy' or 'latest'. */
  delivery: string;
}

/** How a driver's participant joins: `relayOnly` allows no direct link (relay-only ICE, no TURN), so every pair goes through the service's relay. */
export interface JoinOptions {
  relayOnly?: boolean;
}

/** The RoomClient options JoinOptions stand for. */
export const joinOptions = (options: JoinOptions = {}): { rtcConfig?: Record<string, unknown>; directTimeoutMs?: number } =>
  options.relayOnly === true ? { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 300 } : {};

/** How a send with progress (and perhaps an abort) went, seen by its sender. */
export interface ProgressReport {
  /** The rejection's code, or null when the send resolved. */
  code: string | null;
  /** Every `onProgress` call's sentBytes, and the totalBytes they reported. */
  sent: number[];
  totals: number[];
  /** The sender's `stats().queuedOutgoingBytes` once the send settled. */
  queuedOutgoingBytes: number;
}

export interface IncomingEntry {
  from: string;
  type: string;
  messageId: string;
  receivedBytes: number;
  totalBytes: number;
}

/** What a receiver saw of large incoming messages. */
export interface IncomingReport {
  progress: IncomingEntry[];
  aborted: IncomingEntry[];
  /** `stats().pendingIncomingBytes` now. */
  pendingIncomingBytes: number;
}

export type RequestOutcome = { ok: true; message: Record<string, unknown> } | { ok: false; code: string; message: string };

/**
 * The request handlers every driver registers with serveRequests(): `sum` replies `{ sum: x + y }`,
 * `fail` throws an Error('no can do'), `slow` replies after `SLOW_HANDLER_MS`.
 */
export const SLOW_HANDLER_MS = 1_500;

export interface Driver {
  readonly label: string;
  /** start() and enable(). */
  join(url: string, room: string, name: string, options?: JoinOptions): Promise<void>;
  /** Names in the presence list, sorted. */
  presence(): Promise<string[]>;
  /** Resolves once the presence list is exactly `names`. */
  waitForPresence(names: string[], timeoutMs: number): Promise<void>;
  send(toName: string, type: string, message: Record<string, unknown>, attachment?: AttachmentSpec, delivery?: Delivery): Promise<void>;
  broadcast(type: string, message: Record<string, unknown>, attachment?: AttachmentSpec, delivery?: Delivery): Promise<Array<{ name: string; ok: boolean }>>;
  /** Everything received so far, once there are at least `count` messages. */
  waitForMessages(count: number, timeoutMs: number): Promise<ReceivedSummary[]>;
  /** Sends an attachment with onProgress; aborts it once `abortAtBytes` are written (null: never). */
  sendWithProgress(toName: string, type: string, attachment: AttachmentSpec, abortAtBytes: number | null): Promise<ProgressReport>;
  /** Resolves once `incoming()` has at least `count` entries of `kind`. */
  waitForIncoming(kind: 'progress' | 'aborted', count: number, timeoutMs: number): Promise<IncomingReport>;
  /** Registers the handlers `sum`, `fail` and `slow` (see SLOW_HANDLER_MS). */
  serveRequests(): Promise<void>;
  request(toName: string, type: string, message: Record<string, unknown>, timeoutMs: number): Promise<RequestOutcome>;
  /** Starts a `for await` over `messages({ type })` in the background. */
  startIterating(type: string): Promise<void>;
  /** The types it yielded so far, and whether the loop has ended. */
  iterated(): Promise<{ types: string[]; ended: boolean }>;
  /** Resolves once the loop has ended. */
  waitForIterationEnd(timeoutMs: number): Promise<{ types: string[]; ended: boolean }>;
  /** The `link` of each participant_link_changed event for `name`, in order. */
  linkChanges(name: string): Promise<string[]>;
  /** Resolves once linkChanges(name) equals `links`. */
  waitForLinkChanges(name: string, links: string[], timeoutMs: number): Promise<void>;
  disable(): Promise<void>;
  close(): Promise<void>;
}

/** The bytes an AttachmentSpec stands for (xorshift32; the page driver has the same generator). */
export function attachmentBytes({ size, seed }: AttachmentSpec): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
