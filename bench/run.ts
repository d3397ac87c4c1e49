/**
 * `npm run bench`: roommesh against Trystero (bench/trystero.ts), raw simple-peer data channels
 * and a plain Socket.IO relay, side by side in one run, on loopback with `iceServers: []`; then
 * roommesh against Trystero in Chromium (bench/browser.ts). Every party runs in its
 * own process (bench/child.ts) except where a scenario says "in one process". Each figure is
 * the median of several repetitions after a warm-up, with its spread (min–max of the
 * repetitions). roommesh and raw simple-peer run on each Node WebRTC stack (bench/stack.ts),
 * scenario by scenario, alternating stacks. Writes test-artifacts/bench/latest.json, latest.md and
 * latest.svg, and prints a table with one column group per stack.
 *   npm run bench [-- --quick] [--stack=wrtc|ndc|@roamhq/wrtc,node-datachannel]
 */
import { cpus, totalmem } from 'node:os';
import SimplePeer from 'simple-peer';
import { io as connect } from 'socket.io-client';
import { RoomClient } from '../client/index.js';
import { createSignalingServer } from '../signaling/index.js';
import { existsSync } from 'node:fs';
import { CHROMIUM } from '../test/browser/chromium.js';
import { browserRows, browserTable, type BrowserRow } from './browser.js';
import { bundleSizes } from './bundles.js';
import { QUICK, REPS, closeAll, expectAt, measureRoom, party, repeat, type Room, type SettledCost } from './drive.js';
import { startBroker, trysteroMesh, trysteroOneToOne, trysteroRoom, type Broker } from './trystero.js';
import { epoch, spawnParty, type Party } from './party.js';
import { writeReport, type Figure, type Row, type Value } from './report.js';
import { SHORT, rawRtc, stacksFromArgs, type Stack } from './stack.js';
import { figure, median } from './stats.js';

/** `--only=relay` (or rm, raw, fan, mesh, local, room50, ty, bundles, browser): run just that part, for profiling; writes no report. */
const ONLY = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const STACKS = stacksFromArgs(process.argv);
const silent = { debug() {}, info() {}, warn() {}, error() {} };



const CHILD = 'bench/child.ts';

const payload = (size: number): Uint8Array => new Uint8Array(size).fill(0x61);

// ---------------------------------------------------------------- roommesh, 1:1
async function roommeshPair(stack: Stack) {
  const server = await createSignalingServer({ port: 0, logLevel: 'silent' });
  const remote = await party(CHILD, ['rm', stack], 'rm-b');
  const local = new RoomClient({ url: server.url, room: 'pair', name: 'a', rtc: stack, iceServers: [], logger: silent });
  await local.start();
  await local.messaging.enable();
  remote.send({ type: 'join', url: server.url, room: 'pair', name: 'b', peers: 1 });
  const { id } = await remote.next('enabled');
  while (local.messaging.getParticipant(String(id)) === undefined) await new Promise((r) => setTimeout(r, 2));
  return {
    local,
    remote,
    to: String(id),
    async close() {
      await local.close();
      await closeAll();
      await server.close();
    },
  };
}

async function roommeshOneToOne(stack: Stack) {
  const pair = await roommeshPair(stack);
  const { local, remote, to } = pair;
  const message = { text: 'x'.repeat(80) };
  const rtt = await repeat(async () => {
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await local.messaging.sendMessage({ to, type: 'ping', message });
      times.push(performance.now() - t);
    }
    return median(times);
  });
  const N = QUICK ? 10_000 : 20_000;
  const small = await repeat(async () => {
    await expectAt(remote, N);
    const started = epoch();
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < N; i++) sends.push(local.messaging.sendMessage({ to, type: 'm', message }));
    const { at } = await remote.next('all', 60_000);
    await Promise.all(sends);
    return N / ((Number(at) - started) / 1000);
  });
  const size = 32 * 1024 * 1024;
  const big = payload(size);
  const bulk = await repeat(async () => {
    await expectAt(remote, 1);
    const started = epoch();
    await local.messaging.sendMessage({ to, type: 'file', message: {}, attachment: big });
    const { at } = await remote.next('all', 60_000);
    return size / 1e6 / ((Number(at) - started) / 1000);
  });
  await pair.close();
  return { rtt, small, bulk };
}

// ---------------------------------------------------------------- raw simple-peer, 1:1
async function rawPair(stack: Stack, echo: boolean) {
  const remote = await party(CHILD, ['raw', stack], 'raw-b');
  const local = new SimplePeer({ initiator: true, wrtc: await rawRtc(stack), config: { iceServers: [] }, trickle: true });
  local.on('signal', (data) => remote.send({ type: 'signal', from: 'a', data }));
  remote.send({ type: 'peer', remote: 'a', initiator: false, want: 1, echo });
  const relaySignals = setInterval(() => {
    for (const m of remote.take('signal')) local.signal(m['data'] as SimplePeer.SignalData);
  }, 1);
  await new Promise<void>((resolve) => local.once('connect', () => resolve()));
  await remote.next('complete');
  clearInterval(relaySignals);
  return { local, remote };
}

/** Sends while the channel buffer is under `high`, polling it otherwise (@roamhq/wrtc has no bufferedamountlow). */
async function pacedSend(peer: SimplePeer.Instance, chunks: Uint8Array[], high: number, low: number): Promise<void> {
  for (const chunk of chunks) {
    if (peer.bufferSize >= high) while (peer.bufferSize > low) await new Promise((r) => setTimeout(r, 1));
    peer.send(chunk);
  }
}

async function rawOneToOne(stack: Stack) {
  let { local, remote } = await rawPair(stack, true);
  const ping = payload(100);
  const rtt = await repeat(async () => {
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        local.once('data', () => resolve());
        local.send(ping);
      });
      times.push(performance.now() - t);
    }
    return median(times);
  });
  local.destroy();
  await closeAll();
  ({ local, remote } = await rawPair(stack, false));
  const N = QUICK ? 10_000 : 20_000;
  const small = await repeat(async () => {
    await expectAt(remote, N);
    const started = epoch();
    await pacedSend(local, Array.from({ length: N }, () => ping), 1 << 20, 256 << 10);
    const { at } = await remote.next('all', 60_000);
    return N / ((Number(at) - started) / 1000);
  });
  const size = 32 * 1024 * 1024;
  const bulkByChunk: Record<string, Figure> = {};
  for (const chunk of [16 * 1024, 64 * 1024, 256 * 1024]) {
    const chunks = Array.from({ length: size / chunk }, () => payload(chunk));
    bulkByChunk[`${chunk / 1024} KiB`] = await repeat(async () => {
      await expectAt(remote, -size);
      const started = epoch();
      await pacedSend(local, chunks, 2 << 20, 512 << 10);
      const { at } = await remote.next('all', 60_000);
      return size / 1e6 / ((Number(at) - started) / 1000);
    });
  }
  local.destroy();
  await closeAll();
  const best = Object.entries(bulkByChunk).sort((x, y) => y[1].median - x[1].median)[0];
  return { rtt, small, bulk: best?.[1] as Figure, bestChunk: best?.[0] ?? '', bulkByChunk };
}

// ---------------------------------------------------------------- Socket.IO relay, 1:1
async function relayOneToOne() {
  const server = await party(CHILD, ['relay-server'], 'relay-server');
  const { url } = await server.next('listening');
  const echo = await party(CHILD, ['relay'], 'relay-echo');
  echo.send({ type: 'connect', url, name: 'echo', echo: true });
  await echo.next('ready');
  const sink = await party(CHILD, ['relay'], 'relay-sink');
  sink.send({ type: 'connect', url, name: 'sink', echo: false });
  await sink.next('ready');
  const socket = connect(String(url), { transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.emit('name', 'a');
  const message = { from: 'a', text: 'x'.repeat(80) };
  const rtt = await repeat(async () => {
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        socket.once('msg', () => resolve());
        socket.emit('to', 'echo', message);
      });
      times.push(performance.now() - t);
    }
    return median(times);
  });
  const N = QUICK ? 10_000 : 20_000;
  const small = await repeat(async () => {
    await expectAt(sink, N);
    const started = epoch();
    for (let i = 0; i < N; i++) socket.emit('to', 'sink', message);
    const { at } = await sink.next('all', 60_000);
    return N / ((Number(at) - started) / 1000);
  });
  const size = 32 * 1024 * 1024;
  const big = payload(size);
  const bulk = await repeat(async () => {
    await expectAt(sink, 1);
    const started = epoch();
    socket.emit('to', 'sink', { from: 'a', data: big });
    const { at } = await sink.next('all', 60_000);
    return size / 1e6 / ((Number(at) - started) / 1000);
  });
  socket.disconnect();
  await closeAll();
  return { rtt, small, bulk };
}

// ---------------------------------------------------------------- broadcast fan-out
// Both sides form the full mesh of `participants` processes (a room), left idle for its cost,
// then participant 0 broadcasts a probe; the figure is the time until the last receiver has it.

async function roommeshFanOut(stack: Stack, participants: number): Promise<Room> {
  const server = await createSignalingServer({ port: 0, logLevel: 'silent' });
  try {
    const members = await Promise.all(Array.from({ length: participants }, (_, i) => party(CHILD, ['rm', stack], `rm-${i}`)));
    for (const [i, m] of members.entries()) {
      m.send({ type: 'join', url: server.url, room: 'fan', name: `p${i}`, peers: participants - 1 });
      await m.next('enabled');
    }
    return await measureRoom(members);
  } finally {
    await closeAll();
    await server.close();
  }
}

async function rawFanOut(stack: Stack, participants: number): Promise<Room> {
  try {
    const { members, link } = await rawMeshOf(stack, participants);
    link();
    return await measureRoom(members);
  } finally {
    await closeAll();
  }
}


// ---------------------------------------------------------------- mesh formation, one process per participant
async function roommeshMesh(stack: Stack, n: number): Promise<Figure | string> {
  let failure: string | undefined;
  const measured = await repeat(async () => {
    if (failure !== undefined) return NaN;
    const server = await createSignalingServer({ port: 0, logLevel: 'silent' });
    const members = await Promise.all(Array.from({ length: n }, (_, i) => party(CHILD, ['rm', stack], `mesh-${i}`)));
    const started = epoch();
    for (const [i, m] of members.entries()) m.send({ type: 'join', url: server.url, room: 'mesh', name: `p${i}`, peers: n - 1 });
    const done = await Promise.all(members.map((m) => m.next('complete', 60_000).then((d) => Number(d['at']), () => NaN)));
    // Presence can be complete a moment before enable() resolves (a responder waits for its pong): let it, before closing.
    await Promise.all(members.map((m) => m.next('enabled', 10_000).catch(() => undefined)));
    await closeAll();
    await server.close();
    if (done.some(Number.isNaN)) failure = `incomplete: ${done.filter(Number.isNaN).length} of ${n} never saw everyone`;
    return Math.max(...done) - started;
  }, n > 8 ? 3 : REPS);
  return failure ?? measured;
}

/** n raw processes; `link()` tells each to connect to every other (lower index initiates), relaying their signals. */
async function rawMeshOf(stack: Stack, n: number): Promise<{ members: Party[]; link(): void }> {
  const members = await Promise.all(Array.from({ length: n }, (_, i) => party(CHILD, ['raw', stack], `raw-${i}`)));
  const relay = setInterval(() => {
    members.forEach((m, i) => m.take('signal').forEach((s) => members[Number(s['to'])]?.send({ type: 'signal', from: String(i), data: s['data'] })));
  }, 1);
  void Promise.all(members.map((m) => m.exited)).then(() => clearInterval(relay));
  const link = (): void => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i !== j) members[i]?.send({ type: 'peer', remote: String(j), initiator: i < j, want: n - 1, echo: false });
      }
    }
  };
  return { members, link };
}

async function rawMesh(stack: Stack, n: number): Promise<Figure | string> {
  let failure: string | undefined;
  const measured = await repeat(async () => {
    if (failure !== undefined) return NaN;
    const { members, link } = await rawMeshOf(stack, n);
    const started = epoch(); // after the processes started, as for roommesh
    link();
    const done = await Promise.all(members.map((m) => m.next('complete', 60_000).then((d) => Number(d['at']), () => NaN)));
    await closeAll();
    if (done.some(Number.isNaN)) failure = `incomplete: ${done.filter(Number.isNaN).length} of ${n} never saw everyone`;
    return Math.max(...done) - started;
  }, n > 8 ? 3 : REPS);
  return failure ?? measured;
}

// ---------------------------------------------------------------- n in one process: formation, memory, idle CPU
async function localMesh(stack: Stack, kind: 'rm' | 'raw', n: number) {
  const server = kind === 'rm' ? await createSignalingServer({ port: 0, logLevel: 'silent' }) : undefined;
  const p = await spawnParty('bench/local-mesh.ts', kind === 'rm' ? ['rm', stack, server?.url ?? '', String(n)] : ['raw', stack, String(n)], `local-${kind}-${SHORT[stack]}`);
  p.send({ type: 'go' });
  const outcome = await localOutcome(p, 120_000);
  await p.close(); // SIGKILLs it after 5 s if it does not stop
  await server?.close();
  return outcome;
}

/** A local-mesh party's `result`, or its failure, crash or silence as `{ type, message }`. */
function localOutcome(p: Party, timeoutMs: number): Promise<Record<string, unknown>> {
  return Promise.race([p.next('result', timeoutMs), p.next('failed', timeoutMs), p.exited.then((code) => ({ type: 'crashed', message: `exit code ${String(code)}` }))]).catch(
    (error: Error) => ({ type: 'failed', message: error.message }),
  );
}

// ---------------------------------------------------------------- a room of `total` spread over processes
/** `processes` processes of total / processes roommesh participants each, all starting at once: the time until every participant sees every other. */
async function spreadRoom(stack: Stack, total: number, processes: number): Promise<Figure | string> {
  // The room's 50 would come from 50 addresses; here they share 127.0.0.1, so that limit is lifted.
  const server = await createSignalingServer({ port: 0, logLevel: 'silent', maxParticipantsPerRoom: total, maxConnectionsPerAddress: total });
  const share = total / processes;
  try {
    const members = await Promise.all(
      Array.from({ length: processes }, (_, i) => spawnParty('bench/local-mesh.ts', ['rm', stack, server.url, String(share), String(total), String(i * share)], `room-${i}`)),
    );
    const started = epoch();
    for (const m of members) m.send({ type: 'go' });
    const outcomes = await Promise.all(members.map((m) => localOutcome(m, 180_000)));
    const done = epoch() - started;
    await Promise.all(members.map((m) => m.close()));
    const failed = outcomes.filter((o) => o.type !== 'result');
    if (failed.length > 0) return `incomplete: ${failed.length} of ${processes} processes (${String(failed[0]?.['message'] ?? failed[0]?.type)})`;
    return figure([Math.max(...outcomes.map((o) => Number(o['formationMs'])), 0) || done]);
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------- main
type PerStack<T> = Partial<Record<Stack, T>>;
type Pair = { rm: Value; raw: Value; ty?: Value };
/** roommesh, Trystero (or why it did not run) and raw, on one stack. */
type Trio<T> = { rm: T; ty: T | string; raw: T };
const fanOf = (room: Room): Value => (typeof room === 'string' ? room : room.fan);
const costOf = (room: Room, key: keyof SettledCost): Value => (typeof room === 'string' ? room : room.cost[key]);
const part = <K extends string>(x: Record<K, Value> | string, key: K): Value => (typeof x === 'string' ? x : x[key]);
const trio = <T>(t: Trio<T> | undefined, value: (x: T | string) => Value): Pair | undefined => t && { rm: value(t.rm), ty: value(t.ty), raw: value(t.raw) };

/** Runs `measure` for each stack in turn (roommesh, then raw, on the same stack). */
async function perStack<T>(label: string, log: (text: string) => void, measure: (stack: Stack) => Promise<T>): Promise<PerStack<T>> {
  const out: PerStack<T> = {};
  for (const stack of STACKS) {
    log(`${label} on ${stack}…`);
    out[stack] = await measure(stack);
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const log = (text: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${text}`);
  log(`roommesh bench (${QUICK ? 'quick' : 'full'}, ${REPS} repetitions after a warm-up; stacks: ${STACKS.join(', ')})`);
  const first = STACKS[0] ?? '@roamhq/wrtc';
  if (ONLY !== undefined) {
    const parts: Record<string, () => Promise<unknown>> = {
      rm: () => roommeshOneToOne(first),
      raw: () => rawOneToOne(first),
      relay: relayOneToOne,
      fan: async () => ({ rm: await roommeshFanOut(first, 8), raw: await rawFanOut(first, 8) }),
      mesh: async () => ({ rm: await roommeshMesh(first, 8), raw: await rawMesh(first, 8) }),
      local: async () => ({ rm: await localMesh(first, 'rm', 16), raw: await localMesh(first, 'raw', 16) }),
      room50: () => spreadRoom(first, 50, 5),
      ty: async () => {
        const broker = await startBroker();
        if (typeof broker === 'string') return broker;
        try {
          return { one: await trysteroOneToOne(broker, first), room: await trysteroRoom(broker, first, 4), mesh: await trysteroMesh(broker, first, 4) };
        } finally {
          await broker.close();
        }
      },
      bundles: bundleSizes,
      browser: async () => {
        const broker = await startBroker();
        if (typeof broker === 'string') return broker;
        try {
          return browserTable(await browserRows(broker.url, REPS, QUICK), 'Chromium');
        } finally {
          await broker.close();
        }
      },
    };
    const part = parts[ONLY];
    if (part === undefined) throw new Error(`--only takes one of ${Object.keys(parts).join(', ')}`);
    console.log(JSON.stringify(await part(), null, 1));
    return;
  }
  // Trystero signals through a private mosquitto; without one its cells say why.
  const broker = await startBroker();
  const noBroker = typeof broker === 'string' ? broker : undefined;
  if (noBroker !== undefined) log(`Trystero skipped: ${noBroker}`);
  const tyOr = <T>(measure: (b: Broker) => Promise<T>): Promise<T | string> => (typeof broker === 'string' ? Promise.resolve(broker) : measure(broker));
  const one = await perStack('1:1', log, async (stack) => ({
    rm: await roommeshOneToOne(stack),
    ty: await tyOr((b) => trysteroOneToOne(b, stack)),
    raw: await rawOneToOne(stack),
  }));
  log('1:1 Socket.IO relay…');
  const relay = await relayOneToOne();
  const fan: Record<number, PerStack<Trio<Room>>> = {};
  for (const n of [4, 8]) {
    fan[n] = await perStack(`broadcast fan-out and idle cost, ${n} participants`, log, async (stack) => ({
      rm: await roommeshFanOut(stack, n),
      ty: await tyOr((b) => trysteroRoom(b, stack, n)),
      raw: await rawFanOut(stack, n),
    }));
  }
  const mesh: Record<number, PerStack<Trio<Value>>> = {};
  for (const n of QUICK ? [4, 8] : [4, 8, 16]) {
    mesh[n] = await perStack(`mesh formation, ${n} processes`, log, async (stack) => ({
      rm: await roommeshMesh(stack, n),
      ty: await tyOr((b) => trysteroMesh(b, stack, n)),
      raw: await rawMesh(stack, n),
    }));
  }
  log('Chromium: roommesh and Trystero, two pages…');
  const browser = await tyOr<BrowserRow[] | string>((b) => (existsSync(CHROMIUM) ? browserRows(b.url, REPS, QUICK) : Promise.resolve(`no ${CHROMIUM}: apt-get install chromium`)));
  if (typeof broker !== 'string') await broker.close();
  const bundles = await bundleSizes();
  const local = await perStack('16 in one process', log, async (stack) => ({ rm: await localMesh(stack, 'rm', 16), raw: await localMesh(stack, 'raw', 16) }));
  const room50 = await perStack('a room of 50, 5 processes of 10', log, (stack) => spreadRoom(stack, 50, 5));
  // The stack that can: a 32-participant mesh in one process (992 connections).
  const big = STACKS.includes('node-datachannel') ? await perStack('32 in one process', log, async (stack) => (stack === 'node-datachannel' ? { rm: await localMesh(stack, 'rm', 32), raw: await localMesh(stack, 'raw', 32) } : undefined)) : {};

  const goals: Record<string, PerStack<number>> = {
    rtt: { '@roamhq/wrtc': 1.3, 'node-datachannel': 1.3 },
    small: { '@roamhq/wrtc': 8, 'node-datachannel': 0.7 },
    bulk: { '@roamhq/wrtc': 0.95, 'node-datachannel': 0.95 },
    fan8: { '@roamhq/wrtc': 1.3, 'node-datachannel': 1.3 },
  };
  const row = (scenario: string, unit: string, better: Row['better'], pick: (stack: Stack) => Pair | undefined, goal?: PerStack<number>, relayValue?: Value): Row => {
    const stacks: Row['stacks'] = {};
    for (const stack of STACKS) {
      const pair = pick(stack);
      if (pair === undefined) continue;
      const g = goal?.[stack];
      stacks[stack] = { ...pair, ...(g === undefined ? {} : { goal: g }) };
    }
    return { scenario, unit, better, stacks, ...(relayValue === undefined ? {} : { relay: relayValue }) };
  };
  const rows: Row[] = [
    row('round trip, awaited send ~100 B', 'ms', 'lower', (s) => one[s] && { rm: one[s].rm.rtt, ty: part(one[s].ty, 'rtt'), raw: one[s].raw.rtt }, goals['rtt'], relay.rtt),
    row('small messages one way', 'msgs/s', 'higher', (s) => one[s] && { rm: one[s].rm.small, ty: part(one[s].ty, 'small'), raw: one[s].raw.small }, goals['small'], relay.small),
    row('attachment 32 MiB (raw: its best chunk)', 'MB/s', 'higher', (s) => one[s] && { rm: one[s].rm.bulk, ty: part(one[s].ty, 'bulk'), raw: one[s].raw.bulk }, goals['bulk'], relay.bulk),
    ...[4, 8].map((n) => row(`broadcast to all, ${n} participants (last receiver)`, 'ms', 'lower', (s) => trio<Room>(fan[n]?.[s], fanOf), n === 8 ? goals['fan8'] : undefined)),
    row('broadcast to all, 8 participants, roommesh lossy: no receipts (last receiver)', 'ms', 'lower', (s) => trio<Room>(fan[8]?.[s], (r) => (typeof r === 'string' ? r : r.fanLossy))),
    ...Object.keys(mesh).map((n) => row(`mesh formation, ${n} processes`, 'ms', 'lower', (s) => trio(mesh[Number(n)]?.[s], (v) => v))),
    row('memory per linked peer, 8 processes (median process)', 'MiB', 'lower', (s) => trio(fan[8]?.[s], (r) => costOf(r, 'memoryPerPeerMiB'))),
    row('idle CPU, 8 processes (median process)', '% of a core', 'lower', (s) => trio(fan[8]?.[s], (r) => costOf(r, 'idleCpuPercent'))),
    row('browser bundle, minified', 'KiB', 'lower', (s) => (s === STACKS[0] ? bundles.minified : undefined)),
    row('browser bundle, gzipped', 'KiB', 'lower', (s) => (s === STACKS[0] ? bundles.gzipped : undefined)),
    row('mesh formation, a room of 50 (5 processes of 10)', 'ms', 'lower', (s) => (room50[s] === undefined ? undefined : { rm: room50[s], raw: undefined })),
    ...localRows('16 in one process', local),
    ...localRows('32 in one process', big),
  ];
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, loopback`;
  await writeReport(rows, STACKS, {
    machine,
    quick: QUICK,
    seconds: (performance.now() - started) / 1000,
    rawBulkByChunk: Object.fromEntries(STACKS.map((s) => [s, { best: one[s]?.raw.bestChunk, ...one[s]?.raw.bulkByChunk }])),
    local,
    big,
    room50,
    versions: { trystero: '@trystero-p2p/mqtt 0.25.4 (MQTT strategy), private mosquitto on 127.0.0.1' },
    browser,
  }, typeof browser === 'string' ? `Chromium: ${browser}` : browserTable(browser, 'Chromium'));
  log('done');

  function localRows(label: string, results: PerStack<{ rm: Record<string, unknown>; raw: Record<string, unknown> } | undefined>): Row[] {
    const one = (r: Record<string, unknown>, key: string): Figure | string => (typeof r[key] === 'number' ? figure([r[key] as number]) : `${String(r['type'])}${r['message'] ? `: ${String(r['message'])}` : ''}`);
    const pick = (key: string) => (s: Stack): Pair | undefined => {
      const r = results[s];
      return r === undefined ? undefined : { rm: one(r.rm, key), raw: one(r.raw, key) };
    };
    if (!STACKS.some((s) => results[s] !== undefined)) return [];
    return [
      row(`mesh formation, ${label}`, 'ms', 'lower', pick('formationMs')),
      row(`memory per linked peer, ${label}`, 'MiB', 'lower', pick('rssPerPeerMiB')),
      row(`idle CPU, ${label}`, '% of a core', 'lower', pick('idleCpuPercent')),
      row(`peak file descriptors, ${label}`, 'fds', 'lower', pick('peakFds')),
    ];
  }
}

main().then(
  () => process.exit(0),
  async (error: Error) => {
    console.error(error);
    await closeAll().catch(() => undefined);
    process.exit(1);
  },
);
