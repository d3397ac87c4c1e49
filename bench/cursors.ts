/**
 * `npm run bench:cursors` (root: it builds a network lab): a 60 Hz cursor stream, `reliable`
 * against `latest`, on a pair and in a room of 8, each participant its own process on
 * @roamhq/wrtc (or CURSOR_STACK) behind its own cone NAT (test/network/lab.ts), in three conditions:
 * - clean: the lab's links as they are;
 * - loss: every site's router drops 2.5 % of packets both ways (a path between two sites crosses
 *   two routers: ~5 % each way);
 * - bulk: on a clean link, while a 64 MiB attachment flows on the same pair (in the room, from
 *   one participant to the one whose ages are reported).
 * Reported per cell: the age of the newest cursor a receiver holds from each sender, sampled
 * every frame (p50, p99), cursors received and sent, and latest values superseded at the sender.
 * A raw simple-peer pair, on one channel configured reliable or unreliable
 * (`maxRetransmits: 0`), runs the same stream beside the pair as the stack's own baseline.
 * Writes test-artifacts/bench/cursors.{json,md}.
 */
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { Lab, SERVICE_ADDRESS, labUnavailable, type Host, type Site } from '../test/network/lab.js';
import { Agent, type Event } from '../test/network/pair.js';
import { startService } from '../test/network/service.js';
import { startCoturn } from '../test/network/turn.js';
import { writeResult } from './out.js';

const SECONDS = Number(process.env['CURSOR_SECONDS'] ?? 10);
const BULK_BYTES = 64 * 1024 * 1024;
const LOSS_PER_ROUTER = 2.5;
const ROOM_SIZE = Number(process.env['CURSOR_ROOM'] ?? 8);
/** Which conditions and parties to run (all by default): e.g. CURSOR_CONDITIONS=bulk CURSOR_PARTIES=pair. */
const CONDITIONS = (process.env['CURSOR_CONDITIONS'] ?? 'clean,loss,bulk').split(',') as Array<'clean' | 'loss' | 'bulk'>;
const PARTIES = (process.env['CURSOR_PARTIES'] ?? 'pair,raw,room').split(',');
/** The Node stack every participant runs on: @roamhq/wrtc by default, or CURSOR_STACK=node-datachannel. */
const STACK = process.env['CURSOR_STACK'] ?? '@roamhq/wrtc';

interface Row {
  party: string;
  condition: 'clean' | 'loss' | 'bulk';
  mode: string;
  p50: number;
  p99: number;
  received: number;
  sent: number;
  superseded: number;
  failed: number;
  /** The participants' processes' CPU time over the run, in cores (the machine has os.availableParallelism()). */
  cores: number;
  bulkMs?: number;
}

function spawn(lab: Lab, host: Host, config: Record<string, unknown> & { name: string }): Agent {
  return new Agent(config.name, lab.spawn(host.ns, process.execPath, ['--import', 'tsx', 'bench/cursor-agent.ts', JSON.stringify({ stack: STACK, ...config })]));
}

const last = (agent: Agent, name: string, timeoutMs: number): Promise<Event> => agent.next(name, timeoutMs, agent.events.length);

/** Every receiver's figures of one run, merged: ages pooled by their percentiles' worst (p99) and median of medians. */
function merge(reports: Event[]): Pick<Row, 'p50' | 'p99' | 'received' | 'sent' | 'superseded' | 'failed' | 'cores'> {
  const num = (e: Event, k: string): number => Number(e[k]);
  const p50s = reports.map((r) => num(r, 'p50')).sort((a, b) => a - b);
  return {
    p50: p50s[Math.floor(p50s.length / 2)] ?? Number.NaN,
    p99: Math.max(...reports.map((r) => num(r, 'p99'))),
    received: reports.reduce((s, r) => s + num(r, 'received'), 0),
    sent: reports.reduce((s, r) => s + num(r, 'sent'), 0),
    superseded: reports.reduce((s, r) => s + num(r, 'superseded'), 0),
    failed: reports.reduce((s, r) => s + num(r, 'failed'), 0),
    cores: Math.round((reports.reduce((s, r) => s + num(r, 'cpuMs'), 0) / (SECONDS * 1000)) * 100) / 100,
  };
}

/** One run of `agents` (all send when `to` is undefined; else agents[0] sends to agents[1]); in `bulk`, agents[0] sends 64 MiB to agents[1] meanwhile. */
async function runOnce(agents: Agent[], mode: string, bulk: boolean, pair: boolean): Promise<Omit<Row, 'party' | 'condition' | 'mode'>> {
  const receivers = pair ? [agents[1] as Agent] : agents;
  const waits = agents.map((a) => last(a, 'done', (SECONDS + 30) * 1000));
  const bulkDone = bulk ? last(agents[0] as Agent, 'bulk-done', 120_000) : undefined;
  if (bulk) agents[0]?.tell({ cmd: 'bulk', to: agents[1]?.name, bytes: BULK_BYTES });
  agents.forEach((agent, i) => {
    // In a pair only agents[0] sends; in the bulk run the ages reported are those of the bulk's receiver, from the bulk's sender.
    const to = pair ? (i === 0 ? agents[1]?.name : '') : undefined;
    agent.tell({ cmd: 'run', mode, seconds: SECONDS, to, sampleFrom: bulk && i === 1 ? agents[0]?.name : undefined });
  });
  const reports = await Promise.all(waits);
  const figures = merge(receivers.map((r) => reports[agents.indexOf(r)] as Event));
  figures.cores = merge(reports).cores;
  const sender = pair ? [reports[0] as Event] : reports;
  // A broadcast cursor is one send and as many deliveries as there are others.
  figures.sent = sender.reduce((s, r) => s + Number(r['sent']), 0) * (pair ? 1 : agents.length - 1);
  figures.superseded = sender.reduce((s, r) => s + Number(r['superseded']), 0);
  if (bulk) {
    // The ages that matter are the bulk receiver's, from the bulk sender: reported alone.
    const behind = reports[1] as Event;
    figures.p50 = Number(behind['p50']);
    figures.p99 = Number(behind['p99']);
    const done = await bulkDone;
    return { ...figures, bulkMs: Math.round(Number(done?.['ms'])) };
  }
  return figures;
}

async function rawPair(lab: Lab, a: Host, b: Host, unreliable: boolean, ice: object[]): Promise<Agent[]> {
  const agents = [spawn(lab, a, { kind: 'raw', name: 'raw-a', initiator: true, unreliable, iceServers: ice }), spawn(lab, b, { kind: 'raw', name: 'raw-b', unreliable, iceServers: ice })];
  for (const [from, to] of [[agents[0], agents[1]], [agents[1], agents[0]]] as Array<[Agent, Agent]>) {
    let seen = 0;
    createInterface({ input: from.process.stdout! }).on('line', () => {
      for (const event of from.events.slice(seen)) if (event.event === 'signal') to.tell({ cmd: 'signal', data: event['data'] });
      seen = from.events.length;
    });
  }
  try {
    await Promise.all(agents.map((agent) => agent.next('enabled', 30_000)));
  } catch (error) {
    throw new Error(`${(error as Error).message}; the other side: ${JSON.stringify(agents[1]?.events.map((e) => e.event))} ${agents[1]?.stderr ?? ''}`);
  }
  return agents;
}

async function main(): Promise<void> {
  const unavailable = labUnavailable();
  if (unavailable !== undefined) throw new Error(`bench:cursors needs the network lab: ${unavailable}`);
  const lab = new Lab();
  const rows: Row[] = [];
  const setLoss = (sites: Site[], on: boolean): void => sites.forEach((site) => lab.setLoss(site, on ? LOSS_PER_ROUTER : 0));
  try {
    const sites = Array.from({ length: ROOM_SIZE }, () => lab.site('cone', 2));
    const turn = await startCoturn(lab);
    const url = await startService(lab, 'stun', turn.secret);
    const ice = [{ urls: `stun:${SERVICE_ADDRESS}:3478` }];
    const host = (site: number, n: number): Host => sites[site]?.hosts[n] as Host;

    // The pair, and the raw pairs beside it (on the same two sites' second hosts, one at a time).
    const pair = [spawn(lab, host(0, 0), { kind: 'roommesh', name: 'a', url, room: 'pair' }), spawn(lab, host(1, 0), { kind: 'roommesh', name: 'b', url, room: 'pair' })];
    await Promise.all(pair.map((agent) => agent.next('present', 30_000)));
    for (const condition of PARTIES.includes('pair') ? CONDITIONS : []) {
      setLoss(sites, condition === 'loss');
      for (const mode of ['reliable', 'latest']) {
        rows.push({ party: 'roommesh, pair', condition, mode, ...(await runOnce(pair, mode, condition === 'bulk', true)) });
        process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
      }
      for (const unreliable of PARTIES.includes('raw') ? [false, true] : []) {
        if (condition === 'bulk' && unreliable) continue; // an attachment on a channel that drops: not a thing an application does
        const agents = await rawPair(lab, host(0, 1), host(1, 1), unreliable, ice);
        rows.push({ party: `raw simple-peer, one ${unreliable ? 'unreliable' : 'reliable'} channel`, condition, mode: unreliable ? 'maxRetransmits 0' : 'ordered', ...(await runOnce(agents, 'reliable', condition === 'bulk', true)) });
        process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
        for (const agent of agents) agent.tell({ cmd: 'stop' });
      }
    }
    setLoss(sites, false);
    for (const agent of pair) agent.tell({ cmd: 'stop' });

    // The room: one participant per site.
    if (!PARTIES.includes('room')) return void writeTable(rows);
    const room = sites.map((_, i) => spawn(lab, host(i, 0), { kind: 'roommesh', name: `p${i}`, url, room: 'room' }));
    await Promise.all(room.map((agent) => agent.next('present', 60_000, 0, (e) => Number(e['count']) === ROOM_SIZE - 1)));
    for (const condition of CONDITIONS) {
      setLoss(sites, condition === 'loss');
      for (const mode of ['reliable', 'latest']) {
        rows.push({ party: `roommesh, room of ${ROOM_SIZE}`, condition, mode, ...(await runOnce(room, mode, condition === 'bulk', false)) });
        process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
      }
    }
    setLoss(sites, false);
    for (const agent of room) agent.tell({ cmd: 'stop' });
  } finally {
    lab.destroy();
  }
  writeTable(rows);
}

function writeTable(rows: Row[]): void {
  const header = ['party', 'condition', 'mode', 'age p50 (ms)', 'age p99 (ms)', 'received / sent to', 'superseded', 'failed sends', 'CPU (cores)', '64 MiB (s)'];
  const table = [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.party} | ${r.condition} | ${r.mode} | ${r.p50} | ${r.p99} | ${r.received} / ${r.sent} | ${r.superseded} | ${r.failed} | ${r.cores} | ${r.bulkMs === undefined ? '' : (r.bulkMs / 1000).toFixed(1)} |`),
  ].join('\n');
  const note = `${STACK}; 60 Hz cursors for ${SECONDS} s per cell; ages of the newest cursor held, sampled every frame; loss ${LOSS_PER_ROUTER} % per router (~5 % per path); CPU: the participants' processes, in cores of this machine's ${availableParallelism()}; ${new Date().toISOString().slice(0, 10)}.`;
  writeResult('cursors.json', JSON.stringify({ seconds: SECONDS, rows }, null, 2));
  console.log(`${writeResult('cursors.md', `${note}\n\n${table}\n`)}\n\n${table}`);
}

await main();
process.exit(0);
