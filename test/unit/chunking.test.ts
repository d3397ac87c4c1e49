import { describe, expect, it } from 'vitest';
import { CHUNK_FIXED_BYTES, HEAD_FIXED_BYTES, PACKET_HEADER_BYTES, RECORD_HEADER_BYTES, decodePacket, encodeHeader, type Lane, type WireRecord } from '../../client/wire/codec.js';
import { Lanes, Outbox } from '../../client/wire/outbox.js';
import { Reassembler, type AssembledMessage, type ReassemblyEvent, type ReassemblyLimits } from '../../client/wire/reassembler.js';

const LIMITS: ReassemblyLimits = { maxJsonBytes: 1 << 20, maxAttachmentBytes: 1 << 24, maxIncompleteMessages: 8, maxPendingBytes: 1 << 26 };

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

const HELLO = { limits: { maxJsonBytes: 1, maxAttachmentBytes: 2 }, epoch: 'e', peerEpoch: '', delivered: [0, 0] as [number, number], base: [0, 0] as [number, number] };

/** Drains lanes through an outbox into packets of at most `max` bytes and feeds them to a reassembler. */
function transfer(lanes: Lanes, max: number, reassembler = new Reassembler(LIMITS), outbox = new Outbox()) {
  const packets: Uint8Array[] = [];
  const written: number[] = [];
  const events: ReassemblyEvent[] = [];
  const onWritten = (_lane: Lane, id: number): void => void written.push(id);
  for (let packet = outbox.nextPacket(max, lanes, onWritten); packet !== null; packet = outbox.nextPacket(max, lanes, onWritten)) {
    expect(packet.length).toBeLessThanOrEqual(max);
    packets.push(packet.slice());
    const decoded = decodePacket(packet);
    if (!decoded.ok) throw new Error(decoded.reason);
    for (const record of decoded.records) if (record.kind === 'head' || record.kind === 'chunk') events.push(...reassembler.accept(record));
  }
  const messages = events.filter((e): e is { kind: 'message'; message: AssembledMessage } => e.kind === 'message').map((e) => e.message);
  return { packets, written, events, messages, reassembler };
}

const header = (n: number): Uint8Array => encodeHeader({ type: 't', message: { n }, broadcast: false });
const message = (id: number, attachment: Uint8Array = new Uint8Array(0), lane: Lane = 0) => ({ lane, id, header: header(id), attachment });
const one = (...messages: Array<ReturnType<typeof message>>): Lanes => {
  const lanes = new Lanes();
  for (const m of messages) lanes.enqueue(m);
  return lanes;
};

describe('outbox and reassembler', () => {
  const MAX = 1024;
  const oneRecordRoom = MAX - PACKET_HEADER_BYTES - RECORD_HEADER_BYTES - HEAD_FIXED_BYTES;

  for (const delta of [-1, 0, 1, 2]) {
    it(`carries a message of exactly one packet's room ${delta >= 0 ? '+' : ''}${delta} byte(s) intact`, () => {
      const h = header(1);
      const attachment = pattern(oneRecordRoom + delta - h.length, 3);
      const { packets, messages, written, reassembler } = transfer(one({ lane: 0, id: 1, header: h, attachment }), MAX);
      expect(packets).toHaveLength(delta <= 0 ? 1 : 2);
      expect(written).toEqual([1]);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.attachment).toEqual(attachment);
      expect(reassembler.pendingBytes).toBe(0);
    });
  }

  it('splits a large attachment into chunks that fill every packet but the last', () => {
    const attachment = pattern(10_000, 9);
    const { packets, messages } = transfer(one(message(1, attachment)), MAX);
    const perChunk = MAX - PACKET_HEADER_BYTES - RECORD_HEADER_BYTES - CHUNK_FIXED_BYTES;
    expect(packets.slice(0, -1).every((p) => p.length === MAX)).toBe(true);
    expect(packets.length).toBe(1 + Math.ceil((header(1).length + 10_000 - oneRecordRoom) / perChunk));
    expect(messages[0]?.attachment).toEqual(attachment);
  });

  it('splits a JSON header that is itself larger than a packet', () => {
    const big = encodeHeader({ type: 'big', message: { text: 'x'.repeat(5000) }, broadcast: false });
    const { messages } = transfer(one({ lane: 0, id: 1, header: big, attachment: new Uint8Array(0) }), MAX);
    expect(messages[0]?.message).toEqual({ text: 'x'.repeat(5000) });
    expect(messages[0]?.attachment).toBeUndefined();
  });

  it('drains 20,000 queued messages in order, with cancels and a rewind among them (the queue compacts as it goes)', () => {
    const lanes = new Lanes();
    for (let id = 1; id <= 20_000; id++) lanes.enqueue(message(id));
    expect(lanes.cancel(0, 7)).toBe(true);
    expect(lanes.cancel(0, 7)).toBe(false);
    const outbox = new Outbox();
    const written: number[] = [];
    for (let i = 0; i < 3; i++) outbox.nextPacket(16_384, lanes, (_lane, id) => void written.push(id)); // ~1,500 written; the queue compacts later, once half of it is read
    expect(lanes.cancel(0, 1)).toBe(false); // already written
    expect(lanes.cancel(0, 19_999)).toBe(true);
    const rest = transfer(lanes, 16_384, new Reassembler({ ...LIMITS, maxIncompleteMessages: 20_000 }), outbox).written;
    const all = [...written, ...rest];
    expect(all).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1).filter((id) => id !== 7 && id !== 19_999));
    expect(lanes.isEmpty).toBe(true);
    lanes.rewind([message(5), message(3), message(4)]);
    expect(lanes.queuedIds(0)).toEqual([3, 4, 5]);
  });

  it('coalesces many small messages into few packets, in order', () => {
    const lanes = new Lanes();
    for (let id = 1; id <= 100; id++) lanes.enqueue(message(id));
    const { packets, messages, written } = transfer(lanes, 16_384);
    expect(packets).toHaveLength(1);
    expect(written).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(messages.map((m) => m.message['n'])).toEqual(written);
  });

  it('puts control records (hello, reject, receipts) before messages', () => {
    const outbox = new Outbox();
    const lanes = one(message(1));
    outbox.addReceipt(0, 4);
    outbox.addReject(0, 2, { code: 'INVALID_MESSAGE', message: 'no' });
    outbox.addHello(HELLO);
    const packet = outbox.nextPacket(MAX, lanes, () => {});
    const decoded = packet === null ? undefined : decodePacket(packet);
    expect(decoded?.ok && decoded.records.map((r: WireRecord) => r.kind)).toEqual(['reject', 'hello', 'receipts', 'head']);
    expect(outbox.isEmpty && lanes.isEmpty).toBe(true);
  });

  it('spreads receipts over several packets when they do not fit in one', () => {
    const outbox = new Outbox();
    for (let id = 1; id <= 1000; id++) outbox.addReceipt(0, id);
    const ids: number[] = [];
    for (let packet = outbox.nextPacket(MAX, undefined, () => {}); packet !== null; packet = outbox.nextPacket(MAX, undefined, () => {})) {
      const decoded = decodePacket(packet);
      if (decoded.ok) for (const r of decoded.records) if (r.kind === 'receipts') ids.push(...r.ids);
    }
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('drops a cancelled message; a rewind replaces the queue, each lane in id order', () => {
    const lanes = one(message(1), message(2), message(3));
    expect(lanes.cancel(0, 2)).toBe(true);
    expect(lanes.cancel(0, 9)).toBe(false);
    expect(lanes.queuedIds(0)).toEqual([1, 3]);
    lanes.rewind([message(5), message(4), message(1, new Uint8Array(10), 1)]);
    expect([lanes.queuedIds(0), lanes.queuedIds(1)]).toEqual([[4, 5], [1]]);
    lanes.rewind([]);
    expect(new Outbox().nextPacket(MAX, lanes, () => {})).toBeNull();
  });

  it('writes lane 0 ahead of a bulk message in progress, so small messages are not stuck behind it', () => {
    const lanes = one(message(1, pattern(50_000, 1), 1));
    const outbox = new Outbox();
    const order: string[] = [];
    const onWritten = (lane: Lane, id: number): void => void order.push(`${lane}:${id}`);
    outbox.nextPacket(4096, lanes, onWritten); // the bulk message has begun
    lanes.enqueue(message(1));
    lanes.enqueue(message(2));
    outbox.nextPacket(4096, lanes, onWritten);
    expect(order).toEqual(['0:1', '0:2']);
    const r = transfer(lanes, 4096);
    expect(r.written).toEqual([1]);
  });

  it('gives the bulk lane a packet at least every few, however many small messages wait', () => {
    const lanes = one(message(1, pattern(100_000, 1), 1));
    for (let id = 1; id <= 400; id++) lanes.enqueue(message(id, pattern(200, id)));
    const outbox = new Outbox();
    const bulkPackets: boolean[] = [];
    for (let i = 0; i < 12; i++) {
      const packet = outbox.nextPacket(2048, lanes, () => {});
      const decoded = packet === null ? undefined : decodePacket(packet);
      bulkPackets.push(decoded?.ok === true && decoded.records.some((r) => (r.kind === 'head' || r.kind === 'chunk') && r.lane === 1));
    }
    for (let i = 0; i + 4 <= bulkPackets.length; i++) expect(bulkPackets.slice(i, i + 4)).toContain(true);
  });

  it('hands out each message as it completes, lanes independent', () => {
    const r = new Reassembler(LIMITS);
    const h1 = header(1);
    const h2 = header(2);
    const events = [
      ...r.accept({ kind: 'head', lane: 1, id: 1, jsonLength: h1.length, attachmentLength: 4, bytes: h1 }),
      ...r.accept({ kind: 'head', lane: 0, id: 1, jsonLength: h2.length, attachmentLength: 0, bytes: h2 }),
    ];
    expect(events.filter((e) => e.kind !== 'progress').map((e) => e.kind === 'message' && `${e.message.lane}:${e.message.id}`)).toEqual(['0:1']);
    const rest = r.accept({ kind: 'chunk', lane: 1, id: 1, offset: h1.length, bytes: pattern(4, 1) });
    expect(rest.map((e) => e.kind === 'message' && `${e.message.lane}:${e.message.id}`)).toEqual(['1:1']);
    expect(r.pendingBytes).toBe(0);
    expect(r.incompleteMessages).toBe(0);
  });
});

describe('reassembler against a lying peer', () => {
  const h = header(1);
  const head = (id: number, attachmentLength = 0, bytes = h) => ({ kind: 'head' as const, lane: 0 as const, id, jsonLength: h.length, attachmentLength, bytes });
  const chunk = (id: number, offset: number, bytes: Uint8Array) => ({ kind: 'chunk' as const, lane: 0 as const, id, offset, bytes });

  it('refuses a head that does not advance its lane', () => {
    const r = new Reassembler(LIMITS);
    expect(r.accept(head(2)).map((e) => e.kind)).toEqual(['message']);
    expect(r.accept(head(2))).toEqual([{ kind: 'violation', reason: expect.stringMatching(/out of sequence/) }]);
    expect(r.accept(head(1))).toEqual([{ kind: 'violation', reason: expect.stringMatching(/out of sequence/) }]);
  });

  it('refuses attachments and JSON over its limits with MESSAGE_TOO_LARGE, before allocating, and skips their chunks', () => {
    const r = new Reassembler({ ...LIMITS, maxAttachmentBytes: 10 });
    const events = r.accept(head(1, 11, h));
    expect(events).toEqual([{ kind: 'reject', lane: 0, id: 1, error: { code: 'MESSAGE_TOO_LARGE', message: expect.stringMatching(/limit of 10/) } }]);
    expect(r.pendingBytes).toBe(0);
    expect(r.accept(chunk(1, h.length, pattern(11, 0)))).toEqual([]);
    expect(r.accept(head(2)).map((e) => e.kind)).toEqual(['message']);
    const small = new Reassembler({ ...LIMITS, maxJsonBytes: 4 });
    expect(small.accept(head(1))[0]).toMatchObject({ kind: 'reject', error: { code: 'MESSAGE_TOO_LARGE' } });
  });

  it('refuses a head whose bytes exceed its declared lengths', () => {
    const r = new Reassembler(LIMITS);
    const events = r.accept({ ...head(1), jsonLength: 2, bytes: pattern(3, 0) });
    expect(events.map((e) => e.kind)).toEqual(['reject', 'violation']);
  });

  it('refuses a chunk at the wrong offset or past the end, and keeps delivering later messages', () => {
    for (const bad of [{ offset: h.length + 1, length: 2 }, { offset: h.length, length: 5 }]) {
      const r = new Reassembler(LIMITS);
      r.accept(head(1, 4));
      const events = r.accept(chunk(1, bad.offset, pattern(bad.length, 0)));
      expect(events.map((e) => e.kind)).toEqual(['reject', 'violation']);
      expect(r.pendingBytes).toBe(0);
      expect(r.accept(head(2)).map((e) => e.kind)).toEqual(['message']);
    }
  });

  it('counts a chunk for a message it never saw as a violation', () => {
    const r = new Reassembler(LIMITS);
    expect(r.accept(chunk(42, 0, pattern(1, 0)))[0]?.kind).toBe('violation');
  });

  it('bounds incomplete messages and pending bytes; a new head abandons its lane\'s unfinished message', () => {
    const r = new Reassembler({ ...LIMITS, maxIncompleteMessages: 1, maxPendingBytes: 1000 });
    r.accept(head(1, 100));
    expect(r.accept({ ...head(1, 100), lane: 1 })[0]).toMatchObject({ kind: 'reject', error: { code: 'MESSAGE_TOO_LARGE' } });
    expect(r.accept(head(2, 100)).map((e) => e.kind)).toEqual(['violation', 'progress']);
    expect(r.incompleteMessages).toBe(1);
    expect(r.pendingBytes).toBe(h.length + 100);
    const bytesBound = new Reassembler({ ...LIMITS, maxPendingBytes: 50 });
    expect(bytesBound.accept(head(1, 100))[0]).toMatchObject({ kind: 'reject', error: { code: 'MESSAGE_TOO_LARGE' } });
  });

  it('refuses a complete message whose header is not valid, with INVALID_MESSAGE', () => {
    const r = new Reassembler(LIMITS);
    const junk = new TextEncoder().encode('{"t":1}');
    const events = r.accept({ ...head(1), jsonLength: junk.length, bytes: junk });
    expect(events[0]).toMatchObject({ kind: 'reject', error: { code: 'INVALID_MESSAGE' } });
  });
});

describe('progress and cancel', () => {
  const h = header(1);
  it('reports progress of a message spanning records, naming its type, up to the last record (which delivers instead)', () => {
    const r = new Reassembler(LIMITS);
    const events = [
      ...r.accept({ kind: 'head', lane: 1, id: 1, jsonLength: h.length, attachmentLength: 8, bytes: h }),
      ...r.accept({ kind: 'chunk', lane: 1, id: 1, offset: h.length, bytes: pattern(4, 1) }),
      ...r.accept({ kind: 'chunk', lane: 1, id: 1, offset: h.length + 4, bytes: pattern(4, 2) }),
    ];
    expect(events.map((e) => (e.kind === 'progress' ? [e.progress.type, e.progress.receivedBytes, e.progress.totalBytes] : e.kind))).toEqual([
      ['t', h.length, h.length + 8],
      ['t', h.length + 4, h.length + 8],
      'message',
    ]);
  });

  it('a cancel drops what was assembled, frees its bytes, discards late chunks, and says how far it had come', () => {
    const r = new Reassembler(LIMITS);
    r.accept({ kind: 'head', lane: 1, id: 1, jsonLength: h.length, attachmentLength: 8, bytes: h });
    expect(r.pendingBytes).toBe(h.length + 8);
    expect(r.cancel(1, 1)).toEqual({ lane: 1, id: 1, type: 't', receivedBytes: h.length, totalBytes: h.length + 8 });
    expect(r.pendingBytes).toBe(0);
    expect(r.incompleteMessages).toBe(0);
    expect(r.accept({ kind: 'chunk', lane: 1, id: 1, offset: h.length, bytes: pattern(8, 1) })).toEqual([]);
    expect(r.cancel(0, 5)).toBeUndefined(); // never begun: nothing to say
    // The lane goes on after the cancelled id.
    expect(r.accept({ kind: 'head', lane: 1, id: 2, jsonLength: h.length, attachmentLength: 0, bytes: h }).map((e) => e.kind)).toEqual(['message']);
  });

  it('refuses a header that is not valid as soon as the JSON is in, before the attachment arrives', () => {
    const r = new Reassembler(LIMITS);
    const junk = new TextEncoder().encode('{"t":1}');
    const events = r.accept({ kind: 'head', lane: 1, id: 1, jsonLength: junk.length, attachmentLength: 1000, bytes: junk });
    expect(events[0]).toMatchObject({ kind: 'reject', error: { code: 'INVALID_MESSAGE' } });
    expect(r.pendingBytes).toBe(0);
  });

  it('an aborted message is replaced by a cancel record in its lane, whether it was begun or not, and reports progress as written', () => {
    const lanes = new Lanes();
    const outbox = new Outbox();
    const written: number[] = [];
    lanes.enqueue({ lane: 1, id: 1, header: h, attachment: pattern(5000, 1), progress: (n) => written.push(n) });
    lanes.enqueue({ lane: 1, id: 2, header: h, attachment: pattern(5000, 2) });
    lanes.enqueue({ lane: 1, id: 3, header: h, attachment: pattern(10, 3) });
    const first = decodePacket(outbox.nextPacket(2048, lanes, () => {}) as Uint8Array);
    expect(written).toEqual([2048 - 1 - 5 - 13]);
    expect(lanes.abort(1, 1)).toBe(true);
    expect(lanes.abort(1, 2)).toBe(true);
    expect(lanes.abort(1, 9)).toBe(false);
    const completed: number[] = [];
    const second = decodePacket(outbox.nextPacket(2048, lanes, (_, id) => completed.push(id)) as Uint8Array);
    expect(first.ok && first.records.map((r) => r.kind)).toEqual(['head']);
    expect(second.ok && second.records.map((r) => (r.kind === 'cancel' || r.kind === 'head' ? `${r.kind}:${r.id}` : r.kind))).toEqual(['cancel:1', 'cancel:2', 'head:3']);
    expect(completed).toEqual([3]);
    expect(written).toHaveLength(1); // nothing more of it was written
  });
});
