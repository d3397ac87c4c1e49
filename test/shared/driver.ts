/**
 * What the shared messaging suite needs from a participant, whatever runs it: a RoomClient
 * in this process (node-driver.ts) or in a Chromium page (browser/page-driver.ts). Every
 * argument and result is plain JSON, so it can cross into a page.
 */
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
}

/** How a driver's participant joins: `relayOnly` allows no direct link (relay-only ICE, no TURN), so every pair goes through the service's relay. */
export interface JoinOptions {
  relayOnly?: boolean;
}

/** The RoomClient options JoinOptions stand for. */
export const joinOptions = (options: JoinOptions = {}): { rtcConfig?: Record<string, unknown>; directTimeoutMs?: number } =>
  options.relayOnly === true ? { rtcConfig: { iceTransportPolicy: 'relay' }, directTimeoutMs: 300 } : {};

export interface Driver {
  readonly label: string;
  /** start() and enable(). */
  join(url: string, room: string, name: string, options?: JoinOptions): Promise<void>;
  /** Names in the presence list, sorted. */
  presence(): Promise<string[]>;
  /** Resolves once the presence list is exactly `names`. */
  waitForPresence(names: string[], timeoutMs: number): Promise<void>;
  send(toName: string, type: string, message: Record<string, unknown>, attachment?: AttachmentSpec): Promise<void>;
  broadcast(type: string, message: Record<string, unknown>, attachment?: AttachmentSpec): Promise<Array<{ name: string; ok: boolean }>>;
  /** Everything received so far, once there are at least `count` messages. */
  waitForMessages(count: number, timeoutMs: number): Promise<ReceivedSummary[]>;
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
