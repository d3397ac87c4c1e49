/**
 * The data-channel wire format (docs/protocol.md), runtime-neutral: Uint8Array, DataView,
 * TextEncoder. One data-channel message is a packet: a version byte, then records, each
 * `kind u8 | length u32 | body`. Several small messages coalesce into one packet; a large
 * one spans packets as a head record and chunk records. Decoding never throws: every byte
 * is untrusted.
 */
import { isErrorCode, type ErrorPayload } from '../../protocol/errors.js';
import { MAX_TOKEN_CHARS } from '../../protocol/limits.js';

export const WIRE_VERSION = 2;
export const PACKET_HEADER_BYTES = 1;
export const RECORD_HEADER_BYTES = 5;
export const HEAD_FIXED_BYTES = 13;
export const CHUNK_FIXED_BYTES = 9;

/**
 * Messages travel in two lanes, each numbered and ordered on its own: lane 0 carries
 * ordinary messages, lane 1 those too big to hold the others up (see docs/protocol.md).
 */
export type Lane = 0 | 1;
export const LANES: readonly Lane[] = [0, 1];
const isLane = (n: number): n is Lane => n === 0 || n === 1;
/** No packet is ever larger: a bigger data-channel message closes the connection. */
export const MAX_PACKET_BYTES = 262_144;
const MAX_ERROR_MESSAGE_CHARS = 1024;

const KIND = { head: 1, chunk: 2, receipts: 3, reject: 4, bye: 5, hello: 6, ping: 7, probe: 8, pong: 9, cancel: 10, datagram: 11, 'datagram-receipts': 12, auth: 13 } as const;

/**
 * How a message travels (docs/protocol.md, "Delivery modes"). `reliable` messages use the lanes;
 * the other three are datagrams, each whole in one record of one packet:
 * - `unordered`: reliable (receipted, resent on a new path, deduplicated), delivered as it arrives;
 * - `lossy`: sent at most once, never resent, no receipt;
 * - `latest`: as lossy, and the sender keeps only the newest unsent value per type, the receiver
 *   drops one older than the newest it delivered of that type.
 */
export type Delivery = 'reliable' | 'unordered' | 'lossy' | 'latest';
export const DELIVERIES: readonly Delivery[] = ['reliable', 'unordered', 'lossy', 'latest'];
export type DatagramMode = Exclude<Delivery, 'reliable'>;
const MODE_CODE = { unordered: 1, lossy: 2, latest: 3 } as const satisfies Record<DatagramMode, number>;
const MODE_OF: Record<number, DatagramMode | undefined> = { 1: 'unordered', 2: 'lossy', 3: 'latest' };
export const DATAGRAM_FIXED_BYTES = 9;
/**
 * The most JSON and attachment bytes a datagram (an unordered, lossy or latest message) may
 * carry: it travels whole in one packet, and a lossy one is lost whole if any of its SCTP
 * chunks is (16 KiB spans ~14 of them). LiveKit's lossy packets stop at the same size.
 */
export const MAX_DATAGRAM_BYTES = 16_000;

/** What a receiver accepts, announced in its hello so that senders can refuse early. */
export interface PeerLimits {
  maxJsonBytes: number;
  maxAttachmentBytes: number;
}

/**
 * Opens every link and relay stream. `epoch` names the sender's session; `delivered` is the
 * last id it delivered in each lane of the receiver's session `peerEpoch` ('' for none);
 * `base` is the last id of each of its own lanes that it will never send again.
 */
export interface Hello {
  limits: PeerLimits;
  epoch: string;
  peerEpoch: string;
  delivered: [number, number];
  base: [number, number];
  /**
   * The stream's binding (trust/binding.ts): a fresh nonce (16 bytes) and the sender's identity
   * key (Ed25519, 32 bytes), in hex. Absent from peers older than bindings, which are refused.
   */
  nonce?: string;
  key?: string;
  /**
   * The sender takes bulk messages (lane 1) on a second data channel of a direct link (label
   * BULK_CHANNEL_LABEL). Absent from older peers' hellos, which then get everything on one.
   */
  bulk?: true;
  /**
   * On a direct link: the sender's WebRTC stack restarts ICE (a browser's, @roamhq/wrtc; not
   * node-datachannel). When both hellos say so, a link that goes silent is restarted in place
   * rather than replaced. Absent otherwise.
   */
  restart?: true;
  /**
   * On a direct link: the sender takes the two datagram channels (DATAGRAM_CHANNELS), which
   * carry unordered, lossy and latest messages apart from the ordered ones. Absent from older
   * peers' hellos and from stacks without them: datagrams then share the first channel.
   */
  datagrams?: true;
  /** The last unordered datagram id the sender will never send again (all before were receipted). Absent when 0. */
  unorderedBase?: number;
  /**
   * Messages of the peer's that the sender holds in part from a stream that ended: [lane, id,
   * bytes held]. The peer resumes each from there instead of from its first byte. Absent when none.
   */
  partial?: Array<[Lane, number, number]>;
}

/** An auth record's largest body: its JSON proof, with a join token of up to MAX_TOKEN_CHARS. */
export const MAX_AUTH_BYTES = 1_024 + MAX_TOKEN_CHARS;

/** At most this many partial messages in a hello (a receiver holds at most maxIncompleteMessages). */
export const MAX_HELLO_PARTIALS = 64;

/** The label of a direct link's second data channel, for bulk messages (lane 1). */
export const BULK_CHANNEL_LABEL = 'roommesh-bulk';

/** The labels of a direct link's datagram channels: unordered and reliable; unordered with no retransmission (lossy and latest). */
export const DATAGRAM_CHANNELS = {
  unordered: { label: 'roommesh-unordered', init: { ordered: false } },
  lossy: { label: 'roommesh-lossy', init: { ordered: false, maxRetransmits: 0 } },
} as const;
export type DatagramChannel = keyof typeof DATAGRAM_CHANNELS;
/** The channel a datagram of `mode` takes. */
export const channelOf = (mode: DatagramMode): DatagramChannel => (mode === 'unordered' ? 'unordered' : 'lossy');

/**
 * The records of the wire, once. `Bytes` is how a head or chunk holds its message bytes: one
 * view of the packet when decoded, several parts (JSON header, attachment) when encoded.
 */
export type RecordOf<Bytes> =
  | ({ kind: 'head'; lane: Lane; id: number; jsonLength: number; attachmentLength: number } & Bytes)
  | ({ kind: 'chunk'; lane: Lane; id: number; offset: number } & Bytes)
  | { kind: 'receipts'; lane: Lane; ids: number[] }
  | { kind: 'reject'; lane: Lane; id: number; error: ErrorPayload }
  /** The sender gave message `lane:id` up before its last byte (an abort): discard it; it counts as handled. */
  | { kind: 'cancel'; lane: Lane; id: number }
  /** A whole message sent as a datagram: `id` numbers unordered ones (receipted) apart from lossy and latest ones (not). */
  | ({ kind: 'datagram'; mode: DatagramMode; id: number; jsonLength: number } & Bytes)
  /** Unordered datagrams delivered (or delivered before). */
  | { kind: 'datagram-receipts'; ids: number[] }
  /** The sender is leaving; `answer`: no, it answers our goodbye, and leaves the link for us to close (body: one byte, 1). */
  | { kind: 'bye'; answer?: true }
  | { kind: 'hello'; hello: Hello }
  /** The sender's proof that this stream ends at its identity key (trust/binding.ts): its body, JSON, read there. */
  | { kind: 'auth'; body: Uint8Array }
  | { kind: 'ping' }
  | { kind: 'probe' }
  | { kind: 'pong' };

/** A record as decoded from a packet; `bytes` views the packet (no copy). */
export type WireRecord = RecordOf<{ bytes: Uint8Array }>;

/** A record to encode; message bytes may come in several parts (JSON header, attachment). */
export type OutgoingRecord = RecordOf<{ parts: Uint8Array[] }>;

export type DecodeResult = { ok: true; records: WireRecord[]; unknownRecords: number } | { ok: false; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function partsLength(parts: Uint8Array[]): number {
  let n = 0;
  for (const part of parts) n += part.length;
  return n;
}

function encodeError(error: ErrorPayload): Uint8Array {
  return encoder.encode(JSON.stringify({ code: error.code, message: error.message.slice(0, MAX_ERROR_MESSAGE_CHARS) }));
}

/**
 * How many receipt ids fit in one receipts record within `room` bytes (record header included),
 * after `fixed` bytes of its own (a receipts record's lane; none for datagram receipts).
 */
export function receiptsThatFit(room: number, fixed = 1): number {
  return Math.max(0, Math.floor((room - RECORD_HEADER_BYTES - fixed) / 4));
}

/** Body length of a record, without its 5-byte record header. */
export function recordBodyLength(record: OutgoingRecord): number {
  switch (record.kind) {
    case 'head':
      return HEAD_FIXED_BYTES + partsLength(record.parts);
    case 'chunk':
      return CHUNK_FIXED_BYTES + partsLength(record.parts);
    case 'receipts':
      return 1 + 4 * record.ids.length;
    case 'reject':
      return 5 + encodeError(record.error).length;
    case 'cancel':
      return 5;
    case 'datagram':
      return DATAGRAM_FIXED_BYTES + partsLength(record.parts);
    case 'datagram-receipts':
      return 4 * record.ids.length;
    case 'bye':
      return record.answer === true ? 1 : 0;
    case 'ping':
    case 'probe':
    case 'pong':
      return 0;
    case 'hello':
      return encodeHello(record.hello).length;
    case 'auth':
      return record.body.length;
  }
}

function encodeHello(hello: Hello): Uint8Array {
  const { limits, epoch, peerEpoch, delivered, base } = hello;
  return encoder.encode(
    JSON.stringify({
      maxJsonBytes: limits.maxJsonBytes,
      maxAttachmentBytes: limits.maxAttachmentBytes,
      epoch,
      peerEpoch,
      delivered,
      base,
      ...(hello.nonce === undefined ? {} : { nonce: hello.nonce }),
      ...(hello.key === undefined ? {} : { key: hello.key }),
      ...(hello.bulk === true ? { bulk: true } : {}),
      ...(hello.restart === true ? { restart: true } : {}),
      ...(hello.datagrams === true ? { datagrams: true } : {}),
      ...(hello.unorderedBase !== undefined && hello.unorderedBase > 0 ? { unorderedBase: hello.unorderedBase } : {}),
      ...(hello.partial !== undefined && hello.partial.length > 0 ? { partial: hello.partial } : {}),
    }),
  );
}

const isPair = (value: unknown): value is [number, number] => Array.isArray(value) && value.length === 2 && isCount(value[0]) && isCount(value[1]);
/** Whether `value` is `bytes` bytes in lower-case hex (the hello's nonce and key, the auth record's fields). */
export const isHexOf = (value: unknown, bytes: number): value is string => typeof value === 'string' && value.length === bytes * 2 && /^[0-9a-f]*$/.test(value);
/** A hello's nonce and identity key (Ed25519), in bytes. */
export const HELLO_NONCE_BYTES = 16;
export const HELLO_KEY_BYTES = 32;
const isEpoch = (value: unknown): value is string => typeof value === 'string' && value.length <= 64;

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= 0xffff_ffff;

function decodeHello(body: Uint8Array): WireRecord | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(body));
  } catch {
    return 'hello record is not JSON';
  }
  const fields = (parsed ?? {}) as Record<string, unknown>;
  const { maxJsonBytes, maxAttachmentBytes, epoch, peerEpoch, delivered, base } = fields;
  if (!isCount(maxJsonBytes) || !isCount(maxAttachmentBytes)) return 'hello record has no valid limits';
  if (!isEpoch(epoch) || epoch.length === 0 || !isEpoch(peerEpoch)) return 'hello record has no valid epochs';
  if (!isPair(delivered) || !isPair(base)) return 'hello record has no valid delivered/base ids';
  const hello: Hello = { limits: { maxJsonBytes, maxAttachmentBytes }, epoch, peerEpoch, delivered: [delivered[0], delivered[1]], base: [base[0], base[1]] };
  const { nonce, key } = fields;
  if (nonce !== undefined) {
    if (!isHexOf(nonce, HELLO_NONCE_BYTES)) return 'hello record has an invalid nonce';
    hello.nonce = nonce;
  }
  if (key !== undefined) {
    if (!isHexOf(key, HELLO_KEY_BYTES)) return 'hello record has an invalid identity key';
    hello.key = key;
  }
  if (fields['bulk'] === true) hello.bulk = true;
  if (fields['restart'] === true) hello.restart = true;
  if (fields['datagrams'] === true) hello.datagrams = true;
  const unorderedBase = fields['unorderedBase'];
  if (unorderedBase !== undefined) {
    if (!isCount(unorderedBase)) return 'hello record has an invalid unorderedBase';
    hello.unorderedBase = unorderedBase;
  }
  const partial = fields['partial'];
  if (partial !== undefined) {
    const valid =
      Array.isArray(partial) &&
      partial.length <= MAX_HELLO_PARTIALS &&
      partial.every((p: unknown) => Array.isArray(p) && p.length === 3 && (p[0] === 0 || p[0] === 1) && isCount(p[1]) && isCount(p[2]) && p[1] > 0 && p[2] > 0);
    if (!valid) return 'hello record has malformed partial messages';
    hello.partial = (partial as Array<[Lane, number, number]>).map(([lane, id, held]) => [lane, id, held]);
  }
  return { kind: 'hello', hello };
}

/** Copies `parts` into `packet` from `at`; returns where they end. */
function putParts(packet: Uint8Array, parts: Uint8Array[], at: number): number {
  for (const part of parts) {
    packet.set(part, at);
    at += part.length;
  }
  return at;
}

/**
 * Encodes `records` into a new buffer, or into `into` when it is large enough (the result is
 * then a view of it, valid until `into` is reused).
 */
export function encodePacket(records: OutgoingRecord[], into?: Uint8Array): Uint8Array {
  const bodies = records.map((record) => recordBodyLength(record));
  const total = PACKET_HEADER_BYTES + bodies.reduce((sum, n) => sum + RECORD_HEADER_BYTES + n, 0);
  const packet = into !== undefined && into.length >= total ? into.subarray(0, total) : new Uint8Array(total);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  packet[0] = WIRE_VERSION;
  let at = PACKET_HEADER_BYTES;
  records.forEach((record, index) => {
    view.setUint8(at, KIND[record.kind]);
    view.setUint32(at + 1, bodies[index] ?? 0);
    at += RECORD_HEADER_BYTES;
    switch (record.kind) {
      case 'head':
        view.setUint8(at, record.lane);
        view.setUint32(at + 1, record.id);
        view.setUint32(at + 5, record.jsonLength);
        view.setUint32(at + 9, record.attachmentLength);
        at += HEAD_FIXED_BYTES;
        at = putParts(packet, record.parts, at);
        break;
      case 'chunk':
        view.setUint8(at, record.lane);
        view.setUint32(at + 1, record.id);
        view.setUint32(at + 5, record.offset);
        at += CHUNK_FIXED_BYTES;
        at = putParts(packet, record.parts, at);
        break;
      case 'receipts':
        view.setUint8(at, record.lane);
        at += 1;
        for (const id of record.ids) { view.setUint32(at, id); at += 4; }
        break;
      case 'reject': {
        view.setUint8(at, record.lane);
        view.setUint32(at + 1, record.id);
        const error = encodeError(record.error);
        packet.set(error, at + 5);
        at += 5 + error.length;
        break;
      }
      case 'cancel':
        view.setUint8(at, record.lane);
        view.setUint32(at + 1, record.id);
        at += 5;
        break;
      case 'datagram':
        view.setUint8(at, MODE_CODE[record.mode]);
        view.setUint32(at + 1, record.id);
        view.setUint32(at + 5, record.jsonLength);
        at += DATAGRAM_FIXED_BYTES;
        at = putParts(packet, record.parts, at);
        break;
      case 'datagram-receipts':
        for (const id of record.ids) { view.setUint32(at, id); at += 4; }
        break;
      case 'bye':
        if (record.answer === true) view.setUint8(at++, 1);
        break;
      case 'ping':
      case 'probe':
      case 'pong':
        break;
      case 'hello': {
        const hello = encodeHello(record.hello);
        packet.set(hello, at);
        at += hello.length;
        break;
      }
      case 'auth':
        packet.set(record.body, at);
        at += record.body.length;
        break;
    }
  });
  return packet;
}

function decodeReject(body: Uint8Array, view: DataView, at: number): WireRecord | string {
  if (body.length < 5) return 'reject record too short';
  const lane = view.getUint8(at);
  if (!isLane(lane)) return `reject record names lane ${lane}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(body.subarray(5)));
  } catch {
    return 'reject record is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'reject record is not an object';
  const { code, message } = parsed as { code?: unknown; message?: unknown };
  if (!isErrorCode(code) || typeof message !== 'string') return 'reject record has no valid code/message';
  return { kind: 'reject', lane, id: view.getUint32(at + 1), error: { code, message: message.slice(0, MAX_ERROR_MESSAGE_CHARS) } };
}

export function decodePacket(packet: Uint8Array): DecodeResult {
  if (packet.length < PACKET_HEADER_BYTES) return { ok: false, reason: 'empty packet' };
  if (packet[0] !== WIRE_VERSION) return { ok: false, reason: `unsupported wire version ${packet[0]}` };
  if (packet.length > MAX_PACKET_BYTES) return { ok: false, reason: `packet of ${packet.length} bytes exceeds ${MAX_PACKET_BYTES}` };
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const records: WireRecord[] = [];
  let unknownRecords = 0;
  let at = PACKET_HEADER_BYTES;
  while (at < packet.length) {
    if (packet.length - at < RECORD_HEADER_BYTES) return { ok: false, reason: 'truncated record header' };
    const kind = view.getUint8(at);
    const length = view.getUint32(at + 1);
    at += RECORD_HEADER_BYTES;
    if (length > packet.length - at) return { ok: false, reason: `record length ${length} exceeds the packet` };
    const body = packet.subarray(at, at + length);
    const lane = length > 0 ? view.getUint8(at) : 0;
    switch (kind) {
      case KIND.head:
        if (length < HEAD_FIXED_BYTES) return { ok: false, reason: 'head record too short' };
        if (!isLane(lane)) return { ok: false, reason: `head record names lane ${lane}` };
        records.push({
          kind: 'head',
          lane,
          id: view.getUint32(at + 1),
          jsonLength: view.getUint32(at + 5),
          attachmentLength: view.getUint32(at + 9),
          bytes: body.subarray(HEAD_FIXED_BYTES),
        });
        break;
      case KIND.chunk:
        if (length < CHUNK_FIXED_BYTES + 1) return { ok: false, reason: 'chunk record too short' };
        if (!isLane(lane)) return { ok: false, reason: `chunk record names lane ${lane}` };
        records.push({ kind: 'chunk', lane, id: view.getUint32(at + 1), offset: view.getUint32(at + 5), bytes: body.subarray(CHUNK_FIXED_BYTES) });
        break;
      case KIND.receipts: {
        if (length < 1 || (length - 1) % 4 !== 0) return { ok: false, reason: 'receipts record length is not 1 + a multiple of 4' };
        if (!isLane(lane)) return { ok: false, reason: `receipts record names lane ${lane}` };
        const ids: number[] = [];
        for (let i = 1; i < length; i += 4) ids.push(view.getUint32(at + i));
        records.push({ kind: 'receipts', lane, ids });
        break;
      }
      case KIND.reject: {
        const record = decodeReject(body, view, at);
        if (typeof record === 'string') return { ok: false, reason: record };
        records.push(record);
        break;
      }
      case KIND.cancel:
        if (length !== 5) return { ok: false, reason: 'cancel record is not 5 bytes' };
        if (!isLane(lane)) return { ok: false, reason: `cancel record names lane ${lane}` };
        records.push({ kind: 'cancel', lane, id: view.getUint32(at + 1) });
        break;
      case KIND.datagram: {
        if (length < DATAGRAM_FIXED_BYTES + 1) return { ok: false, reason: 'datagram record too short' };
        const mode = MODE_OF[lane];
        if (mode === undefined) return { ok: false, reason: `datagram record names mode ${lane}` };
        const jsonLength = view.getUint32(at + 5);
        const id = view.getUint32(at + 1);
        if (jsonLength < 1 || jsonLength > length - DATAGRAM_FIXED_BYTES) return { ok: false, reason: `datagram record declares ${jsonLength} JSON bytes in ${length - DATAGRAM_FIXED_BYTES}` };
        if (id < 1) return { ok: false, reason: 'datagram record has id 0' };
        records.push({ kind: 'datagram', mode, id, jsonLength, bytes: body.subarray(DATAGRAM_FIXED_BYTES) });
        break;
      }
      case KIND['datagram-receipts']: {
        if (length % 4 !== 0) return { ok: false, reason: 'datagram-receipts record length is not a multiple of 4' };
        const ids: number[] = [];
        for (let i = 0; i < length; i += 4) ids.push(view.getUint32(at + i));
        records.push({ kind: 'datagram-receipts', ids });
        break;
      }
      case KIND.bye:
        records.push(length >= 1 && view.getUint8(at) === 1 ? { kind: 'bye', answer: true } : { kind: 'bye' });
        break;
      case KIND.ping:
        records.push({ kind: 'ping' });
        break;
      case KIND.probe:
        records.push({ kind: 'probe' });
        break;
      case KIND.pong:
        records.push({ kind: 'pong' });
        break;
      case KIND.hello: {
        const record = decodeHello(body);
        if (typeof record === 'string') return { ok: false, reason: record };
        records.push(record);
        break;
      }
      case KIND.auth:
        if (length > MAX_AUTH_BYTES) return { ok: false, reason: `auth record of ${length} bytes exceeds ${MAX_AUTH_BYTES}` };
        records.push({ kind: 'auth', body: body.slice() });
        break;
      default:
        unknownRecords++; // a newer peer's record kind: skipped, counted
    }
    at += length;
  }
  return { ok: true, records, unknownRecords };
}

/**
 * The JSON header every message starts with: its type, its JSON body, and whether it was
 * broadcast. A request carries its number (`request`); a reply names the request it answers
 * (`replyTo`) and, when the handler failed, the `error` instead of a body.
 */
export interface MessageHeader {
  type: string;
  message: Record<string, unknown>;
  broadcast: boolean;
  request?: number;
  replyTo?: number;
  error?: ErrorPayload;
}

export const MAX_TYPE_LENGTH = 256;

type WireHeader = { t: string; m: Record<string, unknown>; b?: 1; q?: number; r?: number; e?: { c: string; m: string } };

export function encodeHeader(header: MessageHeader): Uint8Array {
  const wire: WireHeader = { t: header.type, m: header.message };
  if (header.broadcast) wire.b = 1;
  if (header.request !== undefined) wire.q = header.request;
  if (header.replyTo !== undefined) wire.r = header.replyTo;
  if (header.error !== undefined) wire.e = { c: header.error.code, m: header.error.message.slice(0, MAX_ERROR_MESSAGE_CHARS) };
  return encoder.encode(JSON.stringify(wire));
}

const isRequestNumber = (n: unknown): n is number => isCount(n) && n > 0;

export function decodeHeader(bytes: Uint8Array): MessageHeader | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return 'message header is not UTF-8 JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'message header is not an object';
  const { t, m, b, q, r, e } = parsed as { t?: unknown; m?: unknown; b?: unknown; q?: unknown; r?: unknown; e?: unknown };
  if (typeof t !== 'string' || t.length === 0 || t.length > MAX_TYPE_LENGTH) return 'message type is missing or too long';
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'message body is not a JSON object';
  const header: MessageHeader = { type: t, message: m as Record<string, unknown>, broadcast: b === 1 };
  if (q !== undefined) {
    if (!isRequestNumber(q) || r !== undefined || b !== undefined) return 'request number is invalid, or on a reply or broadcast';
    header.request = q;
  }
  if (r !== undefined) {
    if (!isRequestNumber(r) || b !== undefined) return 'reply number is invalid, or on a broadcast';
    header.replyTo = r;
  }
  if (e !== undefined) {
    const { c, m: text } = (typeof e === 'object' && e !== null ? e : {}) as { c?: unknown; m?: unknown };
    if (header.replyTo === undefined || !isErrorCode(c) || typeof text !== 'string') return 'reply error is invalid, or not on a reply';
    header.error = { code: c, message: text.slice(0, MAX_ERROR_MESSAGE_CHARS) };
  }
  return header;
}
