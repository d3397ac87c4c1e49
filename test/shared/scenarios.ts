/**
 * The shared messaging suite: the same steps and assertions whether the participants are
 * Node processes or Chromium pages (test/integration/shared.test.ts, test/browser/).
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
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
