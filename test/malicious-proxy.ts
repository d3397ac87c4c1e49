/**
 * A signaling service that lies, for the tests of stream bindings: a Socket.IO server on port 0
 * that clients take for the service, forwarding every event (with its acknowledgement) to the
 * real one and back, as a compromised service or whoever holds its TLS key could. It records
 * every relayed frame (the passive attacker), and with `swapRelayKeys` it puts itself inside
 * every relay stream: its own ECDH key towards each side, each sealed frame opened and sealed
 * again for the other side (the active attacker of the "swap relay keys"). With
 * `dtlsMitm` it answers every offer itself and stands inside every direct link
 * (test/dtls-mitm.ts), withholding the bindings too if asked.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { decodeRelayFrame, RelaySeal } from '../client/peer/relay-crypto.js';
import type { SignalRequest } from '../protocol/signaling.js';
import { DtlsMitm } from './dtls-mitm.js';

export interface MaliciousProxy {
  readonly url: string;
  /** Every relayed frame the service carried, as it passed. */
  readonly frames: Uint8Array[];
  /** Packets it opened inside relay streams while standing in between (swapRelayKeys). */
  readonly opened: Uint8Array[];
  /** Inside direct links (dtlsMitm): what it piped, and how many packets with a binding it dropped. */
  readonly mitm: DtlsMitm | undefined;
  close(): Promise<void>;
}

interface RelayDelivery {
  from: string;
  sid: string;
  data: Uint8Array;
}

/** Per relay stream, the proxy's seal facing each participant (playing that participant's peer). */
type Facing = Map<string, Promise<RelaySeal>>;

export async function startMaliciousProxy(target: string, options: { swapRelayKeys?: boolean; dtlsMitm?: { dropAuth?: boolean } } = {}): Promise<MaliciousProxy> {
  const mitm = options.dtlsMitm === undefined ? undefined : new DtlsMitm(options.dtlsMitm);
  const http = createServer();
  const server = new Server(http, { maxHttpBufferSize: 1e8 });
  const frames: Uint8Array[] = [];
  const opened: Uint8Array[] = [];
  const streams = new Map<string, Facing>();
  const facing = (sid: string, participant: string): Promise<RelaySeal> => {
    const stream = streams.get(sid) ?? new Map<string, Promise<RelaySeal>>();
    streams.set(sid, stream);
    const seal = stream.get(participant) ?? RelaySeal.create();
    stream.set(participant, seal);
    return seal;
  };

  /** What the service delivers to `to` in place of `delivery`, standing inside the stream; undefined to drop it. */
  async function tamper(to: string, delivery: RelayDelivery): Promise<RelayDelivery | undefined> {
    const data = new Uint8Array(delivery.data);
    frames.push(data);
    if (options.swapRelayKeys !== true) return delivery;
    const frame = decodeRelayFrame(data);
    const towardsSender = await facing(delivery.sid, delivery.from);
    const towardsRecipient = await facing(delivery.sid, to);
    if (frame.kind === 'key') {
      // The sender's key stays with us; the recipient gets ours, as if the sender's.
      await towardsSender.agree(frame.publicKey, delivery.sid, to, delivery.from);
      return { ...delivery, data: towardsRecipient.keyFrame };
    }
    if (frame.kind !== 'sealed') return delivery;
    const packet = await towardsSender.open(frame.counter, frame.sealed);
    if (typeof packet === 'string' || !towardsRecipient.ready) return undefined;
    opened.push(packet);
    return { ...delivery, data: await towardsRecipient.seal(packet) };
  }

  server.on('connection', (socket) => {
    const upstream = connect(target, { transports: ['websocket'], auth: socket.handshake.auth, reconnection: false, forceNew: true });
    let participant = '';
    let chain = Promise.resolve();
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (...reply: unknown[]) => void) : undefined;
      if (ack === undefined) {
        if (event === 'signal' && mitm?.fromClient(participant, args[0] as SignalRequest) === true) return;
        return void upstream.emit(event, ...args);
      }
      upstream.emit(event, ...args, (...reply: unknown[]) => {
        const id = (reply[0] as { participant?: { id?: unknown } } | undefined)?.participant?.id;
        if (event === 'join' && typeof id === 'string') {
          participant = id;
          mitm?.attach(id, { toClient: (envelope) => socket.emit('signal', envelope), toService: (request) => upstream.emit('signal', request) });
        }
        ack(...reply);
      });
    });
    upstream.onAny((event: string, ...args: unknown[]) => {
      // Deliveries keep their order: each waits for the one before (tampering is asynchronous).
      chain = chain.then(async () => {
        if (event !== 'relay') return void socket.emit(event, ...args);
        const delivery = await tamper(participant, args[0] as RelayDelivery);
        if (delivery !== undefined) socket.emit(event, delivery);
      });
    });
    socket.on('disconnect', () => upstream.disconnect());
    upstream.on('disconnect', () => socket.disconnect(true));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    frames,
    opened,
    mitm,
    close: async () => {
      mitm?.close();
      await server.close();
    },
  };
}
