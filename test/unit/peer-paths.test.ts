/**
 * Two Peers on fakes: fake links (no WebRTC) between two sites whose UDP can be cut, and a fake
 * service that carries signals and relayed frames (the relay's sealing is real: WebCrypto). The
 * fake links are reliable as SCTP is: what is sent while the path is down arrives once it is
 * back. What a silent link does: kept and heard again with nothing rebuilt; restarted in place
 * when its candidate pair died (an address change); and, when the relay's hello came while the
 * link still carried messages, the messages take the relay when the link dies.
 *
 * Timers are real but short (heartbeats every 100 ms, liveness 400 ms).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomError } from '../../client/index.js';
import { DEFAULTS, type Tunables } from '../../client/options.js';
import type { Link, LinkFactory, PeerLinkHandlers, PeerLinkOptions } from '../../client/peer/link.js';
import { Limiter } from '../../client/peer/limiter.js';
import { Lingering } from '../../client/peer/lingering.js';
import { LEAVER_CLOSES_MS } from '../../client/mesh.js';
import { Peer, type PeerContext } from '../../client/peer/peer.js';
import { RESTART_TIMEOUT_MS } from '../../client/peer/restarts.js';
import { encodeHeader } from '../../client/wire/codec.js';
import type { SignalData } from '../../protocol/signaling.js';
import { until } from '../helpers.js';
import type { ChannelBinding } from '../../client/trust/binding.js';
import { freshIdentity } from '../../client/trust/identity.js';
import { Trust } from '../../client/trust/trust.js';

const TUNABLES: Tunables = {
  ...DEFAULTS,
  heartbeatIntervalMs: 100,
  livenessTimeoutMs: 400,
  probeTimeoutMs: 200,
  directTimeoutMs: 1_500,
  relayAfterMs: 300,
  connectTimeoutMs: 10_000,
};

/** The two sites' network: UDP between them, and each side's service connection. */
class Net {
  udp = true;
  service = true;
  /** Relayed frames the service refuses next (as over its rate limit), each ending the relay stream that sent it. */
  refuseRelay = 0;
  readonly links: FakeLink[] = [];
  /** Which end closed a link, in order (`a` is the initiator). */
  readonly closes: string[] = [];
  private nextId = 0;

  register(link: FakeLink): number {
    this.links.push(link);
    return this.nextId++;
  }

  find(id: number): FakeLink | undefined {
    return this.links.find((l) => l.id === id);
  }

  /** UDP is back: every link whose pair still works delivers what waited. */
  setUdp(up: boolean): void {
    this.udp = up;
    if (up) for (const link of this.links) link.flush();
  }
}

/**
 * A link as a Peer sees one. Its offer and answer carry the link's id; a restart offer asks the
 * answering link to gather anew, which mends a dead candidate pair (`pairDead`: an address
 * change). Packets wait while the pair cannot carry them, and then arrive, in order.
 */
class FakeLink implements Link {
  readonly id: number;
  readonly restartsIce: boolean;
  readonly takesBulk = false;
  readonly takesDatagrams = false;
  readonly maxMessageSize = 65_536;
  readonly bufferedAmount = 0;
  readonly bulk = { isOpen: false, bufferedAmount: 0, maxMessageSize: undefined, send() {}, whenDrained: () => undefined };
  readonly datagrams = { unordered: this.bulk, lossy: this.bulk };
  partner: FakeLink | undefined;
  pairDead = false;
  restarts = 0;
  private opened = false;
  private closed = false;
  private negotiating = false;
  private lastOffer: SignalData | undefined;
  private readonly waiting: Uint8Array[] = [];

  constructor(
    private readonly net: Net,
    private readonly initiator: boolean,
    private readonly handlers: PeerLinkHandlers,
    restarts: boolean,
  ) {
    this.id = net.register(this);
    this.restartsIce = restarts;
    if (initiator) setTimeout(() => this.offer(''), 0);
  }

  get isOpen(): boolean {
    return this.opened && !this.closed;
  }

  /** As a PeerLink reads DTLS fingerprints: each link's certificate named by its id. */
  binding(): ChannelBinding | string {
    if (this.partner === undefined) return 'no partner yet';
    return { kind: 'dtls', local: `cert ${this.id}`, remote: `cert ${this.partner.id}` };
  }

  private offer(kind: string): void {
    if (this.closed) return;
    this.negotiating = true;
    this.lastOffer = { type: 'offer', sdp: `fake ${this.id}${kind}` };
    this.handlers.signal(this.lastOffer);
  }

  signal(data: SignalData): void {
    if (this.closed) return;
    if (data.type === 'offer') {
      const [, id, restart] = data.sdp.split(' ');
      this.partner = this.net.find(Number(id));
      if (restart === 'restart') this.pairDead = false; // gathered anew: the new pair works
      this.handlers.signal({ type: 'answer', sdp: `fake ${this.id}` });
      this.tryOpen();
    } else if (data.type === 'answer') {
      this.partner = this.net.find(Number(data.sdp.split(' ')[1]));
      this.negotiating = false;
      if (this.restarts > 0) this.pairDead = false;
      this.tryOpen();
      this.partner?.tryOpen();
      this.flush();
      this.partner?.flush();
    }
  }

  private get carries(): boolean {
    const partner = this.partner;
    return partner !== undefined && !partner.closed && this.net.udp && !this.pairDead && !partner.pairDead;
  }

  tryOpen(): void {
    if (this.opened || this.closed || !this.carries || this.partner?.partner !== this) return;
    this.opened = true;
    setTimeout(() => {
      if (!this.closed) this.handlers.open();
    }, 0);
  }

  send(packet: Uint8Array): void {
    if (!this.isOpen) return;
    this.waiting.push(packet.slice());
    this.flush();
  }

  /** Delivers what waited, if the pair carries now (SCTP's retransmission, in effect). */
  flush(): void {
    if (!this.carries || this.waiting.length === 0) return;
    const partner = this.partner as FakeLink;
    for (const packet of this.waiting.splice(0)) setTimeout(() => partner.receive(packet), 0);
  }

  private receive(packet: Uint8Array): void {
    if (!this.closed) this.handlers.data(packet);
  }

  restartIce(): 'new' | 'again' | 'none' {
    if (this.closed) return 'none';
    if (this.negotiating && this.lastOffer !== undefined) {
      this.handlers.signal(this.lastOffer);
      return 'again';
    }
    this.restarts++;
    this.offer(' restart');
    return 'new';
  }

  requestRestart(): void {
    if (!this.closed) this.handlers.signal({ type: 'renegotiate', renegotiate: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.net.closes.push(`${this.initiator ? 'a' : 'b'} closes`);
    const partner = this.partner;
    // A close reaches the peer only over a path that carries.
    if (partner !== undefined && this.net.udp && !this.pairDead) setTimeout(() => partner.remoteClosed(), 0);
  }

  /** As close(), but the partner hears of it only when the returned function runs; `closed` once the partner closed its end. */
  closeLater(closed: () => void): () => void {
    if (this.closed) {
      closed();
      return () => {};
    }
    this.closed = true;
    this.lingering = closed;
    const partner = this.partner;
    return () => {
      this.net.closes.push(`${this.initiator ? 'a' : 'b'} closes, having waited`);
      if (partner !== undefined && this.net.udp && !this.pairDead) setTimeout(() => partner.remoteClosed(), 0);
    };
  }

  /** closeLater()'s `closed`, until the partner's close arrives. */
  private lingering: (() => void) | undefined;

  private remoteClosed(): void {
    this.lingering?.();
    this.lingering = undefined;
    if (this.closed) return;
    this.closed = true;
    this.handlers.close('closed by peer', false);
  }

  openBulk(): void {}
  openDatagrams(): void {}
  whenDrained(): undefined {
    return undefined;
  }
  selectedRoute(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  breakConnection(): boolean {
    return false;
  }
}

interface Side {
  peer: Peer;
  /** Message numbers delivered to this side, in order. */
  got: number[];
  paths: string[];
  closed: string[];
  /** Links this side left for the peer to close. */
  lingering: Lingering;
  links(): FakeLink[];
  send(n: number): Promise<void>;
}

/** Two peers, `a` (the initiator) and `b`, on one Net; each side's tunables may differ. */
function pair(net: Net, options: { restarts?: boolean; relay?: boolean; tunables?: [Partial<Tunables>, Partial<Tunables>] } = {}): [Side, Side] {
  const sides: Side[] = [];
  const peers: Peer[] = [];
  const made: FakeLink[][] = [[], []];
  const trusts = [0, 1].map(() => new Trust({ identity: freshIdentity(), room: 'r' }));
  for (const [i, self, other] of [[0, 'a', 'b'], [1, 'b', 'a']] as const) {
    const links: LinkFactory = (linkOptions: PeerLinkOptions, handlers: PeerLinkHandlers) => {
      const link = new FakeLink(net, linkOptions.initiator, handlers, options.restarts ?? true);
      made[i]?.push(link);
      return link;
    };
    const noop = (): void => {};
    const lingering = new Lingering(LEAVER_CLOSES_MS);
    const context: PeerContext = {
      rtc: {} as PeerContext['rtc'],
      rtcConfig: { iceServers: [] },
      tunables: { ...TUNABLES, ...(options.tunables?.[i] ?? {}) },
      logger: { debug: noop, info: noop, warn: noop, error: noop },
      relayAllowed: options.relay ?? true,
      limiter: new Limiter(4, 2_000),
      lingering,
      signaling: {
        get connected() {
          return net.service;
        },
        signal: ({ sid, data }) => {
          if (net.service) setTimeout(() => peers[1 - i]?.handleSignal({ from: self, sid, data }), 0);
        },
        relay: (_to, sid, frame, done) => {
          if (!net.service) return done(false, 'not connected');
          if (net.refuseRelay > 0) {
            net.refuseRelay--;
            return done(false, 'refused');
          }
          const copy = frame.slice();
          setTimeout(() => peers[1 - i]?.handleRelay(sid, copy), 0);
          done(true, '');
        },
        isPresent: async () => true,
        verify() {},
      },
      localId: self,
      relayFrameBytes: () => 60_000,
      describe: () => `participant ${other}`,
      othersHeardWithin: () => false,
      auth: () => (trusts[i] as Trust).forStream(self, other, () => other),
      links,
    };
    const side: Side = {
      peer: undefined as unknown as Peer,
      got: [],
      paths: [],
      closed: [],
      lingering,
      links: () => made[i] ?? [],
      send: (n) => side.peer.session.send(encodeHeader({ type: 't', message: { n }, broadcast: false }), new Uint8Array(0)),
    };
    side.peer = new Peer(other, self === 'a', context, {
      open() {},
      confirmed() {},
      closed: (reason, detail) => void side.closed.push(`${reason}: ${detail}`),
      path: (kind) => void side.paths.push(kind),
      route() {},
      message: (message) => void side.got.push(Number(message.message['n'])),
      progress() {},
      aborted() {},
      refused() {},
      violation() {},
    });
    peers.push(side.peer);
    sides.push(side);
  }
  return [sides[0] as Side, sides[1] as Side];
}

let live: Side[] = [];
afterEach(() => {
  for (const side of live) side.peer.dispose(new RoomError('CLOSED', 'test over'));
  live = [];
});

/** Sends 1..n from each side, one every 20 ms; resolves when every send has. */
async function traffic(sides: Side[], from: number, to: number): Promise<void> {
  const sends: Array<Promise<void>> = [];
  for (let n = from; n <= to; n++) {
    for (const side of sides) sends.push(side.send(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await Promise.all(sends);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Peer: goodbyes (one end closes a link, never both at once)', () => {
  const leaving = new RoomError('CLOSED', 'the room was closed before the message was delivered');

  it('the other end of a direct link waits, silent, until the leaver closes it', async () => {
    const net = new Net();
    const [a, b] = (live = pair(net));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    a.peer.quiesce(leaving);
    expect(a.peer.bye()).toBe(true);
    await until(() => b.closed.length === 1, 'the goodbye arrives', 2_000);
    expect([b.lingering.size, a.peer.closed, net.closes]).toEqual([1, false, []]); // no answer: a leaver may not wait for one
    a.peer.dispose(leaving); // as closeAll() does after its grace
    await until(() => b.lingering.size === 0, "the leaver's close reaches the other end", 2_000);
    expect(net.closes).toEqual(['a closes']);
    expect(b.closed).toEqual(['bye: said goodbye']);
    await expect(b.send(1)).rejects.toMatchObject({ code: 'PARTICIPANT_LEFT' });
  });

  it('when both leave at once, the initiator closes the link and the other waits for that', async () => {
    const net = new Net();
    const [a, b] = (live = pair(net));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    for (const side of [a, b]) side.peer.quiesce(leaving);
    expect([a.peer.bye(), b.peer.bye()]).toEqual([true, true]);
    await until(() => a.peer.closed && b.peer.closed && b.lingering.size === 0, 'both ends closed', 2_000);
    expect(net.closes).toEqual(['a closes']);
    expect([a.closed, b.closed]).toEqual([[], []]); // a client closing is not told its peers left
  });

  it('a leaver that never closes its end has it closed for it after LEAVER_CLOSES_MS', async () => {
    const net = new Net();
    const [a, b] = (live = pair(net));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    net.setUdp(false); // from now on a's close cannot reach b
    b.peer.dispose(leaving, true); // as when the service says a left
    expect(b.lingering.size).toBe(1);
    await until(() => b.lingering.size === 0, 'the lingering link closed by its own side', LEAVER_CLOSES_MS + 1_000);
    expect(net.closes).toEqual(['b closes, having waited']);
  });
});

describe('Peer: a silent direct link', () => {
  it('is kept while UDP is cut with the relay off, and carries on when UDP is back: no new link, no restart, every message once and in order', async () => {
    const net = new Net();
    const [a, b] = (live = pair(net, { relay: false }));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    await traffic([a, b], 1, 10);
    net.setUdp(false);
    const during = traffic([a, b], 11, 40); // 600 ms of sends while the link is silent
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // past the liveness period (400 ms)
    net.setUdp(true);
    await during;
    expect([a.got, b.got]).toEqual([range(1, 40), range(1, 40)]);
    expect([a.links().length, b.links().length, a.closed, b.closed]).toEqual([1, 1, [], []]);
    // The same link carried on: the path was never anything but direct.
    expect([...new Set([...a.paths, ...b.paths])]).toEqual(['direct']);
  });

  it('whose candidate pair died (an address change) is restarted in place: the same link, one restart, nothing lost', async () => {
    const net = new Net();
    const [a, b] = (live = pair(net, { relay: false }));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    await traffic([a, b], 1, 10);
    const [link] = a.links();
    if (link === undefined) throw new Error('no link');
    link.pairDead = true; // the old pair is gone for good: only new candidates (a restart) mend it
    await traffic([a, b], 11, 60);
    expect([a.got, b.got]).toEqual([range(1, 60), range(1, 60)]);
    expect([a.links().length, b.links().length, link.restarts >= 1, a.closed, b.closed]).toEqual([1, 1, true, [], []]);
  });

  it('a restart the responder asked for while the link still worked here does not make the next silence skip its restart', async () => {
    const net = new Net();
    const [a, b] = (live = pair(net, { relay: false }));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    const [link] = a.links();
    const [theirs] = b.links();
    if (link === undefined || theirs === undefined) throw new Error('no link');
    theirs.requestRestart(); // b went silent on its side (a one-way failure, say): a restarts a link that works for it
    await until(() => link.restarts === 1, 'a restarting on request', 5_000);
    await new Promise((resolve) => setTimeout(resolve, RESTART_TIMEOUT_MS + 200)); // answered, never silent here
    link.pairDead = true;
    await traffic([a, b], 1, 60);
    expect([a.got, b.got]).toEqual([range(1, 60), range(1, 60)]);
    // Restarted again in place, not replaced (a loaded machine may time one restart out and make a third).
    expect([a.links().length, link.restarts >= 2]).toEqual([1, true]);
  });

  it('on a stack that cannot restart ICE, a dead pair is replaced by a new link, and nothing is lost', async () => {
    const net = new Net();
    const [a, b] = (live = pair(net, { relay: false, restarts: false }));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    const [link] = a.links();
    if (link === undefined) throw new Error('no link');
    link.pairDead = true;
    await traffic([a, b], 1, 60);
    expect([a.got, b.got]).toEqual([range(1, 60), range(1, 60)]);
    expect([link.restarts, a.links().length >= 2, a.closed, b.closed]).toEqual([0, true, [], []]);
  });

  it('hands messages to the relay when it dies, even if the relay\'s hello came while the link still carried them', async () => {
    const net = new Net();
    // b notices the silence well after a has started the relay and its hello has reached b.
    const [a, b] = (live = pair(net, { tunables: [{}, { livenessTimeoutMs: 1_500 }] }));
    await until(() => a.paths.includes('direct') && b.paths.includes('direct'), 'both sides on the direct link', 5_000);
    await traffic([a, b], 1, 5);
    net.setUdp(false); // for good: only the relay can carry messages from now on
    await traffic([a, b], 6, 40);
    expect([a.got, b.got]).toEqual([range(1, 40), range(1, 40)]);
    expect([a.paths.at(-1), b.paths.at(-1), a.closed, b.closed]).toEqual(['relayed', 'relayed', [], []]);
  });
});

describe('Peer: a relayed pair', () => {
  it('whose relay stream fails with the service up begins another at once, instead of waiting for a direct attempt whose backoff outlasts connectTimeoutMs', async () => {
    const net = new Net();
    net.udp = false; // no direct link ever opens: the pair lives on the relay, and its direct attempts back off
    const quick: Partial<Tunables> = { directTimeoutMs: 500, relayAfterMs: 100, connectTimeoutMs: 2_000 };
    const [a, b] = (live = pair(net, { tunables: [quick, quick] }));
    await until(() => a.paths.includes('relayed') && b.paths.includes('relayed'), 'both sides on the relay', 5_000);
    // Long enough for three failed direct attempts in a row: the next one is 2 s away, and would
    // time out 0.5 s later, past connectTimeoutMs (2 s) after the relay fails.
    await traffic([a, b], 1, 200);
    net.refuseRelay = 1;
    await traffic([a, b], 201, 260);
    expect([a.got.length, b.got.length, a.got.at(-1), b.got.at(-1)]).toEqual([260, 260, 260, 260]);
    expect([a.closed, b.closed]).toEqual([[], []]);
  });
});

/** What may happen to the pair's network for a while, shorter than connectTimeoutMs. */
type Fault = { kind: 'udp' | 'service'; ms: number } | { kind: 'pair' };

const fault: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('udp' as const), ms: fc.integer({ min: 200, max: 1_500 }) }),
  fc.record({ kind: fc.constant('service' as const), ms: fc.integer({ min: 200, max: 1_500 }) }),
  fc.record({ kind: fc.constant('pair' as const) }),
);

describe('Peer: any faults shorter than connectTimeoutMs (property)', () => {
  it('UDP cuts, service outages and dead candidate pairs, on stacks that restart ICE or not, with the relay or without, either side noticing first: every message arrives once and in order, and neither side gives the other up', async () => {
    await fc.assert(
      // b may notice a silence later than a (its liveness period longer: a slower path measured, say).
      fc.asyncProperty(fc.array(fault, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.boolean(), fc.integer({ min: 400, max: 1_500 }), async (faults, restarts, relay, bLiveness) => {
        const net = new Net();
        const [a, b] = (live = pair(net, { restarts, relay, tunables: [{}, { livenessTimeoutMs: bLiveness }] }));
        try {
          await until(() => a.paths.length > 0 && b.paths.length > 0, 'both sides on a path', 5_000);
          let sent = 0;
          for (const f of faults) {
            const sends = traffic([a, b], sent + 1, sent + 15); // 300 ms of sends from each side, beginning with the fault
            sent += 15;
            if (f.kind === 'pair') {
              const link = a.links().at(-1);
              if (link !== undefined) link.pairDead = true; // for good: only a restart or a new link mends it
            } else if (f.kind === 'udp') {
              net.setUdp(false);
              await new Promise((resolve) => setTimeout(resolve, f.ms));
              net.setUdp(true);
            } else {
              // Both service connections drop (the Peers are told, as the mesh tells them), then resume.
              net.service = false;
              for (const side of [a, b]) side.peer.signalingLost();
              await new Promise((resolve) => setTimeout(resolve, f.ms));
              net.service = true;
              for (const side of [a, b]) side.peer.markBack();
            }
            await sends;
          }
          expect([a.got, b.got]).toEqual([range(1, sent), range(1, sent)]);
          expect([a.closed, b.closed]).toEqual([[], []]);
        } finally {
          for (const side of [a, b]) side.peer.dispose(new RoomError('CLOSED', 'run over'));
          live = [];
        }
      }),
      { numRuns: Number(process.env['PROPERTY_RUNS'] ?? 16), seed: Number(process.env['PROPERTY_SEED'] ?? 20261207), endOnFailure: true },
    );
  }, 180_000);
});
