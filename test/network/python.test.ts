/**
 * The Python participant (aiortc) across NATs in the network lab: paired with a Node participant
 * on @roamhq/wrtc behind another NAT, through the lab's coturn (STUN, TURN over UDP and TCP) or the
 * service relay. Every message arrives once and in order, over the path that network allows.
 * aiortc does not trickle its candidates: its offer or answer waits until it has gathered every
 * one (a STUN answer, a TURN allocation), so the time from enable() to linked is reported per
 * cell (test-artifacts/network/python.{json,md}).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, labUnavailable, type Host, type NatKind } from './lab.js';
import { measure, serialQueue, spawnAgent, spawnPythonAgent, writeReport, type CellFigures } from './pair.js';
import { startService, type IceKind } from './service.js';
import { startCoturn } from './turn.js';

const unavailable = labUnavailable();
if (unavailable !== undefined && process.env['ROOMMESH_LAB_REQUIRED'] === '1') throw new Error(`the network lab is required here, and ${unavailable}`);
/** The steady window: what this suite asserts is linking and delivery, not a long watch for flaps (matrix.test.ts does that). */
const STEADY_S = Math.min(10, Number(process.env['ROOMMESH_LAB_STEADY_S'] ?? 10));

interface Cell {
  name: string;
  /** Whether the Python side initiates the pair (offers); it joins again until the ids say so. */
  pythonInitiates: boolean;
  nats: [NatKind, NatKind];
  ice: IceKind;
  /** The path the Node side reports at the end. */
  expected: RegExp;
  expectedText: string;
}

const CELLS: Cell[] = [
  { name: 'cone / cone, STUN, Python answers', pythonInitiates: false, nats: ['cone', 'cone'], ice: 'stun', expected: /^direct (srflx|prflx)\/(srflx|prflx)( udp)?$/, expectedText: 'direct srflx/srflx' },
  { name: 'symmetric / symmetric, TURN over UDP, Python offers', pythonInitiates: true, nats: ['symmetric', 'symmetric'], ice: 'turn-udp', expected: /^direct (relay\/\w+|\w+\/relay)( udp)?$/, expectedText: 'direct, through TURN (udp)' },
  // aiortc does not trickle: it waits 5 s for the STUN answer that a UDP-blocked network never gives, then
  // allocates on the TURN server, before its offer or answer leaves. As the initiator it still links through
  // TURN over TCP (its attempt's time counts from the offer); as the answerer, the peer's direct attempt is
  // over by then, and the pair stays on the service relay (retrying direct with backoff).
  { name: 'UDP blocked / cone, TURN over TCP, Python offers', pythonInitiates: true, nats: ['udp-blocked', 'cone'], ice: 'turn-tcp', expected: /^direct \w+\/relay( udp)?$/, expectedText: 'direct through TURN (over TCP on its side)' },
  { name: 'UDP blocked / cone, TURN over TCP, Python answers', pythonInitiates: false, nats: ['udp-blocked', 'cone'], ice: 'turn-tcp', expected: /^relayed$/, expectedText: 'the service relay (its answer comes too late)' },
  { name: 'cone / cone, no ICE servers, Python offers', pythonInitiates: true, nats: ['cone', 'cone'], ice: 'none', expected: /^relayed$/, expectedText: 'the service relay' },
];

const results: Array<{ cell: string; figures: (CellFigures & { nodePath: string; pythonEnableMs: number; pythonLinkedMs: number; pythonDirectMs: number | undefined }) | string }> = [];

afterAll(() => {
  if (results.length === 0) return;
  writeReport(
    'python',
    { steadySeconds: STEADY_S, results },
    ['network', 'path (Node side)', 'Python enable() (ms)', 'Python linked after (ms)', 'direct after (ms)', 'first message (ms)', '8 MiB Python → Node (MB/s)', 'p50 / p99 (ms)', 'delivered'],
    results.map(({ cell, figures }) =>
      typeof figures === 'string'
        ? `| ${cell} | ${figures} | | | | | | | |`
        : `| ${cell} | ${figures.nodePath} | ${Math.round(figures.pythonEnableMs)} | ${Math.round(figures.pythonLinkedMs)} | ${figures.pythonDirectMs === undefined ? '–' : Math.round(figures.pythonDirectMs)} | ${Math.round(figures.firstMs)} | ${figures.mbPerSecond.toFixed(1)} | ${figures.p50} / ${figures.p99} | ${figures.received}/${figures.sent} |`,
    ),
  );
});

describe.skipIf(unavailable !== undefined)('the Python participant across NATs (network lab)', () => {
  // The cells run at once, in one lab: a service per kind of ICE configuration, one coturn, a pair of sites per cell.
  it(`${CELLS.map((c) => `${c.name}: ${c.expectedText}`).join('; ')}; every message once and in order`, async () => {
    const lab = new Lab();
    try {
      const turn = await startCoturn(lab);
      const serial = serialQueue();
      const runs = CELLS.map(async (cell, i) => {
        try {
          const [siteA, siteB] = cell.nats.map((nat) => lab.site(nat, 1));
          const url = await startService(lab, cell.ice, turn.secret);
          const room = `python-${i}`;
          const node = spawnAgent(lab, siteB?.hosts[0] as Host, `node-${i}`, { kind: 'roommesh', stack: '@roamhq/wrtc', url, room });
          const peerId = String((await node.next('started', 30_000))['id']);
          await node.next('enabled', 30_000);
          const python = spawnPythonAgent(lab, siteA?.hosts[0] as Host, `python-${i}`, { url, room, peerId, initiate: cell.pythonInitiates });
          const figures = await measure(python, node, STEADY_S, serial);
          const [enabling, present, enabled] = await Promise.all([python.next('enabling', 1_000), python.next('present', 1_000), python.next('enabled', 1_000)]);
          const from = node.events.length;
          node.tell({ cmd: 'path' });
          const pathNow = await node.next('path-now', 10_000, from);
          const path = pathNow['path'] as { kind?: string; local?: string; remote?: string; protocol?: string } | undefined;
          const nodePath = path === undefined ? String(pathNow['link']) : `${path.kind ?? '?'}${path.local === undefined ? '' : ` ${path.local}/${path.remote ?? '?'}`}${path.protocol === undefined ? '' : ` ${path.protocol}`}`;
          const direct = python.events.find((e) => (e.event === 'present' || e.event === 'path') && e['link'] === 'direct');
          results.push({ cell: cell.name, figures: { ...figures, nodePath, pythonEnableMs: Number(enabled['ms']), pythonLinkedMs: present.t - enabling.t, pythonDirectMs: direct === undefined ? undefined : direct.t - enabling.t } });
          return { cell, figures, nodePath };
        } catch (error) {
          results.push({ cell: cell.name, figures: `failed: ${String(error).slice(0, 2000)}` });
          throw error;
        }
      });
      for (const { cell, figures, nodePath } of await Promise.all(runs)) {
        expect([cell.name, figures.received, figures.duplicates, figures.inOrder]).toEqual([cell.name, figures.sent, 0, true]);
        expect(nodePath, `${cell.name}: path ${nodePath}, expected ${cell.expectedText}`).toMatch(cell.expected);
      }
    } finally {
      lab.destroy();
    }
  }, (STEADY_S + 150) * 1000);
});
