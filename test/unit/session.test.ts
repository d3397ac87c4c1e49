/**
 * The reliable conversation (PeerSession) across streams that come and go, on an in-memory
 * transport: hellos, rewinds, dedupe, epochs, and a property test that any sequence of sends,
 * partial deliveries, stream breaks and new streams delivers every message exactly once, in
 * order per lane, and settles every send.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type Tunables } from '../../client/options.js';
import { PeerChannel, type ChannelTransport } from '../../client/peer/channel.js';
import { PeerSession, type SendControl } from '../../client/peer/session.js';
import { encodeHeader } from '../../client/wire/codec.js';

const TUNABLES: Tunables = { ...DEFAULTS, livenessTimeoutMs: 600_000, heartbeatIntervalMs: 300_000, bulkThresholdBytes: 2000, maxPacketBytes: 1500 };

/** One side of the pair: its session, what it delivered, and how its sends ended. */
class Side {
  readonly delivered: Array<[number, number]> = [];
  /** Datagrams delivered: their mode and number. */
  readonly datagrams: Array<[string, number]> = [];
  /** Messages that arrived again after a rewind (dropped by the session, receipted again). */
  duplicates = 0;
  readonly violations: string[] = [];
  readonly session = new PeerSession(TUNABLES, {
    message: (m) => void (m.delivery === undefined ? this.delivered.push([m.lane, Number(m.message['n'])]) : this.datagrams.push([m.delivery, Number(m.message['n'])])),
    refused: () => {},
    progress: () => {},
    aborted: (p) => void this.aborts.push(`${p.lane}:${p.id}`),
    violation: (reason) => void this.violations.push(reason),
  });
  readonly outcomes = new Map<number, 'ok' | string>();

  constructor() {
    // Count what arrives more than once (a rewind racing an old stream): the session says so, and must not deliver it.
    const incoming = this.session.incoming.bind(this.session);
    this.session.incoming = (message) => {
      const verdict = incoming(message);
      if (verdict === 'duplicate') this.duplicates++;
      return verdict;
    };
  }

  readonly progress: Array<[number, number]> = [];
  readonly aborts: string[] = [];

  send(n: number, size: number, control: SendControl = {}): void {
    const header = encodeHeader({ type: 't', message: { n }, broadcast: false });
    this.session.send(header, new Uint8Array(size), control).then(
      () => void this.outcomes.set(n, 'ok'),
      (error: Error) => void this.outcomes.set(n, error.message),
    );
  }
}

/**
 * A stream between the two sides: a PeerChannel at each end over an in-memory transport.
 * Packets wait in a queue until `deliver` moves them; `break` drops what is in flight.
 */
class Stream {
  private readonly queues: [Uint8Array[], Uint8Array[]] = [[], []];
  private readonly channels: [PeerChannel, PeerChannel];
  /** Bytes each side has written to this stream. */
  readonly written: [number, number] = [0, 0];
  private open = true;

  /** `tunables`: the channels' (its water marks pace against the bytes waiting in the queue); `receiving`: side 1's limits, if other. */
  constructor(sides: [Side, Side], tunables: Tunables = TUNABLES, receiving: Tunables = tunables) {
    const make = (from: 0 | 1): PeerChannel => {
      const queue = this.queues[from];
      const transport: ChannelTransport = {
        get isOpen() {
          return stream.open;
        },
        get bufferedAmount() {
          return queue.reduce((sum, packet) => sum + packet.length, 0);
        },
        maxMessageSize: 1500,
        send: (packet) => {
          this.written[from] += packet.length;
          this.queues[from].push(packet.slice()); // the outbox reuses its buffer
        },
      };
      const side = sides[from];
      const channel: PeerChannel = new PeerChannel(transport, side.session, from === 1 ? receiving : tunables, {
        hello: (hello) => side.session.activate(channel, hello),
        bye: () => {},
        unauthenticated: () => {},
        silent: () => {},
        broken: (reason) => void side.violations.push(`broken: ${reason}`),
        violation: (reason) => void side.violations.push(reason),
      });
      return channel;
    };
    const stream = this;
    this.channels = [make(0), make(1)];
  }

  /** Moves up to `count` packets each way (all when undefined), then lets the channels answer. */
  async deliver(count = Number.POSITIVE_INFINITY): Promise<void> {
    for (let round = 0; round < 50; round++) {
      await settle();
      let moved = 0;
      for (const from of [0, 1] as const) {
        const to = this.channels[from === 0 ? 1 : 0];
        while (this.open && this.queues[from].length > 0 && moved < count) {
          to.receive(this.queues[from].shift() as Uint8Array);
          moved++;
        }
      }
      if (moved === 0 || count !== Number.POSITIVE_INFINITY) return settle();
    }
  }

  break(): void {
    this.open = false;
    this.queues[0].length = 0;
    this.queues[1].length = 0;
    for (const channel of this.channels) channel.close();
  }
}

/** Lets microtask-scheduled pumps run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('PeerSession across streams', () => {
  it('settles on a new stream what the peer\'s hello says it has, without resending it', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    let stream = new Stream(sides);
    await stream.deliver(); // hellos cross: the stream is active on both sides
    for (let n = 1; n <= 5; n++) sides[0].send(n, 10);
    await stream.deliver(1); // some of it arrives, its receipts may not
    stream.break();
    stream = new Stream(sides);
    await stream.deliver();
    expect(sides[1].delivered).toEqual([1, 2, 3, 4, 5].map((n) => [0, n]));
    expect([...sides[0].outcomes.values()]).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(sides[1].violations).toEqual([]);
    stream.break();
  });

  it('a refusal lost with its stream is heard again on the next one, not settled as delivered by the hello', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    const strict: Tunables = { ...TUNABLES, maxJsonBytes: 8 };
    let stream = new Stream(sides, TUNABLES, strict);
    await stream.deliver();
    // The sender believes the receiver takes more than it does (a limit lowered since its hello): the receiver refuses.
    sides[0].session.peerLimits = { maxJsonBytes: 1 << 20, maxAttachmentBytes: 1 << 20 };
    sides[0].send(1, 0);
    sides[0].send(2, 0);
    await settle();
    await stream.deliver(2); // both arrive and are refused; the refusals are lost with the stream
    stream.break();
    expect([...sides[0].outcomes.values()]).toEqual([]);
    stream = new Stream(sides, TUNABLES, strict);
    await stream.deliver();
    expect(sides[1].delivered).toEqual([]);
    expect([...sides[0].outcomes.entries()].map(([n, outcome]) => [n, /limit of 8/.test(outcome) ? 'refused' : outcome])).toEqual([
      [1, 'refused'],
      [2, 'refused'],
    ]);
    stream.break();
  });

  it('a peer that restarted its session (gave us up) gets no message twice: one it may have had fails, the rest are sent', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    let stream = new Stream(sides);
    await stream.deliver();
    sides[0].send(1, 10);
    await settle();
    await stream.deliver(1); // message 1 arrives and is delivered; its receipt is lost with the stream
    stream.break();
    sides[0].send(2, 10); // never written before the restart
    expect(sides[1].delivered).toEqual([[0, 1]]);
    const restarted: [Side, Side] = [sides[0], new Side()]; // the peer gave us up: a new session, with no memory of message 1
    stream = new Stream(restarted);
    await stream.deliver();
    expect(restarted[1].delivered).toEqual([[0, 2]]);
    expect(sides[0].outcomes.get(1)).toMatch(/restarted its side of the link/);
    expect(sides[0].outcomes.get(2)).toBe('ok');
    stream.break();
  });

  it('resumes a message half received when its stream ended from the bytes the receiver holds, not from its first byte', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    let stream = new Stream(sides);
    await stream.deliver();
    const size = 30_000; // about twenty packets of TUNABLES.maxPacketBytes
    sides[0].send(1, size);
    await settle();
    await stream.deliver(10); // about half of it arrives
    stream.break();
    const progress: number[] = [];
    sides[1].session.incomingProgress = (p) => void progress.push(p.receivedBytes);
    stream = new Stream(sides);
    await stream.deliver();
    expect(sides[1].delivered).toEqual([[1, 1]]); // the bulk lane
    expect(sides[0].outcomes.get(1)).toBe('ok');
    // The new stream carried the rest (and a hello), not the whole message again.
    expect(stream.written[0]).toBeLessThan(size * 0.6);
    expect(progress[0]).toBeGreaterThan(size * 0.4); // the receiver's progress went on from where it was
    stream.break();
  });

  it('aborts a message begun: nothing more is written, the receiver frees what it held, the lane goes on; progress never goes back', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    const paced = { ...TUNABLES, highWaterMarkBytes: 4000, lowWaterMarkBytes: 1000, pollIntervalMs: 1 };
    let stream = new Stream(sides, paced);
    await stream.deliver();
    const controller = new AbortController();
    const progress: number[] = [];
    const total = 50_000;
    sides[0].send(1, total, { signal: controller.signal, onProgress: (sent) => progress.push(sent) });
    const moveUntil = async (done: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !done(); i++) {
        await new Promise((resolve) => setTimeout(resolve, 2)); // the pacer polls the buffer on a timer
        await stream.deliver();
      }
    };
    await moveUntil(() => (progress.at(-1) ?? 0) >= 10_000);
    stream.break(); // rewound onto the next stream: progress must not go back to 0
    stream = new Stream(sides, paced);
    await stream.deliver();
    await moveUntil(() => (progress.at(-1) ?? 0) >= 20_000);
    expect(progress.at(-1)).toBeGreaterThanOrEqual(20_000);
    expect(progress.at(-1)).toBeLessThan(total);
    expect(progress).toEqual([...new Set(progress)].sort((a, b) => a - b));
    expect(sides[1].aborts).toEqual([]);
    controller.abort();
    sides[0].send(2, 10);
    await moveUntil(() => sides[0].outcomes.has(2) && sides[1].aborts.length > 0);
    expect(sides[0].outcomes.get(1)).toMatch(/aborted/);
    expect(sides[0].outcomes.get(2)).toBe('ok');
    expect(sides[1].delivered).toEqual([[0, 2]]);
    expect(sides[1].aborts).toEqual(['1:1']); // the bulk lane
    expect(progress.at(-1)).toBeLessThan(total);
    expect(sides[0].session.queuedBytes).toBe(0);
    expect(sides[1].violations).toEqual([]);
    stream.break();
  });

  it('an abort after the last byte was written is too late: the send settles as it would have', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    const stream = new Stream(sides);
    await stream.deliver();
    const controller = new AbortController();
    sides[0].send(1, 100, { signal: controller.signal });
    await settle(); // written, not yet delivered
    controller.abort();
    await stream.deliver();
    expect(sides[0].outcomes.get(1)).toBe('ok');
    expect(sides[1].delivered).toEqual([[0, 1]]);
    stream.break();
  });

  it('tells a restarted peer (a new epoch) from one that only switched path', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    let stream = new Stream(sides);
    await stream.deliver();
    sides[0].send(1, 0);
    await stream.deliver();
    stream.break();
    // B "restarts": a fresh session. A's next hello from B names a new epoch; A counts it, B starts from 0.
    const restarted: [Side, Side] = [sides[0], new Side()];
    stream = new Stream(restarted);
    await stream.deliver();
    expect(sides[0].violations.some((v) => /restarted its session/.test(v))).toBe(true);
    sides[0].send(2, 0);
    await stream.deliver();
    expect(restarted[1].delivered).toEqual([[0, 2]]);
    stream.break();
  });

  it('delivers every message exactly once and in order per lane, whatever breaks and new streams come between (property)', async () => {
    // Streams overlap as paths do (a relay stream still delivering while a new direct link's
    // hello makes it the active one), so resends race what the old stream still carries.
    type Step = { kind: 'send'; size: number } | { kind: 'deliver'; stream: number; count: number } | { kind: 'break'; stream: number } | { kind: 'stream' } | { kind: 'abort'; which: number };
    const step = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('send' as const), size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4000 })) }) },
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), stream: fc.nat(3), count: fc.integer({ min: 1, max: 6 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('break' as const), stream: fc.nat(3) }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'stream' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), which: fc.nat() }) },
    );
    let resent = 0;
    let abortedSends = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps: Step[]) => {
        const sides: [Side, Side] = [new Side(), new Side()];
        const streams: Stream[] = [new Stream(sides)];
        const sizes: number[] = [];
        const lanes: Array<0 | 1> = [];
        const controllers: AbortController[] = [];
        for (const s of steps) {
          if (s.kind === 'send') {
            sizes.push(s.size);
            const header = encodeHeader({ type: 't', message: { n: sizes.length }, broadcast: false });
            lanes.push(header.length + s.size > TUNABLES.bulkThresholdBytes ? 1 : 0);
            const controller = new AbortController();
            controllers.push(controller);
            sides[0].send(sizes.length, s.size, { signal: controller.signal });
          } else if (s.kind === 'abort') controllers[s.which % Math.max(1, controllers.length)]?.abort();
          else if (s.kind === 'deliver') await streams[s.stream % Math.max(1, streams.length)]?.deliver(s.count);
          else if (s.kind === 'break') streams.splice(s.stream % Math.max(1, streams.length), 1)[0]?.break();
          else streams.push(new Stream(sides));
        }
        // Finally a stream that stays up until everything has crossed, and the old ones drained.
        streams.push(new Stream(sides));
        for (let round = 0; round < 3; round++) for (const stream of streams) await stream.deliver();
        for (const stream of streams) stream.break();
        // An aborted send (ABORTED) is never delivered; every other one is, once, in order; too late an abort changes nothing.
        const aborted = (n: number): boolean => sides[0].outcomes.get(n) !== 'ok';
        const expected = (lane: 0 | 1) => lanes.map((l, i) => [l, i + 1] as const).filter(([l, n]) => l === lane && !aborted(n)).map(([, n]) => n);
        const got = (lane: 0 | 1) => sides[1].delivered.filter(([l]) => l === lane).map(([, n]) => n);
        expect(got(0)).toEqual(expected(0));
        expect(got(1)).toEqual(expected(1));
        expect(sides[0].outcomes.size).toBe(sizes.length);
        expect([...sides[0].outcomes.values()].every((o) => o === 'ok' || /aborted/.test(o))).toBe(true);
        expect(sides[0].session.queuedBytes).toBe(0);
        expect(sides[1].violations.filter((v) => !v.startsWith('broken'))).toEqual([]);
        resent += sides[1].duplicates;
        abortedSends += [...sides[0].outcomes.values()].filter((o) => o !== 'ok').length;
      }),
      { numRuns: 200, seed: Number(process.env['PROPERTY_SEED'] ?? 20261202) },
    );
    expect(resent).toBeGreaterThan(0); // the runs did make the receiver drop resends
    expect(abortedSends).toBeGreaterThan(0); // and some sends were aborted in time
  });
});

describe('datagrams on a stream that backs up (the relay when it is slow, a shared channel behind an attachment)', () => {
  const SLOW: Tunables = { ...TUNABLES, highWaterMarkBytes: 3000, lowWaterMarkBytes: 1000 };
  /** Moves packets until `done` holds: a paced stream resumes on its poll timer once its queue drains. */
  async function deliverUntil(stream: Stream, done: () => boolean, label: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`not within 5 s: ${label}`);
      await stream.deliver();
      await new Promise((resolve) => setTimeout(resolve, SLOW.pollIntervalMs));
    }
  }
  const header = (n: number, type = 'cursor'): Uint8Array => encodeHeader({ type, message: { n }, broadcast: false });

  it('keeps only the newest latest value per type and the newest 64 lossy ones while the stream cannot take them, and delivers those', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    const stream = new Stream(sides, SLOW);
    await stream.deliver();
    sides[0].send(0, 20_000); // a reliable message fills the stream past its high mark: the pacer waits
    await settle();
    const sends: Array<Promise<void>> = [];
    for (let n = 1; n <= 100; n++) {
      sends.push(sides[0].session.sendDatagram('latest', 'cursor', header(n), new Uint8Array(0)));
      sends.push(sides[0].session.sendDatagram('lossy', 'tick', header(n, 'tick'), new Uint8Array(0)));
    }
    await Promise.all(sends.filter((_, i) => i % 2 === 0).slice(0, 99)); // 99 latest values superseded: resolved already
    expect(sides[0].session.datagrams.counts).toMatchObject({ superseded: 99, dropped: 36 });
    await deliverUntil(stream, () => sides[1].datagrams.length === 65 && sides[1].delivered.length === 1, 'the newest cursor, 64 lossy ticks and the reliable message');
    await Promise.all(sends);
    const latest = sides[1].datagrams.filter(([mode]) => mode === 'latest').map(([, n]) => n);
    const lossy = sides[1].datagrams.filter(([mode]) => mode === 'lossy').map(([, n]) => n);
    expect(latest).toEqual([100]);
    expect(lossy).toEqual(Array.from({ length: 64 }, (_, i) => 37 + i));
    expect(sides[1].delivered).toEqual([[1, 0]]); // the 20 KB message, in the bulk lane
    stream.break();
  });

  it('delivers each unordered message once across a stream broken under it, and settles every send', async () => {
    const sides: [Side, Side] = [new Side(), new Side()];
    let stream = new Stream(sides, SLOW);
    await stream.deliver();
    const outcomes: string[] = [];
    for (let n = 1; n <= 30; n++) sides[0].session.sendDatagram('unordered', 'u', header(n, 'u'), new Uint8Array(200)).then(() => outcomes.push('ok'), (e: Error) => outcomes.push(e.message));
    await stream.deliver(3); // some arrive, their receipts do not
    stream.break();
    stream = new Stream(sides, SLOW);
    await deliverUntil(stream, () => outcomes.length === 30, 'all 30 unordered sends settled');
    const got = sides[1].datagrams.map(([, n]) => n);
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(outcomes).toEqual(Array(30).fill('ok'));
    expect(sides[0].violations.concat(sides[1].violations)).toEqual([]);
    stream.break();
  });
});
