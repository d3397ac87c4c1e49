/**
 * A participant of the network lab, in its own process inside a host's namespace:
 *   ip netns exec <ns> node --import tsx test/network/agent.ts '<json config>'
 * JSON lines on stdout are its events, lines on stdin the test's commands. Two kinds:
 * - `roommesh`: a RoomClient on the chosen stack, reporting its path to the peer and every change;
 * - `raw`: a bare simple-peer pair on the same stack (the baseline), signalled through the test
 *   process (`signal` events out, `signal` commands in), so that a failure can be told apart as
 *   roommesh's, the stack's, the TURN server's or the lab's.
 * Both answer the same commands: `first` (one message, timed from enable / from start),
 * `stream` (numbered messages at a rate, with send times: the receiver reports latency and order),
 * `bulk` (an attachment, timed to its receipt), `report` and `arrivals` (what the stream delivered), `stop`.
 */
import SimplePeer from 'simple-peer';
import { createInterface } from 'node:readline';
import { RoomClient, type RemoteParticipant, type RtcStackName } from '../../client/index.js';
import { resolveRtc } from '../../client/rtc.js';

interface Config {
  kind: 'roommesh' | 'raw';
  stack: RtcStackName;
  name: string;
  url?: string;
  room?: string;
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  /** Raw only: whether this side offers. */
  initiator?: boolean;
  rtcConfig?: Record<string, unknown>;
  directTimeoutMs?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const say = (event: string, fields: object = {}): void => void process.stdout.write(`${JSON.stringify({ event, t: Date.now(), ...fields })}\n`);
const started = performance.now();

/** What both kinds offer the commands: send a small message, send bytes and wait for the peer's receipt. */
interface Transport {
  sendSmall(body: object): Promise<void>;
  sendBulk(bytes: Uint8Array): Promise<void>;
}

let transport: Transport | undefined;
/** Stream reception: the numbers seen, in order, and one-way latencies (the hosts share one clock). */
const received: number[] = [];
const latencies: number[] = [];
/** Every stream message as it arrived: [n, sent at, arrived at] (ms since the epoch). */
const arrivals: Array<[number, number, number]> = [];

function onSmall(body: Record<string, unknown>): void {
  if (body['kind'] === 'stream') {
    received.push(Number(body['n']));
    latencies.push(Date.now() - Number(body['at']));
    arrivals.push([Number(body['n']), Number(body['at']), Date.now()]);
    if (received.length % 50 === 0) say('received', { count: received.length });
  } else if (body['kind'] === 'first') say('got-first', { ms: Date.now() - Number(body['at']) });
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

async function command(line: string): Promise<void> {
  const cmd = JSON.parse(line) as Record<string, unknown>;
  if (cmd['cmd'] === 'signal') return raw?.signal(cmd['data'] as SimplePeer.SignalData);
  if (cmd['cmd'] === 'stop') {
    await stop();
    return;
  }
  if (cmd['cmd'] === 'path') {
    const peer = room?.messaging.getParticipants()[0];
    return say('path-now', peer === undefined ? { path: (await rawPath()) ?? 'none' } : describePath(peer));
  }
  if (transport === undefined) return say('error', { message: `no link yet for ${String(cmd['cmd'])}` });
  if (cmd['cmd'] === 'first') {
    const at = Date.now();
    await transport.sendSmall({ kind: 'first', at });
    say('first-sent', { sinceStartMs: performance.now() - started, roundTripMs: Date.now() - at });
  } else if (cmd['cmd'] === 'stream') {
    const count = Number(cmd['count']);
    const everyMs = 1000 / Number(cmd['rate']);
    const sends: Array<Promise<void>> = [];
    for (let n = 0; n < count; n++) {
      const at = Date.now();
      sends.push(transport.sendSmall({ kind: 'stream', n, at }).catch((error: unknown) => say('send-failed', { n, at, message: String(error) })));
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    await Promise.all(sends);
    say('stream-sent', { count });
  } else if (cmd['cmd'] === 'report') {
    const duplicates = received.length - new Set(received).size;
    const inOrder = received.every((n, i) => i === 0 || n > (received[i - 1] ?? -1));
    say('report', { received: received.length, duplicates, inOrder, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
  } else if (cmd['cmd'] === 'arrivals') {
    say('arrivals', { list: arrivals });
  } else if (cmd['cmd'] === 'bulk') {
    const bytes = new Uint8Array(Number(cmd['bytes']));
    const at = performance.now();
    await transport.sendBulk(bytes);
    say('bulk-done', { mbPerSecond: bytes.length / 1e6 / ((performance.now() - at) / 1000) });
  }
}

// ---- roommesh --------------------------------------------------------------------------------
let room: RoomClient | undefined;

function describePath(p: RemoteParticipant): object {
  return { link: p.link, path: (p as unknown as { path?: unknown }).path };
}

async function startRoommesh(): Promise<void> {
  // Repairs worth counting in a report: an ICE restart, a silent link heard again, the service checked and reconnected.
  const repairs: Record<string, string> = {
    'restarting ICE on the direct link': 'ice-restart',
    'the direct link is heard again: it carries on, nothing rebuilt or resent': 'link-revived',
    'rejoined the room after reconnecting': 'service-back',
  };
  const quiet = { debug() {}, info: (_f: object, m: string) => void (repairs[m] === undefined ? undefined : say('repair', { what: repairs[m] })), warn: (f: object, m: string) => process.stderr.write(`warn ${m} ${JSON.stringify(f)}\n`), error: (f: object, m: string) => process.stderr.write(`error ${m} ${JSON.stringify(f)}\n`) };
  room = new RoomClient({
    url: config.url ?? '',
    room: config.room ?? 'lab',
    name: config.name,
    rtc: config.stack,
    logger: quiet,
    ...(config.iceServers === undefined ? {} : { iceServers: config.iceServers }),
    ...(config.rtcConfig === undefined ? {} : { rtcConfig: config.rtcConfig }),
    ...(config.directTimeoutMs === undefined ? {} : { directTimeoutMs: config.directTimeoutMs }),
  });
  const messaging = room.messaging;
  messaging.on('message', (m) => onSmall(m.message));
  messaging.on('participant_link_changed', (p) => say('path', describePath(p)));
  messaging.on('participant_added', (p) => {
    const peer = p;
    transport = {
      sendSmall: (body) => messaging.sendMessage({ to: peer, type: 'lab', message: body as Record<string, never> }),
      sendBulk: (bytes) => messaging.sendMessage({ to: peer, type: 'bulk', message: {}, attachment: bytes }),
    };
    say('present', { id: p.id, sinceStartMs: performance.now() - started, ...describePath(p) });
  });
  messaging.on('participant_removed', (p) => say('removed', { id: p.id }));
  await room.start();
  say('started', { id: room.localParticipant.id });
  const enabling = performance.now();
  say('enabling');
  await messaging.enable();
  say('enabled', { ms: performance.now() - enabling, peers: messaging.getParticipants().length });
}

// ---- raw simple-peer -------------------------------------------------------------------------
let raw: SimplePeer.Instance | undefined;

async function startRaw(): Promise<void> {
  const rtc = await resolveRtc(config.stack);
  say('enabling'); // the raw pair's start, to compare with roommesh's enable()
  raw = new SimplePeer({
    initiator: config.initiator === true,
    wrtc: rtc as SimplePeer.Options['wrtc'],
    trickle: true,
    config: { iceServers: config.iceServers ?? [], ...(config.rtcConfig ?? {}) } as RTCConfiguration,
  });
  const peer = raw;
  const receipts = new Map<number, () => void>();
  let nextId = 0;
  peer.on('signal', (data: SimplePeer.SignalData) => say('signal', { data }));
  peer.on('error', (error: Error) => say('raw-error', { message: error.message }));
  peer.on('close', () => say('raw-closed'));
  peer.on('data', (data: Uint8Array) => {
    if (data[0] === 0x7b) {
      const body = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
      if (body['ack'] !== undefined) return receipts.get(Number(body['ack']))?.();
      if (body['bulkEnd'] !== undefined) return peer.send(JSON.stringify({ ack: body['bulkEnd'] }));
      onSmall(body);
      return peer.send(JSON.stringify({ ack: body['id'] }));
    }
    // Bulk bytes: counted by the sender's end marker, which arrives after them (the channel is ordered).
  });
  peer.on('connect', () => {
    const acked = (id: number): Promise<void> => new Promise((resolve) => receipts.set(id, resolve));
    transport = {
      sendSmall: (body) => {
        const id = nextId++;
        const done = acked(id);
        peer.send(JSON.stringify({ ...body, id }));
        return done;
      },
      sendBulk: async (bytes) => {
        // Paced by bufferedAmount, 64 KiB chunks; done when the peer acknowledges the end.
        const chunk = 64 * 1024;
        const channel = (peer as unknown as { _channel: { bufferedAmount: number } })._channel;
        for (let at = 0; at < bytes.length; at += chunk) {
          while (channel.bufferedAmount > 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 2));
          peer.send(bytes.subarray(at, at + chunk));
        }
        const id = nextId++;
        const done = acked(id);
        peer.send(JSON.stringify({ bulkEnd: id }));
        await done;
      },
    };
    say('present', { sinceStartMs: performance.now() - started });
    say('enabled'); // as roommesh's enable() resolving: it can send now
  });
}

/** The raw pair's selected path, read from its stats, every second: a change is a flap. */
async function rawPath(): Promise<string | undefined> {
  const pc = (raw as unknown as { _pc?: { getStats(): Promise<Map<string, Record<string, unknown>>> } })?._pc;
  if (pc == null) return undefined;
  const stats = await pc.getStats();
  const all = [...stats.values()];
  const pair = all.find((s) => s['type'] === 'candidate-pair' && (s['selected'] === true || (s['nominated'] === true && s['state'] === 'succeeded')));
  const local = all.find((s) => s['id'] === pair?.['localCandidateId']);
  const remote = all.find((s) => s['id'] === pair?.['remoteCandidateId']);
  return pair === undefined ? undefined : `${String(local?.['candidateType'])}/${String(remote?.['candidateType'])}`;
}

async function stop(): Promise<void> {
  await room?.close();
  raw?.destroy();
  say('stopped');
  process.exit(0);
}

createInterface({ input: process.stdin }).on('line', (line) => void command(line).catch((error: unknown) => say('error', { message: String(error) })));
if (config.kind === 'raw') {
  await startRaw();
  let last: string | undefined;
  setInterval(() => {
    void rawPath().then((path) => {
      if (path !== undefined && path !== last) say('path', { path });
      last = path ?? last;
    });
  }, 1000).unref();
} else await startRoommesh();
