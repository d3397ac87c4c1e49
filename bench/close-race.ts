/**
 * How often a process on @roamhq/wrtc dies at a link's close. Two participants, each in a process of
 * its own, link directly, exchange a message, and one of them leaves; the pair does that `--leaves`
 * times in a row, and `--runs` pairs of processes run one after another. A run in which either
 * process was killed by SIGSEGV, SIGABRT or SIGBUS is a crash.
 *   node --import tsx bench/close-race.ts [--mode disable|close|both] [--runs 10] [--leaves 20] [--stack @roamhq/wrtc]
 * Modes: `disable` (one disables; the other hears its goodbye), `close` (one closes its client),
 * `both` (both close at once, as a test's cleanup does).
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { RoomClient, type RemoteParticipant, type RtcStackName } from '../client/index.js';
import { createSignalingServer } from '../signaling/index.js';
import { withTimeout } from '../test/timeout.js';

type Mode = 'disable' | 'close' | 'both';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'disable' },
    runs: { type: 'string', default: '10' },
    leaves: { type: 'string', default: '20' },
    stack: { type: 'string', default: '@roamhq/wrtc' },
    child: { type: 'string' },
    url: { type: 'string' },
    room: { type: 'string', default: '0' },
  },
});
const mode = values.mode as Mode;
const stack = values.stack as RtcStackName;
const leaves = Number(values.leaves);

/** One side of every pair: `a` leaves (by `mode`), `b` stays until it hears that, then closes too. */
async function child(url: string, side: 'a' | 'b'): Promise<void> {
  for (let i = 0; i < leaves; i++) {
    const room = new RoomClient({ url, room: `race-${values.room}-${i}`, name: side, iceServers: [], rtc: stack, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    const heard = new Promise<void>((resolve) => room.messaging.on('message', () => resolve()));
    const removed = new Promise<void>((resolve) => room.messaging.on('participant_removed', () => resolve()));
    await room.start();
    await room.messaging.enable();
    const other = side === 'a' ? 'b' : 'a';
    const listed = room.messaging.getParticipantByName(other) ?? (await withTimeout(new Promise<RemoteParticipant>((resolve) => room.messaging.on('participant_added', (p) => p.name === other && resolve(p))), 10_000, `${side} lists ${other}`));
    if (side === 'a') {
      await withTimeout(room.messaging.sendMessage({ to: listed, type: 'hi', message: {} }), 10_000, 'a message').catch((error: unknown) => {
        if (mode !== 'both') throw error; // b may close before its receipt is back
      });
      if (mode === 'disable') await room.messaging.disable();
      if (mode !== 'both') await new Promise((resolve) => setTimeout(resolve, 20));
      await room.close();
    } else {
      if (mode === 'both') await withTimeout(heard, 10_000, 'b hears a');
      else await withTimeout(removed, 10_000, 'b hears a leave');
      await room.close();
    }
  }
}

async function parent(): Promise<void> {
  const server = await createSignalingServer({ port: 0, logLevel: 'silent' });
  const runs = Number(values.runs);
  let crashes = 0;
  let clean = 0;
  for (let run = 0; run < runs; run++) {
    const ends = (['a', 'b'] as const).map(async (side) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/close-race.ts', '--child', side, '--url', server.url, '--room', `${run}`, '--mode', mode, '--leaves', String(leaves), '--stack', stack], { stdio: ['ignore', 'inherit', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.on('exit', (c, s) => resolve([c, s])));
      return { side, code, signal, stderr };
    });
    const outcomes = await Promise.all(ends);
    if (outcomes.some((o) => o.signal === 'SIGSEGV' || o.signal === 'SIGABRT' || o.signal === 'SIGBUS')) crashes++;
    else if (outcomes.every((o) => o.code === 0)) clean++;
    console.log(`run ${run + 1}: ${outcomes.map((o) => `${o.side} ${o.signal ?? `exit ${String(o.code)}`}${o.code !== 0 && o.signal === null ? ` (${o.stderr.trim().split('\n').filter((l) => /Error/.test(l)).slice(0, 2).join(' / ')})` : ''}`).join(', ')}`);
  }
  console.log(`${stack}, mode ${mode}: ${crashes} of ${runs} runs crashed a process (${leaves} leaves each), ${clean} ran clean`);
  await server.close();
}

if (values.child === 'a' || values.child === 'b') {
  await child(values.url ?? '', values.child);
  process.exit(0);
} else {
  await parent();
}
