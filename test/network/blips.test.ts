/**
 * Blips, in the network lab: two cone NATs with STUN, a roommesh pair on each Node stack and a
 * pair of Chromium pages, each side streaming 10 numbered messages a second to the other the
 * whole time. Site A then loses, in turn:
 *   - UDP for 8 s (the service still reachable): the pair moves to the relay and back;
 *   - everything for 8 s: nothing is lost and nobody leaves, on either side (sends wait);
 *   - everything for 30 s, past connectTimeoutMs: a clear give-up, and a re-link once it is back.
 * The figures of each phase go to test-artifacts/network/blips.{json,md} before anything is asserted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RtcStackName } from '../../client/index.js';
import { Lab, labUnavailable, type Host } from './lab.js';
import { spawnAgent, spawnBrowser, writeReport, type Agent, type Event } from './pair.js';
import { startService } from './service.js';
import { startCoturn } from './turn.js';

const unavailable = labUnavailable();
if (unavailable !== undefined && process.env['ROOMMESH_LAB_REQUIRED'] === '1') throw new Error(`the network lab is required here, and ${unavailable}`);

const RATE = 10;

interface Phase {
  name: string;
  what: 'udp' | 'all';
  /** Seconds after the stream starts that the cut begins, and how long it lasts. */
  at: number;
  seconds: number;
  /** Whether the pair must come through untouched (no failed send, no churn, nothing lost). */
  unharmed: boolean;
}

const PHASES: Phase[] = [
  { name: 'UDP cut for 8 s', what: 'udp', at: 5, seconds: 8, unharmed: true },
  { name: 'network gone for 8 s', what: 'all', at: 28, seconds: 8, unharmed: true },
  { name: 'network gone for 30 s', what: 'all', at: 56, seconds: 30, unharmed: false },
];
/** The stream outlasts the last phase by this long, so that its recovery shows. */
const TAIL_S = 24;
const STREAM_S = (PHASES.at(-1)?.at ?? 0) + (PHASES.at(-1)?.seconds ?? 0) + TAIL_S;

interface Figures {
  party: string;
  phase: string;
  /** Sends made during the phase (either side) that rejected. */
  failed: number;
  /** participant_removed and re-added events on either side during the phase and its recovery. */
  churn: number;
  /** Messages sent during the phase, and how many of them arrived. */
  sent: number;
  delivered: number;
  /** From the cut's start to the first arrival of a message sent after it (either way, the slower). */
  flowingAgainMs: number;
  /** From the cut's end to the first arrival after it (the slower direction). */
  afterRestoreMs: number;
  /** The longest wait of a message sent during the phase (the slower direction). */
  maxLatencyMs: number;
  removedReasons: string[];
  /** What each side said it did meanwhile (its repairs, path changes and log lines), for reading a slow recovery. */
  timeline: string[];
}

const figures: Figures[] = [];

afterAll(() => {
  if (figures.length === 0) return;
  writeReport(
    'blips',
    { figures },
    ['party', 'event', 'failed sends', 'churn events', 'delivered', 'messages flow again after (ms)', 'after the network is back (ms)', 'longest wait (ms)'],
    figures.map((f) => `| ${f.party} | ${f.phase} | ${f.failed} | ${f.churn} | ${f.delivered}/${f.sent} | ${Math.round(f.flowingAgainMs)} | ${Math.round(f.afterRestoreMs)} | ${Math.round(f.maxLatencyMs)} |`),
  );
});

type Arrival = [n: number, sentAt: number, arrivedAt: number];

async function arrivalsOf(agent: Agent): Promise<Arrival[]> {
  const from = agent.events.length;
  agent.tell({ cmd: 'arrivals' });
  return (await agent.next('arrivals', 10_000, from))['list'] as Arrival[];
}

/** One direction's view of a phase: messages sent in [start, end) and when things arrived. */
function direction(arrivals: Arrival[], failures: Event[], start: number, end: number): { sent: number; delivered: number; failed: number; flowing: number; afterRestore: number; maxLatency: number } {
  const sentIn = (at: number): boolean => at >= start && at < end;
  const delivered = arrivals.filter(([, at]) => sentIn(at));
  const failedIn = failures.filter((e) => sentIn(Number(e['at'])));
  // The numbers sent in the window: from the first to the last seen (arrived or failed) within it.
  const numbers = [...delivered.map(([n]) => n), ...failedIn.map((e) => Number(e['n']))];
  const sent = numbers.length === 0 ? 0 : Math.max(...numbers) - Math.min(...numbers) + 1;
  const firstAfter = (t: number): number => Math.min(...arrivals.filter(([, at]) => at >= t).map(([, , arrived]) => arrived)) - t;
  return {
    sent,
    delivered: delivered.length,
    failed: failedIn.length,
    flowing: firstAfter(start),
    afterRestore: firstAfter(end),
    maxLatency: Math.max(0, ...delivered.map(([, at, arrived]) => arrived - at)),
  };
}

describe.skipIf(unavailable !== undefined)('blips (network lab): loss of UDP or of the whole network at one site', () => {
  it('UDP cut for 8 s and the network gone for 8 s cost nothing, on either side; past connectTimeoutMs the pair gives up and re-links', async () => {
    const lab = new Lab();
    try {
      const stacks: RtcStackName[] = ['@roamhq/wrtc', 'node-datachannel'];
      const siteA = lab.site('cone', stacks.length + 1);
      const siteB = lab.site('cone', stacks.length + 1);
      await startCoturn(lab);
      const url = await startService(lab, 'stun', 'unused');
      const pairs: Array<{ party: string; a: Agent; b: Agent }> = stacks.map((stack, i) => ({
        party: `roommesh, ${stack}`,
        a: spawnAgent(lab, siteA.hosts[i] as Host, `a-${stack}`, { kind: 'roommesh', stack, url, room: `blip-${i}` }),
        b: spawnAgent(lab, siteB.hosts[i] as Host, `b-${stack}`, { kind: 'roommesh', stack, url, room: `blip-${i}` }),
      }));
      const slot = stacks.length;
      pairs.push({
        party: 'roommesh, chromium pages',
        a: spawnBrowser(lab, siteA.hosts[slot] as Host, 'a-chromium', { browser: 'chromium', url, room: 'blip-pages' }),
        b: spawnBrowser(lab, siteB.hosts[slot] as Host, 'b-chromium', { browser: 'chromium', url, room: 'blip-pages' }),
      });
      for (const { a, b } of pairs) {
        await a.next('enabled', 60_000);
        await b.next('enabled', 60_000);
        await a.next('present', 30_000);
        await b.next('present', 30_000);
      }
      const count = STREAM_S * RATE;
      const streamFrom = new Map(pairs.map(({ a, b }) => [a, a.events.length] as const).concat(pairs.map(({ b }) => [b, b.events.length] as const)));
      const began = Date.now();
      for (const { a, b } of pairs) {
        a.tell({ cmd: 'stream', rate: RATE, count });
        b.tell({ cmd: 'stream', rate: RATE, count });
      }
      const windows: Array<{ phase: Phase; start: number; end: number }> = [];
      for (const phase of PHASES) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, began + phase.at * 1000 - Date.now())));
        const start = Date.now();
        lab.cut(siteA, true, phase.what);
        await new Promise((resolve) => setTimeout(resolve, phase.seconds * 1000));
        lab.cut(siteA, false);
        windows.push({ phase, start, end: Date.now() });
      }
      for (const { a, b } of pairs) {
        await a.next('stream-sent', (STREAM_S + 90) * 1000, streamFrom.get(a));
        await b.next('stream-sent', (STREAM_S + 90) * 1000, streamFrom.get(b));
      }
      for (const { party, a, b } of pairs) {
        const [toB, toA] = [await arrivalsOf(b), await arrivalsOf(a)];
        const failedA = a.events.filter((e) => e.event === 'send-failed');
        const failedB = b.events.filter((e) => e.event === 'send-failed');
        windows.forEach(({ phase, start, end }, i) => {
          const next = windows[i + 1]?.start ?? Number.POSITIVE_INFINITY;
          const ab = direction(toB, failedA, start, end);
          const ba = direction(toA, failedB, start, end);
          const churned = (agent: Agent): Event[] => agent.events.filter((e) => (e.event === 'removed' || e.event === 'present') && e.t >= start && e.t < next);
          figures.push({
            party,
            phase: phase.name,
            failed: ab.failed + ba.failed,
            churn: churned(a).length + churned(b).length,
            sent: ab.sent + ba.sent,
            delivered: ab.delivered + ba.delivered,
            flowingAgainMs: Math.max(ab.flowing, ba.flowing),
            afterRestoreMs: Math.max(ab.afterRestore, ba.afterRestore),
            maxLatencyMs: Math.max(ab.maxLatency, ba.maxLatency),
            removedReasons: [...failedA, ...failedB].filter((e) => Number(e['at']) >= start && Number(e['at']) < end).map((e) => String(e['message'])).slice(0, 3),
            timeline: [...a.events.map((e) => ['a', e] as const), ...b.events.map((e) => ['b', e] as const)]
              .filter(([, e]) => ['repair', 'path', 'log'].includes(e.event) && e.t >= start && e.t < Math.min(next, end + 10_000))
              .sort(([, x], [, y]) => x.t - y.t)
              .slice(0, 24)
              .map(([side, e]) => `${side} +${e.t - start} ms ${e.event}: ${String(e['what'] ?? e['m'] ?? JSON.stringify(e['path'] ?? e['kind'] ?? ''))}`),
          });
        });
        // Whatever arrived, arrived once and in order, on both sides.
        for (const arrivals of [toA, toB]) {
          const ns = arrivals.map(([n]) => n);
          expect([party, new Set(ns).size, ns.every((n, i) => i === 0 || n > (ns[i - 1] ?? -1))]).toEqual([party, ns.length, true]);
        }
      }
      for (const f of figures) {
        const phase = PHASES.find((p) => p.name === f.phase);
        if (phase?.unharmed === true) {
          // Nothing lost, nobody gone, on either side.
          expect([f.party, f.phase, f.failed, f.churn, f.delivered]).toEqual([f.party, f.phase, 0, 0, f.sent]);
        } else {
          // Past connectTimeoutMs: a give-up with a reason, then messages flow again once the network is back.
          expect([f.party, f.phase, Number.isFinite(f.afterRestoreMs)]).toEqual([f.party, f.phase, true]);
        }
      }
    } finally {
      lab.destroy();
    }
  }, (STREAM_S + 240) * 1000);
});
