/**
 * Soak: 8 participants, each in its own process, each sending 2,000 direct messages to
 * every other and 500 broadcasts, with random attachments. Every process checks that it got
 * each message exactly once, in per-sender order, with the right attachment (by hash), and
 * reports its memory. Bounded: it stops by itself, or fails, within SOAK_TIMEOUT_MS.
 */
import { describe, expect, it } from 'vitest';
import { spawnFixture } from '../child.js';
import { startServer } from '../helpers.js';

const PARTICIPANTS = Number(process.env['SOAK_PARTICIPANTS'] ?? 8);
const DIRECT = Number(process.env['SOAK_DIRECT'] ?? 2000);
const BROADCASTS = Number(process.env['SOAK_BROADCASTS'] ?? 500);
const SOAK_TIMEOUT_MS = 240_000;

const spawnSoak = (url: string, name: string, seed: number) =>
  spawnFixture(
    'test/fixtures/soak.ts',
    [url, 'soak', name, String(PARTICIPANTS - 1), String(DIRECT), String(BROADCASTS), String(seed)],
    name,
    {},
    SOAK_TIMEOUT_MS,
  );

describe('soak', () => {
  it(`${PARTICIPANTS} processes, ${DIRECT} direct messages to each other and ${BROADCASTS} broadcasts each: every one once, in order, intact`, async () => {
    const { url } = await startServer();
    const parties = Array.from({ length: PARTICIPANTS }, (_, i) => spawnSoak(url, `p${i}`, 1000 + i));
    await Promise.all(parties.map((p) => p.next('ready')));
    const started = performance.now();
    for (const p of parties) p.tell('go');
    const sent = await Promise.all(parties.map((p) => p.next('sent')));
    const expected = (DIRECT + BROADCASTS) * (PARTICIPANTS - 1);
    await Promise.all(parties.map((p) => p.next('received')));
    const seconds = (performance.now() - started) / 1000;
    for (const p of parties) p.tell('report');
    const reports = await Promise.all(parties.map((p) => p.next('done')));
    for (const p of parties) p.tell('exit');
    const total = expected * PARTICIPANTS;
    console.log(
      `[measure] soak: ${total.toLocaleString('en')} deliveries in ${seconds.toFixed(1)} s (${Math.round(total / seconds).toLocaleString('en')}/s); ` +
        `RSS MiB when meshed → peak: ${reports.map((r) => `${String(r['rssReadyMiB'])}→${String(r['peakRssMiB'])}`).join(', ')}`,
    );
    expect(sent.map((s) => s['failed'])).toEqual(parties.map(() => 0));
    expect(reports.map((r) => r['problems'])).toEqual(parties.map(() => []));
    expect(reports.map((r) => r['received'])).toEqual(parties.map(() => expected));
    expect(reports.map((r) => r['presence'])).toEqual(parties.map(() => PARTICIPANTS - 1));
    expect(reports.map((r) => r['relayed'])).toEqual(parties.map(() => 0));
    // Bounded memory: no process grew by more than 300 MiB over its meshed size while carrying
    // its 32,000+ messages (each keeps at most 256 unreceipted sends; attachments ≤ 256 KiB).
    for (const r of reports) expect((r['peakRssMiB'] as number) - (r['rssReadyMiB'] as number)).toBeLessThan(300);
    const exits = await Promise.all(parties.map((p) => p.exited));
    expect(exits.map((e) => e.code), exits.map((e) => `${String(e.signal)} ${e.stderr.slice(-500)}`).join('\n')).toEqual(parties.map(() => 0));
  }, SOAK_TIMEOUT_MS + 30_000);
});
