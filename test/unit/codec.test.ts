import { describe, expect, it } from 'vitest';
import {
  MAX_PACKET_BYTES,
  WIRE_VERSION,
  decodeHeader,
  decodePacket,
  encodeHeader,
  encodePacket,
  type OutgoingRecord,
} from '../../client/wire/codec.js';
import { WIRE_HEADERS, WIRE_INVALID_HEADERS, WIRE_VECTORS, type WireVectorRecord } from '../vectors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

// Golden vectors: the byte layout in docs/protocol.md, shared with the Python participant's tests
// (protocol/vectors/wire.json). A change there is a wire-format change.
/** A vector's record as the codec takes it: message bytes as one part, an auth body as bytes. */
const outgoing = ({ bytes: data, body, ...fields }: WireVectorRecord): OutgoingRecord =>
  ({ ...fields, ...(data === undefined ? {} : { parts: [fromHex(data)] }), ...(body === undefined ? {} : { body: fromHex(body) }) }) as unknown as OutgoingRecord;
const GOLDEN = WIRE_VECTORS.map((vector) => ({ name: vector.name, records: vector.records.map(outgoing), hex: vector.hex }));

describe('wire codec', () => {
  for (const vector of GOLDEN) {
    it(`encodes ${vector.name} to its golden bytes and decodes them back`, () => {
      const packet = encodePacket(vector.records);
      expect(hex(packet)).toBe(vector.hex.replace(/\s+/g, ''));
      const decoded = decodePacket(fromHex(vector.hex));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      expect(decoded.unknownRecords).toBe(0);
      expect(decoded.records).toHaveLength(vector.records.length);
      decoded.records.forEach((record, i) => {
        const sent = vector.records[i] as OutgoingRecord;
        expect(record.kind).toBe(sent.kind);
        if ('parts' in sent && 'bytes' in record) {
          expect(hex(record.bytes)).toBe(hex(Buffer.concat(sent.parts)));
          const { parts: _parts, ...fieldsSent } = sent;
          const { bytes: _bytes, ...fieldsDecoded } = record;
          expect(fieldsDecoded).toEqual(fieldsSent);
        } else {
          expect(record).toEqual(sent);
        }
      });
    });
  }

  it('decodes views into a packet that sits at an offset of a larger buffer', () => {
    const packet = encodePacket([{ kind: 'receipts', lane: 0, ids: [5] }]);
    const big = new Uint8Array(packet.length + 10);
    big.set(packet, 10);
    const decoded = decodePacket(big.subarray(10));
    expect(decoded).toEqual({ ok: true, records: [{ kind: 'receipts', lane: 0, ids: [5] }], unknownRecords: 0 });
  });

  it('skips and counts records of an unknown kind, keeping the rest', () => {
    const decoded = decodePacket(fromHex('02 63 00000002 abcd 05 00000000'));
    expect(decoded).toEqual({ ok: true, records: [{ kind: 'bye' }], unknownRecords: 1 });
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['an empty packet', '', /empty/],
    ['another wire version', '01 05 00000000', /version 1/],
    ['a truncated record header', '02 05 0000', /truncated/],
    ['a length past the end', '02 02 000000ff 00000001', /exceeds the packet/],
    ['a head too short for its fields', '02 01 00000004 00000001', /head record too short/],
    ['a head in a lane that does not exist', '02 01 0000000d 02 00000001 00000001 00000000', /lane 2/],
    ['a chunk with no payload', '02 02 00000009 00 00000001 00000000', /chunk record too short/],
    ['receipts not 1 + a multiple of 4', '02 03 00000004 00 000001', /multiple of 4/],
    ['a reject that is not JSON', '02 04 00000006 00 00000001 7b', /not JSON/],
    ['a reject with an unknown code', '02 04 00000021 00 00000001' + hex(new TextEncoder().encode('{"code":"NOPE","message":""}')), /no valid code/],
    ['a cancel of the wrong length', '02 0a 00000004 01 000000', /cancel record is not 5 bytes/],
    ['a cancel in a lane that does not exist', '02 0a 00000005 05 00000003', /lane 5/],
    ['a hello without limits', '02 06 00000002 7b7d', /no valid limits/],
    ['a datagram of an unknown mode', '02 0b 0000000a 04 00000001 00000001 7b', /mode 4/],
    ['a datagram declaring more JSON than it carries', '02 0b 0000000a 02 00000001 00000002 7b', /declares 2 JSON bytes in 1/],
    ['a datagram with id 0', '02 0b 0000000a 02 00000000 00000001 7b', /id 0/],
    ['a datagram with no JSON', '02 0b 00000009 02 00000001 00000000', /too short/],
    ['datagram receipts not a multiple of 4', '02 0c 00000003 000001', /multiple of 4/],
    ['a hello with a negative unorderedBase', '02 06 00000076' + hex(new TextEncoder().encode('{"maxJsonBytes":1,"maxAttachmentBytes":2,"epoch":"e","peerEpoch":"","delivered":[0,0],"base":[0,0],"unorderedBase":-1}')), /unorderedBase/],
    ['a hello with a malformed partial message', '02 06 00000077' + hex(new TextEncoder().encode('{"maxJsonBytes":1,"maxAttachmentBytes":2,"epoch":"e","peerEpoch":"","delivered":[0,0],"base":[0,0],"partial":[[2,1,1]]}')), /malformed partial/],
    ['a hello without epochs', '02 06 00000029' + hex(new TextEncoder().encode('{"maxJsonBytes":1,"maxAttachmentBytes":2}')), /no valid epochs/],
  ];
  for (const [what, packet, reason] of malformed) {
    it(`rejects ${what} without throwing`, () => {
      const decoded = decodePacket(fromHex(packet));
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.reason).toMatch(reason);
    });
  }

  it('rejects a packet larger than any peer may send', () => {
    const packet = new Uint8Array(MAX_PACKET_BYTES + 1);
    packet[0] = WIRE_VERSION;
    expect(decodePacket(packet)).toEqual({ ok: false, reason: expect.stringMatching(/exceeds/) });
  });

  it('round-trips message headers and refuses malformed ones', () => {
    const header = { type: 'chat', message: { text: 'hé', n: [1, null] }, broadcast: true };
    expect(decodeHeader(encodeHeader(header))).toEqual(header);
    expect(decodeHeader(encodeHeader({ ...header, broadcast: false }))).toEqual({ ...header, broadcast: false });
    const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
    expect(decodeHeader(bytes(0xff, 0xfe))).toMatch(/UTF-8 JSON/);
    expect(decodeHeader(enc(`{"t":"${'x'.repeat(257)}","m":{}}`))).toMatch(/type/);
  });

  // Golden headers of messages, requests and replies (docs/protocol.md, "Requests and replies"), shared with Python.
  for (const { name, header, json, alsoFrom } of WIRE_HEADERS) {
    it(`encodes the header of ${name} as documented and decodes it back`, () => {
      expect(new TextDecoder().decode(encodeHeader(header))).toBe(json);
      for (const text of [json, ...(alsoFrom ?? [])]) expect(decodeHeader(new TextEncoder().encode(text))).toEqual(header);
    });
  }

  it('refuses headers that do not add up, saying why', () => {
    for (const { json, reason } of WIRE_INVALID_HEADERS) expect([json, decodeHeader(new TextEncoder().encode(json))]).toEqual([json, reason]);
  });
});
