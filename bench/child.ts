/**
 * One benchmark party in its own process, driven by bench/run.ts over IPC. Roles:
 *   rm <stack>    a roommesh participant (joins, enables, reports presence and receptions)
 *   raw <stack>   a raw simple-peer endpoint; signals travel through the parent
 *   relay    a plain Socket.IO client of bench/relay-server (the "relay through a server" baseline)
 *   relay-server  that Socket.IO server
 * Every message to the parent is { type, ... }; times are epoch ms (timeOrigin + now), comparable across processes.
 */
import SimplePeer from 'simple-peer';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RoomClient } from '../client/index.js';
import { idle } from './idle.js';
import { isStack, rawRtc, type Stack } from './stack.js';

type Command = Record<string, unknown> & { type: string };
const send = (message: Record<string, unknown>): void => void process.send?.(message);
const now = (): number => performance.timeOrigin + performance.now();
const on = (handler: (command: Command) => void | Promise<void>): void => {
  process.on('message', (command: Command) => {
    Promise.resolve(handler(command)).catch((error: Error) => send({ type: 'error', message: error.stack ?? error.message }));
  });
};

const role = process.argv[2];
const stackArg = process.argv[3] ?? '@roamhq/wrtc';
if (!isStack(stackArg)) throw new Error(`unknown stack ${stackArg}`);
const stack: Stack = stackArg;

if (role === 'rm') {
  let room: RoomClient | undefined;
  let expected = 0;
  let received = 0;
  on(async (c) => {
    if (c.type === 'join') {
      const baseRss = process.memoryUsage().rss;
      const warn = (fields: object, message: string): void => void process.stderr.write(`[${String(c.name)}] ${message} ${JSON.stringify(fields)}\n`);
      room = new RoomClient({ url: String(c.url), room: String(c.room), name: String(c.name), rtc: stack, iceServers: [], logger: { debug() {}, info() {}, warn, error: warn } });
      const want = Number(c.peers);
      const check = (): void => {
        if (room && room.messaging.getParticipants().length === want) send({ type: 'complete', at: now(), rss: process.memoryUsage().rss, baseRss });
      };
      room.messaging.on('participant_added', check);
      room.messaging.on('message', (m) => {
        received++;
        if (m.type === 'probe') send({ type: 'got', at: now(), seq: m.message['seq'] });
        if (received === expected) send({ type: 'all', at: now() });
      });
      await room.start();
      await room.messaging.enable();
      send({ type: 'enabled', id: room.localParticipant.id, at: now() });
      check();
    } else if (c.type === 'expect') {
      expected = Number(c.count);
      received = 0;
      send({ type: 'expecting' });
    } else if (c.type === 'broadcast') {
      const at = now();
      // `lossy`: no receipts (the other parties have no acknowledgement at all), to show what they cost.
      await room?.messaging.broadcastMessage({ type: 'probe', message: { seq: Number(c.seq) }, ...(c['lossy'] === true ? { delivery: 'lossy' as const } : {}) });
      send({ type: 'sent', at });
    } else if (c.type === 'close') {
      await room?.close();
      process.disconnect?.();
    }
  });
}

if (role === 'raw') {
  const wrtc = await rawRtc(stack);
  /** One remote's pair: its current peer, whether that peer opened, whether it took an offer. */
  interface Pair {
    peer: SimplePeer.Instance;
    up: boolean;
    offered: boolean;
  }
  const pairs = new Map<string, Pair>();
  let want = 0;
  let connected = 0;
  let expected = 0;
  let received = 0;
  let bytes = 0;
  let closing = false;
  let baseRss: number | undefined;
  /**
   * A pair whose connection fails before it opens is made again: the initiator creates a new
   * peer and offers, and a second offer to a peer that never opened replaces it.
   * (node-datachannel fails a few per cent of handshakes in bursts across processes; without
   * this the raw mesh would never complete there. @roamhq/wrtc's never fail here.)
   */
  const open = (remote: string, initiator: boolean, echo: boolean): Pair => {
    const peer = new SimplePeer({ initiator, wrtc, config: { iceServers: [] }, trickle: true });
    const pair: Pair = { peer, up: false, offered: false };
    pairs.set(remote, pair);
    peer.on('signal', (data) => send({ type: 'signal', to: remote, data }));
    peer.on('connect', () => {
      pair.up = true;
      connected++;
      if (connected === want) send({ type: 'complete', at: now(), rss: process.memoryUsage().rss, baseRss });
    });
    peer.on('data', (data: Uint8Array) => {
      if (echo) return peer.send(data);
      received++;
      bytes += data.length;
      if (data[0] === 0x50) send({ type: 'got', at: now() }); // 'P': a probe
      if ((expected > 0 && received === expected) || (expected < 0 && bytes >= -expected)) send({ type: 'all', at: now() });
    });
    peer.on('error', () => {
      if (!pair.up && initiator && pairs.get(remote) === pair && !closing) open(remote, true, echo);
    });
    return pair;
  };
  const echoes = new Map<string, boolean>();
  on((c) => {
    if (c.type === 'peer') {
      baseRss ??= process.memoryUsage().rss;
      const remote = String(c.remote);
      want = Number(c.want);
      echoes.set(remote, Boolean(c.echo));
      open(remote, Boolean(c.initiator), Boolean(c.echo));
    } else if (c.type === 'signal') {
      const from = String(c.from);
      const data = c.data as SimplePeer.SignalData;
      let pair = pairs.get(from);
      if (pair === undefined) return;
      if (data.type === 'offer') {
        if (pair.offered && !pair.up) {
          pair.peer.destroy(); // the initiator is trying again
          pair = open(from, false, echoes.get(from) ?? false);
        }
        pair.offered = true;
      }
      if (!(pair.peer as SimplePeer.Instance & { destroyed?: boolean }).destroyed) pair.peer.signal(data);
    } else if (c.type === 'expect') {
      expected = Number(c.count); // negative: a number of bytes
      received = 0;
      bytes = 0;
      send({ type: 'expecting' });
    } else if (c.type === 'broadcast') {
      const at = now();
      const probe = new Uint8Array(100).fill(0x50); // 'P': counted as a probe by receivers
      for (const { peer } of pairs.values()) peer.send(probe);
      send({ type: 'sent', at });
    } else if (c.type === 'close') {
      closing = true;
      for (const { peer } of pairs.values()) peer.destroy();
      process.disconnect?.();
    }
  });
}

if (role === 'relay-server') {
  const http = createServer();
  const server = new Server(http, { maxHttpBufferSize: 64 * 1024 * 1024 });
  server.on('connection', (socket) => {
    socket.on('name', (name: string) => void socket.join(name));
    socket.on('to', (to: string, payload: unknown) => void socket.to(to).emit('msg', payload));
  });
  http.listen(0, '127.0.0.1', () => send({ type: 'listening', url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` }));
  on((c) => {
    if (c.type === 'close') void server.close(() => process.disconnect?.());
  });
}

if (role === 'relay') {
  let socket: Socket | undefined;
  let expected = 0;
  let received = 0;
  on((c) => {
    if (c.type === 'connect') {
      socket = connect(String(c.url), { transports: ['websocket'] });
      socket.on('connect', () => {
        socket?.emit('name', String(c.name));
        send({ type: 'ready' });
      });
      socket.on('msg', (payload: { from: string; kind?: string }) => {
        if (c.echo) return socket?.emit('to', payload.from, payload);
        received++;
        if (received === expected) send({ type: 'all', at: now() });
      });
    } else if (c.type === 'expect') {
      expected = Number(c.count);
      received = 0;
      send({ type: 'expecting' });
    } else if (c.type === 'close') {
      socket?.disconnect();
      process.disconnect?.();
    }
  });
}

// Every role: its idle cost on request (bench/idle.ts).
process.on('message', (c: Command) => {
  if (c.type === 'idle') void idle(Number(c['ms'])).then(send);
});

send({ type: 'started', role });
