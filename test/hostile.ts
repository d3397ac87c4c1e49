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
import { ask, rawClient, withTimeout } from './helpers.js';

const opened: SimplePeer.Instance[] = [];
afterEach(() => {
  for (const peer of opened.splice(0)) peer.destroy();
});

/** The hello an honest stream opens with, claiming `limits`. */
export const helloPacket = (limits = { maxJsonBytes: 1 << 20, maxAttachmentBytes: 1 << 26 }, epoch = 'hostile'): Uint8Array =>
  encodePacket([{ kind: 'hello', hello: { limits, epoch, peerEpoch: '', delivered: [0, 0], base: [0, 0] } }]);

export interface HostileLink {
  peer: SimplePeer.Instance;
  sid: string;
  /** Every record the victim sent on this link. */
  records: WireRecord[];
}

export class Hostile {
  /** Every signal received, in order. */
  readonly signals: SignalEnvelope[] = [];

  private constructor(
    readonly socket: Socket,
    readonly id: string,
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
      if ((order.below === undefined || id < order.below) && (order.above === undefined || id > order.above)) return new Hostile(socket, id);
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
    const links = new Map<string, SimplePeer.Instance>();
    this.socket.on('signal', (envelope: SignalEnvelope) => {
      if (envelope.from !== victimId) return;
      let peer = links.get(envelope.sid);
      if (peer === undefined) {
        if (envelope.data.type !== 'offer') return;
        const link = this.link(victimId, envelope.sid, false);
        peer = link.peer;
        links.set(envelope.sid, peer);
        peer.once('connect', () => onLink(link));
      }
      if (!peer.destroyed) peer.signal(envelope.data as SimplePeer.SignalData);
    });
  }

  /** Offers a real link to `victimId` and resolves when it is open. */
  async offer(victimId: string, sid = `hostile-${Math.random().toString(16).slice(2)}`): Promise<HostileLink> {
    const link = this.link(victimId, sid, true);
    this.socket.on('signal', (envelope: SignalEnvelope) => {
      if (envelope.from === victimId && envelope.sid === sid && !link.peer.destroyed) link.peer.signal(envelope.data as SimplePeer.SignalData);
    });
    await withTimeout(new Promise<void>((resolve) => link.peer.once('connect', () => resolve())), 10_000, 'hostile link to open');
    return link;
  }

  private link(victimId: string, sid: string, initiator: boolean): HostileLink {
    const peer = new SimplePeer({ initiator, wrtc: wrtc as SimplePeer.Options['wrtc'], config: { iceServers: [] } });
    opened.push(peer);
    peer.on('error', () => {}); // the victim closing the link is what these tests provoke
    peer.on('signal', (data) => this.signal(victimId, sid, data));
    const records: WireRecord[] = [];
    peer.on('data', (bytes: Uint8Array) => {
      const decoded = decodePacket(bytes);
      if (decoded.ok) records.push(...decoded.records);
    });
    return { peer, sid, records };
  }
}

/** One complete offer (every candidate in the SDP) from a throwaway peer: replayable under fresh session ids. */
export async function recordedOffer(): Promise<SimplePeer.SignalData> {
  const peer = new SimplePeer({ initiator: true, trickle: false, wrtc: wrtc as SimplePeer.Options['wrtc'], config: { iceServers: [] } });
  opened.push(peer);
  return withTimeout(new Promise<SimplePeer.SignalData>((resolve) => peer.once('signal', resolve)), 10_000, 'a recorded offer');
}
