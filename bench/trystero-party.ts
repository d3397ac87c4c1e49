/**
 * One Trystero 0.25 peer in its own process (`ty <stack>`), driven by bench/run.ts over IPC like
 * bench/child.ts's parties. It uses Trystero's API as its README shows it: `joinRoom` of
 * @trystero-p2p/mqtt, `makeAction` messages and a request action for round trips, with three
 * local replacements so that nothing leaves the machine:
 * - `relayConfig.urls`: the bench's own mosquitto on 127.0.0.1 instead of five public brokers;
 * - `rtcConfig.iceServers: []` instead of Google's and Cloudflare's STUN (host candidates only,
 *   as roommesh and raw get);
 * - `rtcPolyfill`: the stack's RTCPeerConnection. On @roamhq/wrtc, `setLocalDescription()` with
 *   no argument (which Trystero calls) throws "Expected an object", and Trystero swallows it: no
 *   offer is ever sent. The subclass below creates the description first, as a browser does.
 *   node-datachannel's own polyfill (`node-datachannel/polyfill`) needs nothing.
 * Commands: join, expect, rtt, small, file, broadcast, idle (bench/idle.ts), close. Times are epoch ms.
 */
import type { DataPayload, MessageAction, RequestAction } from '@trystero-p2p/core';
import { joinRoom } from '@trystero-p2p/mqtt';
import { idle } from './idle.js';
import { isStack, type Stack } from './stack.js';

type Command = Record<string, unknown> & { type: string };
const send = (message: Record<string, unknown>): void => void process.send?.(message);
const now = (): number => performance.timeOrigin + performance.now();

const stackArg = process.argv[2] ?? '@roamhq/wrtc';
if (!isStack(stackArg)) throw new Error(`unknown stack ${stackArg}`);
const stack: Stack = stackArg;

type Description = { type: string; sdp?: string } | undefined;
interface PeerConnectionLike {
  readonly signalingState: string;
  createOffer(): Promise<Description>;
  createAnswer(): Promise<Description>;
  setLocalDescription(description?: Description): Promise<void>;
}
type PeerConnectionClass = new (config?: unknown) => PeerConnectionLike;

async function polyfill(): Promise<PeerConnectionClass> {
  if (stack === 'node-datachannel') return ((await import('node-datachannel/polyfill')) as unknown as { RTCPeerConnection: PeerConnectionClass }).RTCPeerConnection;
  const wrtc = (await import('@roamhq/wrtc')) as unknown as { default?: { RTCPeerConnection: PeerConnectionClass }; RTCPeerConnection: PeerConnectionClass };
  const Base = (wrtc.default ?? wrtc).RTCPeerConnection;
  return class extends Base {
    override async setLocalDescription(description?: Description): Promise<void> {
      if (description?.sdp === undefined && description?.type !== 'rollback') {
        const answering = /^have-(remote-offer|local-pranswer)$/.test(this.signalingState);
        description = answering ? await this.createAnswer() : await this.createOffer();
      }
      return super.setLocalDescription(description);
    }
  };
}

const rtcPolyfill = await polyfill();
let room: ReturnType<typeof joinRoom> | undefined;
const peers: string[] = [];
let expected = 0;
let received = 0;
let bytes = 0;

process.on('message', (c: Command) => {
  handle(c).catch((error: Error) => send({ type: 'error', message: error.stack ?? error.message }));
});

async function handle(c: Command): Promise<void> {
  if (c.type === 'join') {
    const want = Number(c.peers);
    const baseRss = process.memoryUsage().rss;
    room = joinRoom(
      { appId: 'roommesh-bench', relayConfig: { urls: [String(c.broker)], redundancy: 1 }, rtcConfig: { iceServers: [] }, rtcPolyfill: rtcPolyfill as unknown as typeof RTCPeerConnection },
      String(c.room),
      // A pair that fails is Trystero's to retry or not: the bench's wait for `complete` decides.
      { onJoinError: (error) => void process.stderr.write(`[trystero] join error: ${error.error}\n`) },
    );
    const message = room.makeAction<DataPayload>('m');
    message.onMessage = (data) => {
      received++;
      if (data instanceof Uint8Array || data instanceof ArrayBuffer) bytes += data.byteLength;
      const probe = (data as { seq?: unknown } | null)?.seq;
      if (typeof probe === 'number') send({ type: 'got', at: now(), seq: probe });
      if ((expected > 0 && received === expected) || (expected < 0 && bytes >= -expected)) send({ type: 'all', at: now() });
    };
    const echo = room.makeAction<DataPayload, DataPayload>('echo', { kind: 'request', onRequest: (data: DataPayload) => data });
    room.onPeerJoin = (peerId) => {
      peers.push(peerId);
      if (peers.length === want) send({ type: 'complete', at: now(), rss: process.memoryUsage().rss, baseRss });
    };
    actions = { message, echo };
    send({ type: 'enabled', at: now() });
  } else if (c.type === 'expect') {
    expected = Number(c.count); // negative: a number of bytes
    received = 0;
    bytes = 0;
    send({ type: 'expecting' });
  } else if (c.type === 'rtt') {
    // Awaited round trips to the first peer: a request answered by its echo (roommesh's awaited send resolves on the receipt).
    const target = first();
    const body = { text: 'x'.repeat(80) };
    const times: number[] = [];
    for (let i = 0; i < Number(c.count); i++) {
      const t = performance.now();
      await actions?.echo.request(body, { target });
      times.push(performance.now() - t);
    }
    send({ type: 'rtt', times });
  } else if (c.type === 'small') {
    const target = first();
    const body = { text: 'x'.repeat(80) };
    const started = now();
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < Number(c.count); i++) sends.push(actions?.message.send(body, { target }) ?? Promise.resolve());
    send({ type: 'sending', at: started });
    await Promise.all(sends);
  } else if (c.type === 'file') {
    const target = first();
    send({ type: 'sending', at: now() });
    await actions?.message.send(new Uint8Array(Number(c.size)).fill(0x61), { target });
    send({ type: 'sent', at: now() });
  } else if (c.type === 'broadcast') {
    const at = now();
    await actions?.message.send({ seq: Number(c.seq) });
    send({ type: 'sent', at });
  } else if (c.type === 'idle') {
    send(await idle(Number(c.ms)));
  } else if (c.type === 'close') {
    await room?.leave();
    process.exit(0);
  }
}

let actions: { message: MessageAction<DataPayload>; echo: RequestAction<DataPayload, DataPayload> } | undefined;

function first(): string {
  const peer = peers[0];
  if (peer === undefined) throw new Error('no peer joined');
  return peer;
}

send({ type: 'started', role: 'ty', rss: process.memoryUsage().rss });
