import { describe, expect, it } from 'vitest';
import { CHUNK_FIXED_BYTES, HEAD_FIXED_BYTES, PACKET_HEADER_BYTES, RECORD_HEADER_BYTES, decodePacket, encodeHeader, type WireRecord } from '../../client/wire/codec.js';
import { Outbox } from '../../client/wire/outbox.js';
import { Reassembler, type AssembledMessage, type ReassemblyEvent, type ReassemblyLimits } from '../../client/wire/reassembler.js';

const LIMITS: ReassemblyLimits = { maxJsonBytes: 1 << 20, maxAttachmentBytes: 1 << 24, maxIncompleteMessages: 8, maxPendingBytes: 1 << 26 };

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Drains an outbox into packets of at most `max` bytes and feeds them to a reassembler. */
function transfer(outbox: Outbox, max: number, reassembler = new Reassembler(LIMITS)) {
  const packets: Uint8Array[] = [];
  const written: number[] = [];
  const events: ReassemblyEvent[] = [];
  for (let packet = outbox.nextPacket(max, (id) => written.push(id)); packet !== null; packet = outbox.nextPacket(max, (id) => written.push(id))) {
    expect(packet.length).toBeLessThanOrEqual(max);
    packets.push(packet);
    const decoded = decodePacket(packet);
    if (!decoded.ok) throw new Error(decoded.reason);
    for (const record of decoded.records) if (record.kind === 'head' || record.kind === 'chunk') events.push(...reassembler.accept(record));
  }
  const messages = events.filter((e): e is { kind: 'message'; message: AssembledMessage } => e.kind === 'message').map((e) => e.message);
  return { packets, written, events, messages, reassembler };
}

const header = (n: number): Uint8Array => encodeHeader({ type: 't', message: { n }, broadcast: false });

describe('outbox and reassembler', () => {
  const MAX = 1024;
  const oneRecordRoom = MAX - PACKET_HEADER_BYTES - RECORD_HEADER_BYTES - HEAD_FIXED_BYTES;

  for (const delta of [-1, 0, 1, 2]) {
    it(`carries a message of exactly one packet's room ${delta >= 0 ? '+' : ''}${delta} byte(s) intact`, () => {
      const h = header(1);
      const attachment = pattern(oneRecordRoom + delta - h.length, 3);
      const outbox = new Outbox();
      outbox.enqueue({ id: 1, header: h, attachment });
      const { packets, messages, written, reassembler } = transfer(outbox, MAX);
      expect(packets).toHaveLength(delta <= 0 ? 1 : 2);
      expect(written).toEqual([1]);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.attachment).toEqual(attachment);
      expect(reassembler.pendingBytes).toBe(0);
    });
  }

  it('splits a large attachment into chunks that fill every packet but the last', () => {
    const attachment = pattern(10_000, 9);
    const outbox = new Outbox();
    outbox.enqueue({ id: 1, header: header(1), attachment });
    const { packets, messages } = transfer(outbox, MAX);
    const perChunk = MAX - PACKET_HEADER_BYTES - RECORD_HEADER_BYTES - CHUNK_FIXED_BYTES;
    expect(packets.slice(0, -1).every((p) => p.length === MAX)).toBe(true);
    expect(packets.length).toBe(1 + Math.ceil((header(1).length + 10_000 - oneRecordRoom) / perChunk));
    expect(messages[0]?.attachment).toEqual(attachment);
  });

  it('splits a JSON header that is itself larger than a packet', () => {
    const big = encodeHeader({ type: 'big', message: { text: 'x'.repeat(5000) }, broadcast: false });
    const outbox = new Outbox();
    outbox.enqueue({ id: 1, header: big, attachment: new Uint8Array(0) });
    const { messages } = transfer(outbox, MAX);
    expect(messages[0]?.message).toEqual({ text: 'x'.repeat(5000) });
    expect(messages[0]?.attachment).toBeUndefined();
  });

  it('coalesces many small messages into few packets, in order', () => {
    const outbox = new Outbox();
    for (let id = 1; id <= 100; id++) outbox.enqueue({ id, header: header(id), attachment: new Uint8Array(0) });
    const { packets, messages, written } = transfer(outbox, 16_384);
    expect(packets).toHaveLength(1);
    expect(written).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(messages.map((m) => m.message['n'])).toEqual(written);
  });

  it('puts control records (hello, reject, receipts) before messages', () => {
    const outbox = new Outbox();
    outbox.enqueue({ id: 1, header: header(1), attachment: new Uint8Array(0) });
    outbox.addReceipt(4);
    outbox.addReject(2, { code: 'INVALID_MESSAGE', message: 'no' });
    outbox.addHello({ maxJsonBytes: 1, maxAttachmentBytes: 2 });
    const packet = outbox.nextPacket(MAX, () => {});
    const decoded = packet === null ? undefined : decodePacket(packet);
    expect(decoded?.ok && decoded.records.map((r: WireRecord) => r.kind)).toEqual(['reject', 'hello', 'receipts', 'head']);
    expect(outbox.isEmpty).toBe(true);
  });

  it('spreads receipts over several packets when they do not fit in one', () => {
    const outbox = new Outbox();
    for (let id = 1; id <= 1000; id++) outbox.addReceipt(id);
    const ids: number[] = [];
    for (let packet = outbox.nextPacket(MAX, () => {}); packet !== null; packet = outbox.nextPacket(MAX, () => {})) {
      const decoded = decodePacket(packet);
      if (decoded.ok) for (const r of decoded.records) if (r.kind === 'receipts') ids.push(...r.ids);
    }
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('drops a cancelled message and reports the unsent ones on clear', () => {
    const outbox = new Outbox();
    for (let id = 1; id <= 3; id++) outbox.enqueue({ id, header: header(id), attachment: new Uint8Array(0) });
    expect(outbox.cancel(2)).toBe(true);
    expect(outbox.cancel(9)).toBe(false);
    expect(outbox.clear()).toEqual([1, 3]);
    expect(outbox.nextPacket(MAX, () => {})).toBeNull();
  });

  it('delivers interleaved messages in the order the sender numbered them', () => {
    const r = new Reassembler(LIMITS);
    const h1 = header(1);
    const h2 = header(2);
    const events = [
      ...r.accept({ kind: 'head', id: 1, jsonLength: h1.length, attachmentLength: 4, bytes: h1 }),
      ...r.accept({ kind: 'head', id: 2, jsonLength: h2.length, attachmentLength: 0, bytes: h2 }),
    ];
    expect(events).toEqual([]); // 2 is complete but waits for 1
    const rest = r.accept({ kind: 'chunk', id: 1, offset: h1.length, bytes: pattern(4, 1) });
    expect(rest.map((e) => e.kind === 'message' && e.message.id)).toEqual([1, 2]);
    expect(r.pendingBytes).toBe(0);
    expect(r.incompleteMessages).toBe(0);
  });
});

describe('reassembler against a lying peer', () => {
  const h = header(1);
  const head = (id: number, attachmentLength = 0, bytes = h) => ({ kind: 'head' as const, id, jsonLength: h.length, attachmentLength, bytes });

  it('refuses a head out of sequence', () => {
    const r = new Reassembler(LIMITS);
    expect(r.accept(head(2))).toEqual([{ kind: 'violation', reason: expect.stringMatching(/out of sequence/) }]);
    expect(r.accept(head(1)).map((e) => e.kind)).toEqual(['message']);
  });

  it('refuses attachments and JSON over its limits with MESSAGE_TOO_LARGE, before allocating, and skips their chunks', () => {
    const r = new Reassembler({ ...LIMITS, maxAttachmentBytes: 10 });
    const events = r.accept(head(1, 11, h));
    expect(events).toEqual([{ kind: 'reject', id: 1, error: { code: 'MESSAGE_TOO_LARGE', message: expect.stringMatching(/limit of 10/) } }]);
    expect(r.pendingBytes).toBe(0);
    expect(r.accept({ kind: 'chunk', id: 1, offset: h.length, bytes: pattern(11, 0) })).toEqual([]);
    expect(r.accept(head(2)).map((e) => e.kind)).toEqual(['message']);
    const small = new Reassembler({ ...LIMITS, maxJsonBytes: 4 });
    expect(small.accept(head(1))[0]).toMatchObject({ kind: 'reject', error: { code: 'MESSAGE_TOO_LARGE' } });
  });

  it('refuses a head whose bytes exceed its declared lengths', () => {
    const r = new Reassembler(LIMITS);
    const events = r.accept({ kind: 'head', id: 1, jsonLength: 2, attachmentLength: 0, bytes: pattern(3, 0) });
    expect(events.map((e) => e.kind)).toEqual(['reject', 'violation']);
  });

  it('refuses a chunk at the wrong offset or past the end, and keeps delivering later messages', () => {
    for (const bad of [{ offset: h.length + 1, length: 2 }, { offset: h.length, length: 5 }]) {
      const r = new Reassembler(LIMITS);
      r.accept(head(1, 4));
      const events = r.accept({ kind: 'chunk', id: 1, offset: bad.offset, bytes: pattern(bad.length, 0) });
      expect(events.map((e) => e.kind)).toEqual(['reject', 'violation']);
      expect(r.pendingBytes).toBe(0);
      expect(r.accept(head(2)).map((e) => e.kind)).toEqual(['message']);
    }
  });

  it('counts a chunk for a message it never saw as a violation', () => {
    const r = new Reassembler(LIMITS);
    expect(r.accept({ kind: 'chunk', id: 42, offset: 0, bytes: pattern(1, 0) })[0]?.kind).toBe('violation');
  });

  it('bounds incomplete messages and pending bytes', () => {
    const r = new Reassembler({ ...LIMITS, maxIncompleteMessages: 2, maxPendingBytes: 1000 });
    r.accept(head(1, 100));
    r.accept(head(2, 100));
    expect(r.accept(head(3, 100))[0]).toMatchObject({ kind: 'reject', error: { code: 'MESSAGE_TOO_LARGE' } });
    const bytesBound = new Reassembler({ ...LIMITS, maxPendingBytes: 50 });
    expect(bytesBound.accept(head(1, 100))[0]).toMatchObject({ kind: 'reject', error: { code: 'MESSAGE_TOO_LARGE' } });
  });

  it('cuts off a peer that makes it hold refused messages behind one it never finishes', () => {
    const r = new Reassembler({ ...LIMITS, maxIncompleteMessages: 1 });
    r.accept(head(1, 10)); // never finished
    for (let id = 2; id <= 65; id++) expect(r.accept(head(id))[0]).toMatchObject({ kind: 'reject', error: { code: 'MESSAGE_TOO_LARGE' } });
    expect(r.heldMessages).toBe(65);
    expect(r.accept(head(66))).toEqual([{ kind: 'fatal', reason: expect.stringMatching(/waiting for message 1/) }]);
  });

  it('refuses a complete message whose header is not valid, with INVALID_MESSAGE', () => {
    const r = new Reassembler(LIMITS);
    const junk = new TextEncoder().encode('{"t":1}');
    const events = r.accept({ kind: 'head', id: 1, jsonLength: junk.length, attachmentLength: 0, bytes: junk });
    expect(events[0]).toMatchObject({ kind: 'reject', error: { code: 'INVALID_MESSAGE' } });
  });
});
