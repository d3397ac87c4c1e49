/**
 * A service that answers each side's offer itself (test/malicious-proxy.ts's `dtlsMitm`): for
 * every link one participant offers another, it keeps the offer, answers it with a peer
 * connection of its own (its own DTLS certificate), offers the other participant from a second
 * one in the offerer's name, and pipes every data channel across, as a service that carries the
 * descriptions could. Each side then holds a DTLS session with the proxy, and nothing at the DTLS
 * layer tells them: only the stream binding can. `dropAuth` also drops every packet holding an
 * auth record (the binding withheld: the packet's other records, a hello say, pass).
 */
import wrtc from '@roamhq/wrtc';
import { decodePacket, encodePacket, type OutgoingRecord } from '../client/wire/codec.js';
import type { SignalData, SignalEnvelope, SignalRequest } from '../protocol/signaling.js';

/** How the proxy reaches one participant: its own socket, and its connection to the real service. */
export interface MitmEnds {
  toClient(envelope: SignalEnvelope): void;
  toService(request: SignalRequest): void;
}

type Candidate = Extract<SignalData, { type: 'candidate' }>['candidate'];

interface Session {
  /** Faces the offerer, playing the answerer. */
  towardsOfferer: RTCPeerConnection;
  /** Faces the answerer, playing the offerer. */
  towardsAnswerer: RTCPeerConnection;
  offerer: string;
  answerer: string;
  /** Each connection's work in order (descriptions before candidates). */
  chain: Promise<void>;
}

export class DtlsMitm {
  /** Every packet piped between the two sides, as it passed. */
  readonly piped: Uint8Array[] = [];
  /** Packets dropped because they held an auth record (`dropAuth`). */
  droppedAuth = 0;
  private readonly ends = new Map<string, MitmEnds>();
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: { dropAuth?: boolean } = {}) {}

  attach(participant: string, ends: MitmEnds): void {
    this.ends.set(participant, ends);
  }

  /** A signal a participant sent: true if the proxy took it (the service never sees it). */
  fromClient(from: string, request: SignalRequest): boolean {
    const { data, sid, to } = request;
    if (data.type === 'refuse') return false; // not about the connection: carried as it is
    const session = this.sessions.get(sid);
    if (data.type === 'offer') {
      if (session === undefined) this.begin(from, to, sid, data.sdp);
      return true; // a later offer (an ICE restart) is swallowed: the session stays as it is
    }
    if (session === undefined) return data.type !== 'renegotiate';
    if (data.type === 'answer') {
      this.step(session, () => session.towardsAnswerer.setRemoteDescription({ type: 'answer', sdp: data.sdp }));
    } else if (data.type === 'candidate' && data.candidate.candidate !== '') {
      const pc = from === session.offerer ? session.towardsOfferer : session.towardsAnswerer;
      const { candidate, sdpMLineIndex, sdpMid } = data.candidate;
      this.step(session, () => pc.addIceCandidate(new wrtc.RTCIceCandidate({ candidate, sdpMLineIndex: sdpMLineIndex ?? null, sdpMid: sdpMid ?? null })));
    }
    return true;
  }

  close(): void {
    for (const session of this.sessions.values()) {
      session.towardsOfferer.close();
      session.towardsAnswerer.close();
    }
    this.sessions.clear();
  }

  private begin(offerer: string, answerer: string, sid: string, offer: string): void {
    const config = { iceServers: [] };
    const session: Session = { towardsOfferer: new wrtc.RTCPeerConnection(config), towardsAnswerer: new wrtc.RTCPeerConnection(config), offerer, answerer, chain: Promise.resolve() };
    this.sessions.set(sid, session);
    const candidate = (c: RTCIceCandidate): Candidate => ({ candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex, sdpMid: c.sdpMid });
    session.towardsOfferer.onicecandidate = ({ candidate: c }) => {
      if (c !== null) this.ends.get(offerer)?.toClient({ from: answerer, sid, data: { type: 'candidate', candidate: candidate(c) } });
    };
    session.towardsAnswerer.onicecandidate = ({ candidate: c }) => {
      if (c !== null) this.ends.get(offerer)?.toService({ to: answerer, sid, data: { type: 'candidate', candidate: candidate(c) } });
    };
    // Every channel the offerer opens (simple-peer's, then bulk and datagrams) is opened alike
    // towards the answerer, and piped. The first (simple-peer's) goes into the offer made in the
    // offerer's name: the answerer takes the first channel it is offered as the link's own.
    let offered = false;
    session.towardsOfferer.ondatachannel = ({ channel }) => {
      const init: RTCDataChannelInit = { ordered: channel.ordered, ...(channel.maxRetransmits === null ? {} : { maxRetransmits: channel.maxRetransmits }) };
      this.pipe(channel, session.towardsAnswerer.createDataChannel(channel.label, init));
      if (offered) return;
      offered = true;
      this.step(session, async () => {
        const ours = await session.towardsAnswerer.createOffer();
        await session.towardsAnswerer.setLocalDescription(ours);
        this.ends.get(offerer)?.toService({ to: answerer, sid, data: { type: 'offer', sdp: ours.sdp ?? '' } });
      });
    };
    this.step(session, async () => {
      const { towardsOfferer } = session;
      await towardsOfferer.setRemoteDescription({ type: 'offer', sdp: offer });
      const answer = await towardsOfferer.createAnswer();
      await towardsOfferer.setLocalDescription(answer);
      this.ends.get(offerer)?.toClient({ from: answerer, sid, data: { type: 'answer', sdp: answer.sdp ?? '' } });
    });
  }

  /** Carries messages both ways between two channels, holding them until the far one opens. */
  private pipe(a: RTCDataChannel, b: RTCDataChannel): void {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      from.binaryType = 'arraybuffer';
      const held: ArrayBuffer[] = [];
      to.addEventListener('open', () => {
        for (const data of held.splice(0)) to.send(data);
      });
      from.onmessage = ({ data }: MessageEvent<ArrayBuffer | string>) => {
        if (typeof data === 'string') return;
        const bytes = new Uint8Array(data);
        this.piped.push(bytes.slice());
        const out = this.options.dropAuth === true ? this.withoutAuth(bytes) : data;
        if (out === undefined) return;
        if (to.readyState === 'open') to.send(out);
        else if (to.readyState === 'connecting') held.push(out);
      };
    }
  }

  /** The packet with any auth record taken out (the rest, a hello say, passes); undefined if nothing is left. */
  private withoutAuth(bytes: Uint8Array): ArrayBuffer | undefined {
    const decoded = decodePacket(bytes);
    if (!decoded.ok || !decoded.records.some((record) => record.kind === 'auth')) return bytes.slice().buffer;
    this.droppedAuth++;
    const rest = decoded.records.filter((record) => record.kind !== 'auth');
    return rest.length === 0 ? undefined : encodePacket(rest as OutgoingRecord[]).slice().buffer;
  }

  private step(session: Session, work: () => Promise<void>): void {
    session.chain = session.chain.then(work).catch(() => undefined);
  }
}
