/**
 * A hostile participant for attack tests: it speaks the signaling protocol by hand (a raw
 * socket.io-client) and opens real data channels with simple-peer over @roamhq/wrtc, then
 * sends whatever the test wants on them. Everything it opens is closed after the test.
 */
import wrtc from '@roamhq/wrtc';
import SimplePeer from 'simple-peer';
import type { Socket } from 'socket.io-client';
import { afterEach } from 'vitest';
import { decodePacket, encodePacket, type WireRecord } from '../client/wire/codec.js';
import { PROTOCOL_VERSION, type SignalEnvelope } from '../protocol/signaling.js';
import { ask, rawClient, until, withTimeout } from './helpers.js';
import { sdpFingerprints } from '../client/peer/link.js';
import { freshIdentity } from '../client/trust/identity.js';
import { Trust, type StreamAuth } from '../client/trust/trust.js';

const opened: SimplePeer.Instance[] = [];
afterEach(() => {
  for (const peer of opened.splice(0)) peer.destroy();
});

/**
 * A hostile participant's side of a stream's binding (client/trust): it is a participant the
 * service admitted, with a key of its own, so it proves its streams like an honest one, and
 * whatever it sends after is taken (and judged) as a participant's.
 */
export class HostileStream {
  private readonly auth: StreamAuth;
  private readonly fingerprints: { local?: string | undefined; remote?: string | undefined } = {};

  constructor(room: string, hostileId: string, victimId: string, identity = freshIdentity()) {
    this.auth = new Trust({ identity, room }).forStream(hostileId, victimId, () => undefined);
  }

  /** A description sent (`local`) or taken (`remote`): its DTLS fingerprints are the binding. */
  note(side: 'local' | 'remote', data: { type?: string; sdp?: string }): void {
    if (data.type === 'offer' || data.type === 'answer') this.fingerprints[side] ??= sdpFingerprints(data.sdp);
  }

  /** The stream's hello, claiming `limits`, with this side's nonce and key. */
  hello(limits = { maxJsonBytes: 1 << 20, maxAttachmentBytes: 1 << 26 }): Uint8Array {
    return encodePacket([{ kind: 'hello', hello: { limits, epoch: 'hostile', peerEpoch: '', delivered: [0, 0], base: [0, 0], ...this.auth.hello() } }]);
  }

  /** Sends the hello, waits for the victim's (in `records`), and sends the proof: what follows is taken once the victim checked it. */
  async open(send: (packet: Uint8Array) => void, records: WireRecord[]): Promise<void> {
    send(this.hello());
    await until(() => records.some((r) => r.kind === 'hello'), "the victim's hello");
    const hello = records.find((r) => r.kind === 'hello');
    const { local, remote } = this.fingerprints;
    if (hello?.kind !== 'hello' || local === undefined || remote === undefined) throw new Error('no hello or no fingerprints to bind');
    const proof = this.auth.answer(hello.hello, { kind: 'dtls', local, remote });
    if (typeof proof === 'string') throw new Error(proof);
    send(encodePacket([{ kind: 'auth', body: proof }]));
  }
}

export interface HostileLink {
  peer: SimplePeer.Instance;
  sid: string;
  /** Every record the victim sent on this link. */
  records: WireRecord[];
  /** Its binding: `await link.stream.open(...)` before anything the victim should take. */
  stream: HostileStream;
}

export class Hostile {
  /** Every signal received, in order. */
  readonly signals: SignalEnvelope[] = [];
  /** One identity key for all its streams: a participant's key may not change. */
  private readonly identity = freshIdentity();

  private constructor(
    readonly socket: Socket,
    readonly id: string,
    readonly room: string,
  ) {
    socket.on('signal', (envelope: SignalEnvelope) => this.signals.push(envelope));
  }

  /**
   * Joins `room` as `name`, over and over on fresh connections if need be, until its id sorts
   * `below` or `above` the given id (of a pair, the lower id offers).
   */
  static async join(url: string, room: string, name: string, order: { below?: string; above?: string } = {}, options: Parameters<typeof rawClient>[1] = {}): Promise<Hostile> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const socket = await rawClient(url, options);
      const reply = await ask(socket, 'join', { v: PROTOCOL_VERSION, room, name });
      const id = reply.participant?.id;
      if (id === undefined) throw new Error(`hostile join refused: ${JSON.stringify(reply.error)}`);
      if ((order.below === undefined || id < order.below) && (order.above === undefined || id > order.above)) return new Hostile(socket, id, room);
      socket.disconnect();
    }
    throw new Error('no id in the wanted order after 200 joins');
  }

  enable(): ReturnType<typeof ask> {
    return ask(this.socket, 'messaging:enable');
  }

  signal(to: string, sid: string, data: SimplePeer.SignalData): void {
    this.socket.emit('signal', { to, sid, data });
  }

  /** Answers every offer `victimId` makes with a real link; `onLink` runs as each opens. */
  answerOffers(victimId: string, onLink: (link: HostileLink) => void): void {
    const links = new Map<string, HostileLink>();
    this.socket.on('signal', (envelope: SignalEnvelope) => {
      if (envelope.from !== victimId) return;
      let link = links.get(envelope.sid);
      if (link === undefined) {
        if (envelope.data.type !== 'offer') return;
        const made = this.link(victimId, envelope.sid, false);
        link = made;
        links.set(envelope.sid, made);
        made.peer.once('connect', () => onLink(made));
      }
      if (!link.peer.destroyed) {
        link.stream.note('remote', envelope.data);
        link.peer.signal(envelope.data as SimplePeer.SignalData);
      }
    });
  }

  /** Offers a real link to `victimId` and resolves when it is open. */
  async offer(victimId: string, sid = `hostile-${Math.random().toString(16).slice(2)}`): Promise<HostileLink> {
    const link = this.link(victimId, sid, true);
    this.socket.on('signal', (envelope: SignalEnvelope) => {
      if (envelope.from !== victimId || envelope.sid !== sid || link.peer.destroyed) return;
      link.stream.note('remote', envelope.data);
      link.peer.signal(envelope.data as SimplePeer.SignalData);
    });
    await withTimeout(new Promise<void>((resolve) => link.peer.once('connect', () => resolve())), 10_000, 'hostile link to open');
    return link;
  }

  private link(victimId: string, sid: string, initiator: boolean): HostileLink {
    const peer = new SimplePeer({ initiator, wrtc: wrtc as SimplePeer.Options['wrtc'], config: { iceServers: [] } });
    opened.push(peer);
    peer.on('error', () => {}); // the victim closing the link is what these tests provoke
    const stream = new HostileStream(this.room, this.id, victimId, this.identity);
    peer.on('signal', (data) => {
      stream.note('local', data as { type?: string; sdp?: string });
      this.signal(victimId, sid, data);
    });
    const records: WireRecord[] = [];
    peer.on('data', (bytes: Uint8Array) => {
      const decoded = decodePacket(bytes);
      if (decoded.ok) records.push(...decoded.records);
    });
    return { peer, sid, records, stream };
  }
}

/** One complete offer (every candidate in the SDP) from a throwaway peer: replayable under fresh session ids. */
export async function recordedOffer(): Promise<SimplePeer.SignalData> {
  const peer = new SimplePeer({ initiator: true, trickle: false, wrtc: wrtc as SimplePeer.Options['wrtc'], config: { iceServers: [] } });
  opened.push(peer);
  return withTimeout(new Promise<SimplePeer.SignalData>((resolve) => peer.once('signal', resolve)), 10_000, 'a recorded offer');
}
