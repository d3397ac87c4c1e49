/**
 * The shared messaging suite: the same steps and assertions whether the participants are
 * Node processes or Chromium pages (test/integration/shared.test.ts, test/browser/).
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { withTimeout } from '../timeout.js';
import { attachmentBytes, type AttachmentSpec, type Driver, type JoinOptions } from './driver.js';

const sha256 = (spec: AttachmentSpec): string => createHash('sha256').update(attachmentBytes(spec)).digest('hex');
const MiB = 1024 * 1024;

/** Joins everyone to `room`; afterwards each one's presence is exactly the others. */
export async function joinAndSeeEachOther(url: string, room: string, participants: Array<{ driver: Driver; name: string }>, options: JoinOptions = {}): Promise<void> {
  for (const { driver, name } of participants) await driver.join(url, room, name, options);
  for (const { driver, name } of participants) {
    const others = participants.filter((p) => p.name !== name).map((p) => p.name);
    await driver.waitForPresence(others, 10_000);
    expect(await driver.presence(), `${driver.label} presence`).toEqual([...others].sort());
  }
}

/**
 * Every ordered pair exchanges a direct message with an attachment (the first pair's is
 * 5 MiB), then every participant broadcasts once. Each receiver gets each message once,
 * hash-intact, and no broadcast comes back to its sender.
 */
export async function exchangeEverything(participants: Array<{ driver: Driver; name: string }>): Promise<void> {
  const expected = new Map<string, Array<{ from: string; type: string; sha: string | null; broadcast: boolean }>>();
  for (const { name } of participants) expected.set(name, []);
  let seed = 1;
  for (const sender of participants) {
    for (const recipient of participants) {
      if (recipient === sender) continue;
      const spec = { size: seed === 1 ? 5 * MiB : 1000 * seed, seed };
      seed++;
      await sender.driver.send(recipient.name, 'direct', { from: sender.name, to: recipient.name }, spec);
      expected.get(recipient.name)?.push({ from: sender.name, type: 'direct', sha: sha256(spec), broadcast: false });
    }
  }
  for (const sender of participants) {
    const outcomes = await sender.driver.broadcast('news', { from: sender.name });
    expect(outcomes.map((o) => [o.name, o.ok]).sort(), `${sender.driver.label} broadcast outcomes`).toEqual(
      participants.filter((p) => p !== sender).map((p) => [p.name, true]).sort(),
    );
    for (const recipient of participants) if (recipient !== sender) expected.get(recipient.name)?.push({ from: sender.name, type: 'news', sha: null, broadcast: true });
  }
  for (const { driver, name } of participants) {
    const want = expected.get(name) ?? [];
    const got = await driver.waitForMessages(want.length, 20_000);
    const summary = got.map((m) => ({ from: m.from, type: m.type, sha: m.attachment?.sha256 ?? null, broadcast: m.broadcast }));
    // Per sender, in order; across senders the interleaving is free.
    for (const sender of participants) {
      expect(summary.filter((m) => m.from === sender.name), `${driver.label} from ${sender.name}`).toEqual(want.filter((m) => m.from === sender.name));
    }
    expect(got.some((m) => m.from === name), `${driver.label} never hears itself`).toBe(false);
  }
}

type Participant = { driver: Driver; name: string };

const increasing = (values: number[]): boolean => values.every((v, i) => i === 0 || v > (values[i - 1] ?? 0));

/**
 * A 5 MiB attachment with progress: the sender's reports rise strictly and end at the total;
 * the receiver's rise too and stay below it (the last bytes arrive as the message itself).
 */
export async function progressToTheEnd(sender: Participant, receiver: Participant): Promise<void> {
  const spec = { size: 5 * MiB, seed: 13 };
  const before = (await receiver.driver.waitForMessages(0, 1_000)).length;
  const report = await sender.driver.sendWithProgress(receiver.name, 'file', spec, null);
  expect(report.code, `${sender.driver.label} send`).toBeNull();
  const total = report.totals[0] ?? 0;
  expect(total).toBeGreaterThan(spec.size); // the JSON header counts too
  expect(new Set(report.totals).size).toBe(1);
  expect(increasing(report.sent), `${sender.driver.label} progress rises`).toBe(true);
  expect(report.sent.at(-1)).toBe(total);
  expect(report.queuedOutgoingBytes).toBe(0);
  const got = await receiver.driver.waitForMessages(before + 1, 20_000);
  expect(got.at(-1)).toMatchObject({ from: sender.name, type: 'file', attachment: { size: spec.size, sha256: sha256(spec) } });
  const seen = (await receiver.driver.waitForIncoming('progress', 1, 5_000)).progress.filter((p) => p.type === 'file' && p.from === sender.name);
  expect(seen.length, `${receiver.driver.label} saw progress`).toBeGreaterThan(1);
  expect(increasing(seen.map((p) => p.receivedBytes))).toBe(true);
  expect(seen.every((p) => p.totalBytes === total && p.receivedBytes < total && p.messageId === seen[0]?.messageId)).toBe(true);
}

/**
 * A 64 MiB attachment aborted once 8 MiB are written: the send rejects with ABORTED, the
 * receiver is told (having seen its progress) and holds none of it, neither side keeps its
 * bytes, it is never delivered, and the bulk lane goes on with the next message.
 */
export async function abortMidTransfer(sender: Participant, receiver: Participant): Promise<void> {
  const before = (await receiver.driver.waitForMessages(0, 1_000)).length;
  const report = await sender.driver.sendWithProgress(receiver.name, 'huge', { size: 64 * MiB, seed: 11 }, 8 * MiB);
  expect(report.code, `${sender.driver.label} send`).toBe('ABORTED');
  const total = report.totals[0] ?? 0;
  expect(report.sent.at(-1)).toBeGreaterThanOrEqual(8 * MiB);
  expect(report.sent.at(-1)).toBeLessThan(total);
  expect(increasing(report.sent)).toBe(true);
  expect(report.queuedOutgoingBytes, `${sender.driver.label} released the attachment`).toBe(0);
  const seen = await receiver.driver.waitForIncoming('aborted', 1, 15_000);
  const aborted = seen.aborted.filter((p) => p.type === 'huge');
  expect(aborted).toEqual([expect.objectContaining({ from: sender.name, type: 'huge', totalBytes: total })]);
  expect(aborted[0]?.receivedBytes).toBeLessThan(total);
  expect(seen.progress.some((p) => p.type === 'huge' && p.messageId === aborted[0]?.messageId)).toBe(true);
  expect(seen.pendingIncomingBytes, `${receiver.driver.label} released what it had assembled`).toBe(0);
  const after = { size: 2 * MiB, seed: 12 };
  await sender.driver.send(receiver.name, 'after', {}, after);
  const got = (await receiver.driver.waitForMessages(before + 1, 20_000)).slice(before);
  expect(got.map((m) => [m.type, m.attachment?.sha256])).toEqual([['after', sha256(after)]]);
}

/** Request/response: a reply, a handler that throws, no handler, a handler too slow for the timeout; then the pair goes on. */
export async function requestsAndReplies(asker: Participant, answerer: Participant): Promise<void> {
  await answerer.driver.serveRequests();
  expect(await asker.driver.request(answerer.name, 'sum', { x: 2, y: 3 }, 5_000)).toEqual({ ok: true, message: { sum: 5 } });
  expect(await asker.driver.request(answerer.name, 'fail', {}, 5_000)).toEqual({ ok: false, code: 'REQUEST_FAILED', message: 'no can do' });
  expect(await asker.driver.request(answerer.name, 'nobody', {}, 5_000)).toMatchObject({ ok: false, code: 'NO_HANDLER', message: expect.stringContaining('"nobody"') });
  expect(await asker.driver.request(answerer.name, 'slow', {}, 300)).toMatchObject({ ok: false, code: 'TIMEOUT' });
  expect(await asker.driver.request(answerer.name, 'sum', { x: 40, y: 2 }, 5_000)).toEqual({ ok: true, message: { sum: 42 } });
}

/** messages({ type }) yields that type only, and its loop ends when messaging is disabled. */
export async function iteratorEndsOnDisable(reader: Participant, writer: Participant): Promise<void> {
  const before = (await reader.driver.waitForMessages(0, 1_000)).length;
  await reader.driver.startIterating('tick');
  await writer.driver.send(reader.name, 'tock', {});
  await writer.driver.send(reader.name, 'tick', { n: 1 });
  await writer.driver.send(reader.name, 'tick', { n: 2 });
  await reader.driver.waitForMessages(before + 3, 10_000);
  expect(await reader.driver.iterated()).toEqual({ types: ['tick', 'tick'], ended: false });
  await reader.driver.disable();
  expect(await reader.driver.waitForIterationEnd(5_000)).toEqual({ types: ['tick', 'tick'], ended: true });
}

/**
 * A direct link broken twice before it is stable: the pair falls back to the relay, then
 * upgrades; both sides see it as participant_link_changed, relayed then direct.
 */
export async function linkChangesOnForcedRelay(breaker: { driver: Driver & { breakLinkTo(name: string): boolean }; name: string }, watcher: Participant): Promise<void> {
  expect(breaker.driver.breakLinkTo(watcher.name), 'a direct link to break').toBe(true);
  await breaker.driver.send(watcher.name, 'repaired', {}); // receipted: a link carries messages again
  // node-datachannel closes a broken connection on its next turn, so that receipt may have come over
  // the old link, the new one not made yet: break the repaired link as soon as there is one.
  await withTimeout(
    (async () => {
      while (!breaker.driver.breakLinkTo(watcher.name)) await new Promise((resolve) => setImmediate(resolve));
    })(),
    10_000,
    'the repaired link to break',
  );
  // Each break may hand the pair to the relay until the repaired link opens (make before break):
  // relayed, then direct, once or twice (once per break), on both sides.
  for (const [side, other] of [
    [watcher, breaker],
    [breaker, watcher],
  ] as const) {
    const links = await linksSettled(side.driver, other.name, side.name);
    expect(links.length % 2 === 0 && links.length <= 4 && links.every((link, i) => link === (i % 2 === 0 ? 'relayed' : 'direct')), `${side.name} saw ${links.join(' → ')}`).toBe(true);
  }
}

/** The link changes `driver` saw for `name`, once they have been through the relay and back to direct. */
async function linksSettled(driver: Driver, name: string, label: string, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const links = await driver.linkChanges(name);
    if (links.at(-1) === 'direct' && links.includes('relayed')) return links;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label} to see ${name}'s link go relayed, then direct (saw: ${links.join(' → ') || 'no change'})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Every delivery mode, each way: a message of each mode with an attachment arrives once, intact,
 * saying how it was sent; a broadcast of each datagram mode too; and twenty unordered messages
 * arrive once each.
 */
export async function everyDeliveryMode(sender: Participant, receiver: Participant): Promise<void> {
  const modes = ['reliable', 'unordered', 'lossy', 'latest'] as const;
  const before = (await receiver.driver.waitForMessages(0, 1_000)).length;
  for (const [i, delivery] of modes.entries()) {
    await sender.driver.send(receiver.name, `mode-${delivery}`, { i }, { size: 4_000 + i, seed: 40 + i }, delivery);
  }
  for (const delivery of modes.slice(1)) {
    const outcomes = await sender.driver.broadcast(`all-${delivery}`, {}, undefined, delivery);
    expect(outcomes.every((o) => o.ok), `${sender.driver.label} broadcast ${delivery}`).toBe(true);
  }
  for (let seq = 0; seq < 20; seq++) await sender.driver.send(receiver.name, 'unordered-seq', { seq }, undefined, 'unordered');
  const got = (await receiver.driver.waitForMessages(before + modes.length + 3 + 20, 10_000)).slice(before);
  const byType = (type: string): typeof got => got.filter((m) => m.type === type);
  for (const [i, delivery] of modes.entries()) {
    const [m, ...more] = byType(`mode-${delivery}`);
    expect([m?.delivery, m?.from, m?.attachment?.sha256, more.length], `${receiver.driver.label} got ${delivery}`).toEqual([delivery, sender.name, sha256({ size: 4_000 + i, seed: 40 + i }), 0]);
  }
  for (const delivery of modes.slice(1)) expect(byType(`all-${delivery}`).map((m) => [m.delivery, m.broadcast]), `${receiver.driver.label} broadcast ${delivery}`).toEqual([[delivery, true]]);
  expect(byType('unordered-seq').map((m) => m.message['seq'] as number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
}
