/**
 * Numbered traffic for fault tests: send a run of numbered messages, record what each
 * receiver saw, count presence churn. A fault that is survived shows as every number once,
 * in order, and no churn.
 */
import { expect } from 'vitest';
import type { MessagingClient, RemoteParticipant, RoomClient } from '../client/index.js';

/** Records the `n` of every `type` message from each sender, in arrival order. */
export function record(messaging: MessagingClient, type: string): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  messaging.on('message', (m) => {
    if (m.type !== type) return;
    const list = seen.get(m.fromParticipantId) ?? [];
    list.push(m.message['n'] as number);
    seen.set(m.fromParticipantId, list);
  });
  return seen;
}

export const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i + 1);

/** Sends `count` numbered messages without waiting for each; resolves when all were receipted. */
export async function sendNumbered(from: RoomClient, to: string, type: string, count: number, onSent?: (n: number) => void): Promise<void> {
  const sends: Array<Promise<void>> = [];
  for (const n of range(count)) {
    sends.push(from.messaging.sendMessage({ to, type, message: { n } }));
    onSent?.(n);
    if (n % 100 === 0) await new Promise((resolve) => setImmediate(resolve)); // let packets leave between batches
  }
  await Promise.all(sends);
}

/** Counts presence changes, which a fault that is survived must not cause. */
export function churn(messaging: MessagingClient): { added: number; removed: number } {
  const counts = { added: 0, removed: 0 };
  messaging.on('participant_added', () => void counts.added++);
  messaging.on('participant_removed', () => void counts.removed++);
  return counts;
}

export const names = (participants: RemoteParticipant[]): string[] => participants.map((p) => p.name ?? '?').sort();

/** `count` numbered messages each way between `a` and `b`; fails unless each side got every number once, in order. */
export async function exchangeNumbered(a: RoomClient, b: RoomClient, count: number): Promise<void> {
  const atA = record(a.messaging, 'n');
  const atB = record(b.messaging, 'n');
  await Promise.all([sendNumbered(a, b.localParticipant.id, 'n', count), sendNumbered(b, a.localParticipant.id, 'n', count)]);
  expect(atB.get(a.localParticipant.id)).toEqual(range(count));
  expect(atA.get(b.localParticipant.id)).toEqual(range(count));
}
