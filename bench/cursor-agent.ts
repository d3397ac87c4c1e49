/**
 * One participant of the cursor benchmark (bench/cursors.ts), in its own process inside a lab
 * host's namespace. JSON lines out are its events, lines in the benchmark's commands:
 * - `run { mode, seconds, to? }`: sends a cursor ({ seq, at }) 60 times a second for `seconds`
 *   (to one participant by name, or broadcast), with `delivery: mode`; meanwhile samples, 60
 *   times a second, the age of the newest cursor it holds from each sender (now minus the
 *   newest cursor's send time: the hosts share one clock). Then `done` with the samples' figures.
 * - `bulk { to, bytes }`: sends an attachment of `bytes` to `to`, reliable; `bulk-done` with its time.
 * - `raw` kind: a bare simple-peer pair on one data channel configured as the run's mode would
 *   be (reliable and ordered, or unordered with no retransmission), signalled through the
 *   benchmark; the baseline for what the stack itself gives.
 */
import SimplePeer from 'simple-peer';
import { createInterface } from 'node:readline';
import { RoomClient, type Delivery, type RemoteParticipant, type RtcStackName } from '../client/index.js';
import { resolveRtc } from '../client/rtc.js';

interface Config {
  kind: 'roommesh' | 'raw';
  name: string;
  url?: string;
  room?: string;
  /** Raw: whether this side offers, and its channel's configuration. */
  initiator?: boolean;
  unreliable?: boolean;
  /** The Node stack (default @roamhq/wrtc). */
  stack?: RtcStackName;
  iceServers?: object[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const say = (event: string, fields: object = {}): void => void process.stdout.write(`${JSON.stringify({ event, t: Date.now(), ...fields })}\n`);
const FRAME_MS = 1000 / 60;

/** The newest cursor held from each sender: its sequence number and send time. */
const newest = new Map<string, { seq: number; at: number }>();
let received = 0;

function onCursor(from: string, body: Record<string, unknown>): void {
  if (body['kind'] !== 'cursor') return;
  received++;
  const seq = Number(body['seq']);
  const held = newest.get(from);
  if (held === undefined || seq > held.seq) newest.set(from, { seq, at: Number(body['at']) });
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

interface Sender {
  cursor(body: object, mode: Delivery): Promise<unknown>;
  bulk(to: string, bytes: Uint8Array): Promise<void>;
  superseded(): number;
}
let sender: Sender | undefined;

async function run(mode: Delivery, seconds: number, to: string | undefined, sampleFrom: string | undefined): Promise<void> {
  newest.clear();
  received = 0;
  const samples: number[] = [];
  const supersededBefore = sender?.superseded() ?? 0;
  let failed = 0;
  let seq = 0;
  const cpu = process.cpuUsage();
  const start = Date.now();
  const sends: Array<Promise<unknown>> = [];
  // One timer for both: a frame sends this participant's cursor and samples what it holds.
  await new Promise<void>((resolve) => {
    const frame = setInterval(() => {
      const now = Date.now();
      if (now - start >= seconds * 1000) {
        clearInterval(frame);
        return resolve();
      }
      if (to !== '') sends.push((sender?.cursor({ kind: 'cursor', seq: seq++, at: now, to }, mode) ?? Promise.resolve()).catch(() => failed++));
      for (const [from, held] of newest) if (sampleFrom === undefined || from === sampleFrom) samples.push(now - held.at);
    }, FRAME_MS);
  });
  const used = process.cpuUsage(cpu);
  await Promise.race([Promise.all(sends), new Promise((resolve) => setTimeout(resolve, 2000))]);
  say('done', { cpuMs: (used.user + used.system) / 1000, p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length, received, sent: seq, superseded: (sender?.superseded() ?? 0) - supersededBefore, failed });
}

async function command(line: string): Promise<void> {
  const cmd = JSON.parse(line) as Record<string, unknown>;
  if (cmd['cmd'] === 'signal') {
    // The peer's offer can come before this side's stack has loaded: held until then.
    if (raw === undefined) return void early.push(cmd['data'] as SimplePeer.SignalData);
    return raw.signal(cmd['data'] as SimplePeer.SignalData);
  }
  if (cmd['cmd'] === 'stop') {
    await room?.close();
    raw?.destroy();
    process.exit(0);
  }
  if (cmd['cmd'] === 'run') return run(cmd['mode'] as Delivery, Number(cmd['seconds']), cmd['to'] as string | undefined, cmd['sampleFrom'] as string | undefined);
  if (cmd['cmd'] === 'bulk') {
    const at = performance.now();
    await sender?.bulk(String(cmd['to']), new Uint8Array(Number(cmd['bytes'])));
    say('bulk-done', { ms: performance.now() - at });
  }
}

// ---- roommesh --------------------------------------------------------------------------------
let room: RoomClient | undefined;

async function startRoommesh(): Promise<void> {
  const silent = { debug() {}, info() {}, warn: (f: object, m: string) => process.stderr.write(`warn ${m} ${JSON.stringify(f)}\n`), error: (f: object, m: string) => process.stderr.write(`error ${m} ${JSON.stringify(f)}\n`) };
  room = new RoomClient({ url: config.url ?? '', room: config.room ?? 'cursors', name: config.name, rtc: config.stack ?? '@roamhq/wrtc', logger: silent, ...(JSON.parse(process.env['CURSOR_CLIENT_OPTIONS'] ?? '{}') as object) });
  const messaging = room.messaging;
  messaging.on('message', (m) => onCursor(m.from.name ?? m.fromParticipantId, m.message));
  messaging.on('participant_added', (p) => say('present', { name: p.name, count: messaging.getParticipants().length }));
  const byName = (name: string): RemoteParticipant | undefined => messaging.getParticipantByName(name);
  sender = {
    cursor: (body, mode) => {
      const to = (body as { to?: string }).to;
      if (to === undefined) return messaging.broadcastMessage({ type: 'cursor', message: body as Record<string, never>, delivery: mode });
      return messaging.sendMessage({ to: byName(to) ?? to, type: 'cursor', message: body as Record<string, never>, delivery: mode });
    },
    bulk: (to, bytes) => messaging.sendMessage({ to: byName(to) ?? to, type: 'bulk', message: {}, attachment: bytes }),
    superseded: () => messaging.stats().datagrams.superseded,
  };
  await room.start();
  await messaging.enable();
  say('enabled', { peers: messaging.getParticipants().length });
}

// ---- raw simple-peer -------------------------------------------------------------------------
let raw: SimplePeer.Instance | undefined;
const early: SimplePeer.SignalData[] = [];

async function startRaw(): Promise<void> {
  const rtc = await resolveRtc(config.stack ?? '@roamhq/wrtc');
  const peer = new SimplePeer({
    initiator: config.initiator === true,
    wrtc: rtc as SimplePeer.Options['wrtc'],
    trickle: true,
    config: { iceServers: config.iceServers ?? [] } as RTCConfiguration,
    channelConfig: config.unreliable === true ? { ordered: false, maxRetransmits: 0 } : { ordered: true },
  });
  raw = peer;
  for (const signal of early.splice(0)) peer.signal(signal);
  peer.on('signal', (data: SimplePeer.SignalData) => say('signal', { data }));
  peer.on('error', (error: Error) => say('raw-error', { message: error.message }));
  peer.on('data', (data: Uint8Array) => {
    if (data[0] === 0x7b) onCursor(config.initiator === true ? 'raw-b' : 'raw-a', JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>);
  });
  peer.on('connect', () => {
    const channel = (peer as unknown as { _channel: { bufferedAmount: number } })._channel;
    sender = {
      // As an application on a bare channel would: send each frame's cursor, no receipts.
      cursor: async (body) => peer.send(JSON.stringify(body)),
      bulk: async (_to, bytes) => {
        for (let at = 0; at < bytes.length; at += 64 * 1024) {
          while (channel.bufferedAmount > 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 2));
          peer.send(bytes.subarray(at, at + 64 * 1024));
        }
      },
      superseded: () => 0,
    };
    say('enabled', { peers: 1 });
  });
}

createInterface({ input: process.stdin }).on('line', (line) => void command(line).catch((error: unknown) => say('error', { message: String(error) })));
if (config.kind === 'raw') await startRaw();
else await startRoommesh();
