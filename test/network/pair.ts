/**
 * Drives the lab's participants (test/network/agent.ts) from the test process: a roommesh pair
 * through the signaling service, or a raw simple-peer pair signalled through this process; and
 * the measurements of a cell (time to the first message, path, path changes, small-message
 * latency, bulk throughput).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RtcStackName } from '../../client/index.js';
import type { Host, Lab } from './lab.js';

export type Event = Record<string, unknown> & { event: string; t: number };

/** Runs jobs one after another (the cell's bulk transfers). */
export type Serial = <T>(job: () => Promise<T>) => Promise<T>;

export function serialQueue(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** Seconds of traffic before the steady window, while ICE may still move to a better candidate pair. */
export const SETTLE_S = 10;

export class Agent {
  readonly events: Event[] = [];
  private readonly waiters = new Set<() => void>();
  stderr = '';

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    createInterface({ input: process.stdout! }).on('line', (line) => {
      let event: Event;
      try {
        event = JSON.parse(line) as Event;
      } catch {
        return;
      }
      this.events.push(event);
      for (const wake of [...this.waiters]) wake();
    });
    process.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
  }

  tell(command: object): void {
    this.process.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The first event named `name` after index `from` (that passes `test`), or a failure naming the agent. */
  next(name: string, timeoutMs: number, from = 0, test: (e: Event) => boolean = () => true): Promise<Event> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        const found = this.events.slice(from).find((e) => e.event === name && test(e));
        if (found === undefined) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const check = (): void => void look();
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.name}: no "${name}" within ${timeoutMs} ms (last events: ${JSON.stringify(this.events.slice(-4))}; stderr: ${this.stderr.slice(-1500)})`));
      }, timeoutMs);
      if (!look()) this.waiters.add(check);
    });
  }
}

export function spawnAgent(lab: Lab, host: Host, name: string, config: object): Agent {
  const child = lab.spawn(host.ns, process.execPath, ['--import', 'tsx', 'test/network/agent.ts', JSON.stringify({ name, ...config })]);
  return new Agent(name, child);
}

/** The Python participant (python_agent.py, aiortc), speaking agent.ts's lines. */
export function spawnPythonAgent(lab: Lab, host: Host, name: string, config: { url: string; room: string; peerId?: string; initiate?: boolean }): Agent {
  return new Agent(name, lab.spawn(host.ns, '/usr/bin/python3', ['test/network/python_agent.py', JSON.stringify({ name, ...config })]));
}

/** A browser page (Chromium or Firefox, in the host's namespace) running roommesh: browser-agent.ts. */
export function spawnBrowser(lab: Lab, host: Host, name: string, config: { browser: 'chromium' | 'firefox'; url: string; room: string }): Agent {
  const child = lab.spawn(host.ns, process.execPath, ['--import', 'tsx', 'test/network/browser-agent.ts', JSON.stringify({ name, ...config })]);
  return new Agent(name, child);
}

/** A raw simple-peer pair on `stack`, its signals passed between the two processes by this one. */
export function rawPair(lab: Lab, a: Host, b: Host, stack: RtcStackName, iceServers: object[]): [Agent, Agent] {
  const offerer = spawnAgent(lab, a, `raw-${stack}-a`, { kind: 'raw', stack, initiator: true, iceServers });
  const answerer = spawnAgent(lab, b, `raw-${stack}-b`, { kind: 'raw', stack, initiator: false, iceServers });
  for (const [from, to] of [
    [offerer, answerer],
    [answerer, offerer],
  ] as const) {
    let seen = 0;
    createInterface({ input: from.process.stdout! }).on('line', () => {
      for (const event of from.events.slice(seen)) if (event.event === 'signal') to.tell({ cmd: 'signal', data: event['data'] });
      seen = from.events.length;
    });
  }
  return [offerer, answerer];
}

export interface CellFigures {
  /** From the start of enable() (roommesh) or of the connection (raw) to the first message's receipt. */
  firstMs: number;
  /** The path at the end: `kind local/remote protocol`. */
  path: string;
  /** Path changes in the first SETTLE_S seconds of traffic, while ICE may still settle on a pair. */
  settling: number;
  /** Path changes during the steady window after that. */
  changes: number;
  p50: number;
  p99: number;
  received: number;
  sent: number;
  inOrder: boolean;
  duplicates: number;
  mbPerSecond: number;
}

const describePath = (event: Event | undefined): string => {
  const path = event?.['path'] as { kind?: string; local?: string; remote?: string; protocol?: string } | string | undefined;
  if (typeof path === 'string') return path;
  if (path === undefined) return String(event?.['link'] ?? '?');
  return `${path.kind ?? '?'}${path.local === undefined ? '' : ` ${path.local}/${path.remote ?? '?'}`}${path.protocol === undefined ? '' : ` ${path.protocol}`}`;
};

/**
 * Measures a linked pair: the first message (timed from `a`'s enable(), or the raw pair's start), then `seconds` of 10 small messages a second from
 * `a` to `b` (path changes counted meanwhile), then an 8 MiB attachment.
 */
export async function measure(a: Agent, b: Agent, seconds: number, serial: Serial): Promise<CellFigures> {
  const startedAt = (await a.next('enabling', 30_000)).t;
  await a.next('present', 30_000);
  await b.next('present', 30_000);
  // Sends wait for enable() to resolve (a participant can be listed a moment before).
  await a.next('enabled', 30_000);
  a.tell({ cmd: 'first' });
  const first = await b.next('got-first', 15_000).catch((error: unknown) => {
    throw new Error(`${String(error)}; the sender's last events: ${JSON.stringify(a.events.slice(-4))}`);
  });
  // Traffic through the settling time (ICE may still move to a better pair) and the steady window.
  const streamFrom = a.events.length;
  const count = (SETTLE_S + seconds) * 10;
  a.tell({ cmd: 'stream', rate: 10, count });
  const streamed = await a.next('stream-sent', (SETTLE_S + seconds + 30) * 1000, streamFrom);
  const steadyFrom = streamed.t - seconds * 1000;
  const paths = a.events.slice(streamFrom).filter((e) => e.event === 'path' && e.t <= streamed.t);
  const settling = paths.filter((e) => e.t < steadyFrom).length;
  const changes = paths.length - settling;
  const reportFrom = b.events.length;
  b.tell({ cmd: 'report' });
  const report = await b.next('report', 10_000, reportFrom);
  const pathFrom = a.events.length;
  a.tell({ cmd: 'path' });
  const path = await a.next('path-now', 10_000, pathFrom);
  // One attachment at a time across the cell's pairs: each gets the cores to itself.
  const bulk = await serial(() => {
    const from = a.events.length;
    a.tell({ cmd: 'bulk', bytes: 8 * 1024 * 1024 });
    return a.next('bulk-done', 60_000, from);
  });
  return {
    firstMs: first.t - startedAt,
    path: describePath(path),
    settling,
    changes,
    p50: Number(report['p50']),
    p99: Number(report['p99']),
    received: Number(report['received']),
    sent: count,
    inOrder: report['inOrder'] === true,
    duplicates: Number(report['duplicates']),
    mbPerSecond: Number(bulk['mbPerSecond']),
  };
}

/** The repairs two agents reported (ICE restarts, silent links heard again, service reconnections), in words for a report. */
export function repairs(...agents: Agent[]): string {
  return agents
    .map((agent) => {
      const counts = new Map<string, number>();
      for (const e of agent.events) if (e.event === 'repair') counts.set(String(e['what']), (counts.get(String(e['what'])) ?? 0) + 1);
      return `${agent.name}: ${counts.size === 0 ? 'no repairs' : [...counts].map(([what, n]) => `${what} ×${n}`).join(', ')}`;
    })
    .join('; ');
}

/** Writes a lab test's figures to test-artifacts/network/`name`.json (with the date) and .md (a table of `header` and `rows`), and prints the table. */
export function writeReport(name: string, data: object, header: readonly string[], rows: readonly string[]): void {
  mkdirSync('test-artifacts/network', { recursive: true });
  writeFileSync(`test-artifacts/network/${name}.json`, `${JSON.stringify({ date: new Date().toISOString(), ...data }, null, 2)}\n`);
  const table = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows].join('\n');
  writeFileSync(`test-artifacts/network/${name}.md`, `${table}\n`);
  console.log(table);
}
