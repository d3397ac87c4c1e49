import { describe, expect, it } from 'vitest';
import { RoomError } from '../../protocol/errors.js';
import { decodePacket, encodePacket, type OutgoingRecord, type WireRecord } from '../../client/wire/codec.js';
import { DatagramFilter, Datagrams, MAX_LATEST_TYPES, MAX_QUEUED_LOSSY } from '../../client/wire/datagrams.js';

const enc = new TextEncoder();
const header = (text: string): Uint8Array => enc.encode(JSON.stringify({ t: 'x', m: { text } }));
const NONE = new Uint8Array(0);
const ROOM = 65_000;

type Datagram = Extract<WireRecord, { kind: 'datagram' }>;

/** What a packet filled now would carry, decoded as the receiver sees it. */
function flush(queue: Datagrams, channel?: 'unordered' | 'lossy', room = ROOM, now = 0): Datagram[] {
  const records: OutgoingRecord[] = [];
  queue.fill(records, room, ROOM, now, channel);
  if (records.length === 0) return [];
  const decoded = decodePacket(encodePacket(records));
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.records as Datagram[];
}
const texts = (records: Datagram[]): string[] => records.map((r) => (JSON.parse(new TextDecoder().decode(r.bytes.subarray(0, r.jsonLength))) as { m: { text: string } }).m.text);

/** A send, watched from the start: `state()` says whether it has settled, and how (after pending microtasks). */
function watch(promise: Promise<unknown>): { state(): Promise<string> } {
  let result = 'pending';
  promise.then(
    () => (result = 'resolved'),
    (error: RoomError) => (result = error.code),
  );
  return { state: async () => (await new Promise((resolve) => setTimeout(resolve, 0)), result) };
}

describe('Datagrams (the sending half)', () => {
  it('latest: a newer value of a type replaces the unsent one, whose send resolves as superseded', async () => {
    const queue = new Datagrams();
    const first = watch(queue.add('latest', 'cursor', header('a'), NONE));
    const other = watch(queue.add('latest', 'pointer', header('p'), NONE));
    const second = watch(queue.add('latest', 'cursor', header('b'), NONE));
    expect(await first.state()).toBe('resolved');
    expect(await second.state()).toBe('pending');
    expect(texts(flush(queue))).toEqual(['p', 'b']); // in order of the latest send of each type
    expect(await second.state()).toBe('resolved');
    expect(await other.state()).toBe('resolved');
    expect(queue.counts).toEqual({ written: 2, superseded: 1, dropped: 0 });
    expect(flush(queue)).toEqual([]);
  });

  it('latest: numbered in sending order, so that a receiver can drop an older one', () => {
    const queue = new Datagrams();
    void queue.add('latest', 'cursor', header('a'), NONE);
    const [a] = flush(queue);
    void queue.add('latest', 'cursor', header('b'), NONE);
    const [b] = flush(queue);
    expect(b!.id).toBeGreaterThan(a!.id);
  });

  it('lossy: written in order; past the queue bound the oldest is dropped, and its send still resolves', async () => {
    const queue = new Datagrams();
    const sends = Array.from({ length: MAX_QUEUED_LOSSY + 2 }, (_, i) => watch(queue.add('lossy', 'x', header(String(i)), NONE)));
    expect(await sends[0]!.state()).toBe('resolved');
    expect(await sends[2]!.state()).toBe('pending');
    expect(texts(flush(queue))).toEqual(Array.from({ length: MAX_QUEUED_LOSSY }, (_, i) => String(i + 2)));
    expect(queue.counts.dropped).toBe(2);
  });

  it('fills only the room given: what does not fit waits for the next packet, in order', () => {
    const queue = new Datagrams();
    for (let i = 0; i < 10; i++) void queue.add('lossy', 'x', header(String(i)), new Uint8Array(1000));
    const first = flush(queue, undefined, 3500);
    expect(texts(first)).toEqual(['0', '1', '2']);
    expect(texts(flush(queue))).toEqual(['3', '4', '5', '6', '7', '8', '9']);
  });

  it('gives up a datagram that no packet of the path could hold: lossy dropped, unordered MESSAGE_TOO_LARGE', async () => {
    const queue = new Datagrams();
    const lossy = watch(queue.add('lossy', 'x', header('big'), new Uint8Array(ROOM)));
    const unordered = watch(queue.add('unordered', 'x', header('big'), new Uint8Array(ROOM)));
    expect(flush(queue)).toEqual([]);
    expect(await lossy.state()).toBe('resolved');
    expect(await unordered.state()).toBe('MESSAGE_TOO_LARGE');
    expect(queue.counts.dropped).toBe(1);
  });

  it('unordered: resolves on its receipt; unreceipted ones are written again on a new stream, and time out like any message', async () => {
    const queue = new Datagrams();
    const a = watch(queue.add('unordered', 'x', header('a'), NONE));
    const b = watch(queue.add('unordered', 'x', header('b'), NONE));
    const written = flush(queue, 'unordered', ROOM, 1000);
    expect(texts(written)).toEqual(['a', 'b']);
    expect(queue.receipts([written[0]!.id])).toBe(0);
    expect(await a.state()).toBe('resolved');
    expect(await b.state()).toBe('pending');
    expect(queue.unorderedBase).toBe(1);
    expect(queue.unreceiptedBytes).toBe(header('b').length);
    queue.rewind();
    expect(texts(flush(queue, 'unordered', ROOM, 2000))).toEqual(['b']);
    queue.sweep(1500, 500);
    expect(await b.state()).toBe('pending'); // written again at 2000: not late yet
    queue.sweep(2500, 500);
    expect(await b.state()).toBe('TIMEOUT');
    expect(queue.awaitingReceipts).toBe(true); // it may still arrive
    expect(queue.receipts([2, 99])).toBe(1); // 99 was never sent
    expect(queue.awaitingReceipts).toBe(false);
  });

  it('keeps channels apart: unordered on its channel, lossy and latest on the other', () => {
    const queue = new Datagrams();
    void queue.add('unordered', 'x', header('u'), NONE);
    void queue.add('lossy', 'x', header('l'), NONE);
    void queue.add('latest', 'x', header('t'), NONE);
    expect(flush(queue, 'lossy').map((r) => r.mode)).toEqual(['latest', 'lossy']);
    expect(flush(queue, 'unordered').map((r) => r.mode)).toEqual(['unordered']);
  });

  it('an abort before the write rejects with ABORTED and sends nothing; after it, too late', async () => {
    const queue = new Datagrams();
    const early = new AbortController();
    const late = new AbortController();
    const a = watch(queue.add('latest', 'x', header('a'), NONE, { signal: early.signal }));
    const u = watch(queue.add('unordered', 'x', header('u'), NONE, { signal: late.signal }));
    early.abort();
    expect(await a.state()).toBe('ABORTED');
    expect(texts(flush(queue))).toEqual(['u']);
    late.abort();
    expect(await u.state()).toBe('pending');
    const aborted = new AbortController();
    aborted.abort();
    expect(await watch(queue.add('lossy', 'x', header('z'), NONE, { signal: aborted.signal })).state()).toBe('ABORTED');
  });

  it('numbers unordered datagrams as they are first written: one aborted before that leaves no gap for the receiver to wait on', async () => {
    const queue = new Datagrams();
    const controller = new AbortController();
    const aborted = watch(queue.add('unordered', 'x', header('a'), NONE, { signal: controller.signal }));
    void queue.add('unordered', 'x', header('b'), NONE);
    controller.abort();
    expect(await aborted.state()).toBe('ABORTED');
    expect(flush(queue, 'unordered').map((r) => [r.id, texts([r])[0]])).toEqual([[1, 'b']]);
    expect(queue.unorderedBase).toBe(0);
  });

  it('a peer that restarted its session: written unordered ones fail (they may have arrived), unwritten ones go', async () => {
    const queue = new Datagrams();
    const written = watch(queue.add('unordered', 'x', header('w'), NONE));
    flush(queue, 'unordered');
    const unwritten = watch(queue.add('unordered', 'x', header('n'), NONE));
    queue.peerRestarted(new RoomError('PARTICIPANT_LEFT', 'restarted'));
    expect(await written.state()).toBe('PARTICIPANT_LEFT');
    expect(texts(flush(queue, 'unordered'))).toEqual(['n']);
    expect(await unwritten.state()).toBe('pending');
  });

  it('fail rejects everything not yet settled', async () => {
    const queue = new Datagrams();
    const sends = [queue.add('unordered', 'x', header('u'), NONE), queue.add('lossy', 'x', header('l'), NONE), queue.add('latest', 'x', header('t'), NONE)].map(watch);
    queue.fail(new RoomError('PARTICIPANT_LEFT', 'gone'));
    for (const send of sends) expect(await send.state()).toBe('PARTICIPANT_LEFT');
    expect(flush(queue)).toEqual([]);
  });

  it('tracks at most MAX_LATEST_TYPES types, dropping the least recently sent', async () => {
    const queue = new Datagrams();
    const first = watch(queue.add('latest', 'type-0', header('0'), NONE));
    for (let i = 1; i <= MAX_LATEST_TYPES; i++) void queue.add('latest', `type-${i}`, header(String(i)), NONE);
    expect(await first.state()).toBe('resolved');
    expect(queue.counts.dropped).toBe(1);
    expect(flush(queue)).toHaveLength(MAX_LATEST_TYPES);
  });
});

describe('DatagramFilter (the receiving half)', () => {
  it('delivers each unordered id once, in whatever order they come', () => {
    const filter = new DatagramFilter();
    expect([3, 1, 2, 3, 1, 5, 4, 5].map((id) => filter.unordered(id))).toEqual([true, true, true, false, false, true, true, false]);
  });

  it('forgets nothing a hello says is settled, and starts afresh for a new peer session', () => {
    const filter = new DatagramFilter();
    filter.settledUpTo(10);
    expect(filter.unordered(10)).toBe(false);
    expect(filter.unordered(12)).toBe(true);
    expect(filter.unordered(11)).toBe(true);
    filter.reset();
    expect(filter.unordered(1)).toBe(true);
  });

  it('latest: never an older value of a type after a newer one; types apart', () => {
    const filter = new DatagramFilter();
    expect(filter.latest('cursor', 5)).toBe(true);
    expect(filter.latest('cursor', 4)).toBe(false);
    expect(filter.latest('cursor', 5)).toBe(false);
    expect(filter.latest('pointer', 4)).toBe(true);
    expect(filter.latest('cursor', 9)).toBe(true);
  });

  it('refuses what a peer may not send as a datagram: a bad header, a request, more than this side accepts', () => {
    const filter = new DatagramFilter();
    const record = (json: string, mode: 'lossy' | 'unordered' = 'lossy', attachment = 0): Datagram => {
      const bytes = new Uint8Array([...enc.encode(json), ...new Uint8Array(attachment)]);
      return { kind: 'datagram', mode, id: 1, jsonLength: json.length, bytes };
    };
    const limits = { maxJsonBytes: 100, maxAttachmentBytes: 10 };
    expect(filter.accept(record('not json'), limits)).toMatch(/not UTF-8 JSON/);
    expect(filter.accept(record('{"t":"x","m":{},"q":1}'), limits)).toMatch(/request or reply/);
    expect(filter.accept(record('{"t":"x","m":{}}', 'lossy', 11), limits)).toMatch(/over this participant's limits/);
    expect(filter.accept(record('{"t":"x","m":{"a":1}}', 'unordered', 10), limits)).toMatchObject({ type: 'x', message: { a: 1 }, delivery: 'unordered', id: 1 });
    expect(filter.accept(record('{"t":"x","m":{"a":1}}', 'unordered'), limits)).toBeUndefined(); // the same id again
  });

  it('stays bounded against a peer that skips ids', () => {
    const filter = new DatagramFilter();
    for (let id = 2; id < 200_000; id += 2) filter.unordered(id);
    expect(filter.unordered(199_998)).toBe(false);
    expect(filter.unordered(200_001)).toBe(true);
  });
});
