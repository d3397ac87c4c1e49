/**
 * What bench/run.ts and bench/trystero.ts share to drive parties: the run's repetitions, the
 * parties alive (closed together after each scenario), and the steps every scenario takes with
 * roommesh, raw simple-peer and Trystero alike (counting, broadcasting, waiting for a mesh,
 * measuring a settled mesh's idle cost).
 */
import { spawnParty, type Message, type Party } from './party.js';
import type { Figure } from './report.js';
import { figure, median, repeat as repeatFigure } from './stats.js';

export const QUICK = process.argv.includes('--quick');
export const REPS = QUICK ? 3 : 5;
export const repeat = (once: () => Promise<number>, reps = REPS): Promise<Figure> => repeatFigure(once, reps);

const parties: Party[] = [];
export async function party(script: string, args: string[], label: string): Promise<Party> {
  const p = await spawnParty(script, args, label);
  parties.push(p);
  return p;
}
export async function closeAll(): Promise<void> {
  await Promise.all(parties.splice(0).map((p) => p.close()));
}

/** Tells a receiving party how much to count, and waits until it is counting (IPC and the data path race otherwise). */
export async function expectAt(receiver: Party, count: number): Promise<void> {
  receiver.send({ type: 'expect', count });
  await receiver.next('expecting');
}

/**
 * Member 0 broadcasts 50 probes per repetition; each figure is the median time until the last
 * receiver has one. `lossy`: roommesh's probes go without receipts (other parties ignore it).
 */
export async function fanOut(members: Party[], lossy = false): Promise<Figure> {
  const [sender, ...receivers] = members;
  if (sender === undefined) throw new Error('no sender');
  let seq = 0;
  return repeat(async () => {
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      sender.send({ type: 'broadcast', seq: ++seq, lossy });
      const [{ at: sentAt }, got] = await Promise.all([sender.next('sent'), Promise.all(receivers.map((r) => r.next('got')))]);
      times.push(Math.max(...got.map((g) => Number(g['at']))) - Number(sentAt));
    }
    return median(times);
  });
}

/** Waits until every member reports its mesh complete: their reports, or a description of what is missing if some never do. */
export async function formed(members: Party[], timeoutMs = 60_000): Promise<Message[] | string> {
  const done = await Promise.all(members.map((m) => m.next('complete', timeoutMs).catch(() => undefined)));
  const reports = done.filter((d): d is Message => d !== undefined);
  return reports.length === members.length ? reports : `incomplete: ${members.length - reports.length} of ${members.length} never saw everyone`;
}

export interface SettledCost {
  /** Over the members (median, min–max): (RSS once linked and idle − RSS before joining) ÷ linked peers, MiB. */
  memoryPerPeerMiB: Figure;
  /** Over the members: CPU while idle, % of a core. */
  idleCpuPercent: Figure;
}

/** A formed mesh (`reports`: each member's `complete`) left idle for 2 s, then measured for `ms`. */
export async function settledCost(members: Party[], reports: Message[], ms = 5_000): Promise<SettledCost> {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (const m of members) m.send({ type: 'idle', ms });
  const idle = await Promise.all(members.map((m) => m.next('idle', ms + 10_000)));
  const peers = members.length - 1;
  const memory = idle.map((d, i) => (Number(d['rss']) - Number(reports[i]?.['baseRss'])) / peers / 2 ** 20);
  return { memoryPerPeerMiB: figure(memory), idleCpuPercent: figure(idle.map((d) => Number(d['cpuPercent']))) };
}

/** A room of `members` joining: once formed, its idle cost, then its broadcast fan-out (and roommesh's without receipts). */
export type Room = { fan: Figure; fanLossy: Figure; cost: SettledCost } | string;

export async function measureRoom(members: Party[]): Promise<Room> {
  const reports = await formed(members);
  if (typeof reports === 'string') return reports;
  const cost = await settledCost(members, reports);
  const fan = await fanOut(members);
  return { cost, fan, fanLossy: await fanOut(members, true) };
}
