import { describe, expect, it } from 'vitest';
import { DEFAULTS, type Tunables } from '../../client/options.js';
import { PeerChannel, type ChannelTransport } from '../../client/peer/channel.js';
import { PeerSession } from '../../client/peer/session.js';
import { encodeHeader, encodePacket, type Lane, type OutgoingRecord } from '../../client/wire/codec.js';
import { RoomError } from '../../protocol/errors.js';
import { RelayTransport, type RelaySender } from '../../client/peer/relay-transport.js';

/** xorshift32: the same seed gives the same frames, so a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)] as T };
}

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261125);
const FRAMES = 100_000;

const LIMITS: Tunables = { ...DEFAULTS, maxJsonBytes: 4096, maxAttachmentBytes: 64 * 1024, maxIncompleteMessages: 4, maxPendingBytes: 128 * 1024 };

describe('frame decoder fuzz', () => {
  it(`survives ${FRAMES.toLocaleString('en')} random and mutated frames (seed ${SEED}) with bounded memory`, () => {
    const r = rng(SEED);
    const sent: Uint8Array[] = [];
    const transport: ChannelTransport = { isOpen: true, bufferedAmount: 0, maxMessageSize: 16_384, send: (p) => void sent.push(p) };
    const counts = { messages: 0, violations: 0, byes: 0, refused: 0, broken: 0 };
    const session = new PeerSession(LIMITS, {
      message: () => void counts.messages++,
      refused: () => void counts.refused++,
      progress: () => undefined,
      aborted: () => undefined,
      violation: () => void counts.violations++,
    });
    // A broken stream is replaced by a fresh one, as a path switch would, and the fuzz goes on.
    const open = (): PeerChannel =>
      new PeerChannel(transport, session, LIMITS, {
        hello: (hello) => session.activate(channel, hello),
        bye: () => void counts.byes++,
        unauthenticated: () => undefined,
        silent: () => {},
        broken: () => void counts.broken++,
        violation: () => void counts.violations++,
      });
    let channel = open();
    type Internals = { reassembler: { pendingBytes: number; incompleteMessages: number; lastHead: [number, number] } };
    // The generator peeks at the receiver's last head id so that most frames reach reassembly, not just the decoder.
    const internals = (): Internals => channel as unknown as Internals;
    const header = encodeHeader({ type: 'fuzz', message: { a: [1, 'two'] }, broadcast: false });
    let current: { lane: Lane; id: number; offset: number; total: number } | undefined;
    let maxPending = 0;
    let maxIncomplete = 0;

    const plausible = (): OutgoingRecord => {
      const choice = r.int(10);
      if (choice < 4 || current === undefined) {
        const attachmentLength = r.pick([0, 1, 100, 5000, 70_000, 2 ** 31]);
        const lane: Lane = r.next() < 0.8 ? 0 : 1;
        const delivered = (session as unknown as { delivered: [number, number] }).delivered[lane];
        const expected = Math.max(internals().reassembler.lastHead[lane], delivered) + 1;
        const id = r.next() < 0.8 ? expected : r.int(expected + 3);
        const first = Math.min(attachmentLength, r.int(300));
        current = { lane, id, offset: header.length + first, total: header.length + attachmentLength };
        return { kind: 'head', lane, id, jsonLength: header.length, attachmentLength, parts: [header, new Uint8Array(first)] };
      }
      if (choice < 8) {
        const length = Math.max(1, Math.min(current.total - current.offset, r.int(4000)));
        const record: OutgoingRecord = { kind: 'chunk', lane: current.lane, id: current.id, offset: r.next() < 0.9 ? current.offset : r.int(current.total + 10), parts: [new Uint8Array(length)] };
        current.offset += length;
        return record;
      }
      if (choice < 9) return { kind: 'receipts', lane: r.pick([0, 1] as const), ids: Array.from({ length: r.int(4) }, () => r.int(10)) };
      const hello = { limits: { maxJsonBytes: r.int(10_000), maxAttachmentBytes: r.int(1e9) }, epoch: r.pick(['a', 'b']), peerEpoch: r.pick(['', session.epoch]), delivered: [r.int(9), r.int(9)] as [number, number], base: [r.int(9), r.int(9)] as [number, number] };
      return r.pick<OutgoingRecord>([{ kind: 'ping' }, { kind: 'probe' }, { kind: 'pong' }, { kind: 'hello', hello }, { kind: 'reject', lane: 0, id: r.int(5), error: { code: 'TIMEOUT', message: 'x' } }]);
    };

    const mutate = (packet: Uint8Array): Uint8Array => {
      const out = packet.slice();
      switch (r.int(4)) {
        case 0: // flip a few bytes
          for (let i = 0; i < 1 + r.int(3); i++) if (out.length > 0) out[r.int(out.length)] = r.int(256);
          return out;
        case 1: // truncate
          return out.subarray(0, r.int(out.length + 1));
        case 2: { // lie about a record length
          if (out.length > 5) new DataView(out.buffer).setUint32(2, r.pick([0, 1, 0xffffffff, r.int(1 << 20)]));
          return out;
        }
        default: // trailing junk
          return new Uint8Array([...out, ...Array.from({ length: 1 + r.int(8) }, () => r.int(256))]);
      }
    };

    for (let i = 0; i < FRAMES; i++) {
      const kind = r.next();
      let frame: Uint8Array;
      if (kind < 0.25) {
        frame = Uint8Array.from({ length: r.int(64) }, () => r.int(256));
        if (frame.length > 0 && r.next() < 0.5) frame[0] = 2; // get past the version byte
      } else {
        const packet = encodePacket(Array.from({ length: 1 + r.int(3) }, plausible));
        frame = kind < 0.65 ? mutate(packet) : packet;
      }
      const before = counts.broken;
      expect(() => channel.receive(frame)).not.toThrow();
      const { reassembler } = internals();
      maxPending = Math.max(maxPending, reassembler.pendingBytes);
      maxIncomplete = Math.max(maxIncomplete, reassembler.incompleteMessages);
      if (counts.broken > before) {
        channel.close();
        channel = open();
      }
      if (i % 1000 === 0) sent.length = 0; // what the channel answers is not under test here
    }
    channel.close();
    session.fail(new RoomError('CLOSED', 'done'));

    // Bounded: never more held than the limits allow.
    expect(maxPending).toBeLessThanOrEqual(LIMITS.maxPendingBytes);
    expect(maxIncomplete).toBeLessThanOrEqual(LIMITS.maxIncompleteMessages);
    // And the fuzz reached deep: messages were delivered, refused, and frames counted as violations.
    expect(counts.messages).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(100);
    expect(counts.violations).toBeGreaterThan(10_000);
    expect(counts.broken).toBeGreaterThan(10); // second hellos, abandoned messages, floods of bad frames
    console.log(`[fuzz] seed ${SEED}: ${JSON.stringify(counts)}, peak pending ${maxPending} B, incomplete ${maxIncomplete}`);
  });
});

describe('relay stream fuzz', () => {
  it('opens only what the peer sealed, in order, whatever else arrives on the stream', async () => {
    const r = rng(SEED + 1);
    const inbox: { alice: Uint8Array[]; bob: Uint8Array[] } = { alice: [], bob: [] };
    const violations: string[] = [];
    const delivered: number[] = [];
    let tamper = false;
    let bob: RelayTransport | undefined;
    const wire = (to: 'alice' | 'bob'): RelaySender => ({
      connected: true,
      relay: (_to, _sid, frame, done) => {
        // A hostile service (or peer) may corrupt, replay or inject frames on their way.
        if (to === 'bob' && tamper && r.next() < 0.5) {
          const bad = r.next() < 0.5 ? frame.slice() : Uint8Array.from({ length: r.int(80) }, () => r.int(256));
          if (bad.length > 0) bad[r.int(bad.length)] = r.int(256);
          (to === 'bob' ? bob : alice)?.receive(bad);
          if (r.next() < 0.3) (to === 'bob' ? bob : alice)?.receive(frame); // a replay, after the genuine one below
        }
        inbox[to].push(frame);
        queueMicrotask(() => {
          const next = inbox[to].shift();
          if (next !== undefined) (to === 'bob' ? bob : alice)?.receive(next);
          done(true, '');
        });
      },
    });
    let opened = 0;
    const handlers = (who: string) => ({
      open: () => void opened++,
      packet: (packet: Uint8Array) => void (who === 'bob' && delivered.push(packet[0] ?? -1)),
      failed: (reason: string) => violations.push(`failed: ${reason}`),
      violation: (reason: string) => violations.push(reason),
    });
    const alice: RelayTransport = new RelayTransport({ sender: wire('bob'), to: 'bob', sid: 's', localId: 'alice', maxFrameBytes: 4096 }, handlers('alice'));
    bob = new RelayTransport({ sender: wire('alice'), to: 'alice', sid: 's', localId: 'bob', maxFrameBytes: 4096 }, handlers('bob'));
    for (let i = 0; i < 200 && opened < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(opened).toBe(2);
    tamper = true;
    for (let n = 0; n < 200; n++) alice.send(new Uint8Array([n % 256, ...Array.from({ length: r.int(500) }, () => r.int(256))]));
    for (let i = 0; i < 400 && delivered.length < 200; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(delivered).toEqual(Array.from({ length: 200 }, (_, n) => n % 256));
    expect(violations.length).toBeGreaterThan(20);
    expect(violations.some((v) => v.startsWith('failed'))).toBe(false);
  });
});
