/**
 * A relay path to a peer: one sealed relay stream through the service (RelayTransport), the
 * stream on it once the keys are agreed, and the peer's hello on it. This module makes one and
 * wires the transport's events to the Peer's (each only while the path is the Peer's current
 * relay); what to do about them is the Peer's (peer.ts).
 */
import type { Hello } from '../wire/codec.js';
import type { PeerChannel } from './channel.js';
import type { PeerContext } from './peer-context.js';
import { RelayTransport } from './relay-transport.js';

export interface RelayPath {
  sid: string;
  transport: RelayTransport;
  /** Its stream, once the keys are agreed. */
  channel: PeerChannel | undefined;
  /** The peer's hello came on it. */
  ready: boolean;
  /** That hello: kept to make it the stream messages take, if it came while a direct link still carried them. */
  hello: Hello | undefined;
}

/** What the path tells its Peer; none of it once the path is no longer the Peer's current relay. */
export interface RelayPathEvents {
  current(path: RelayPath): boolean;
  /** The keys are agreed: its stream starts. */
  opened(path: RelayPath): void;
  /** The service refused a frame, or the stream cannot be sealed: it is over. */
  lost(path: RelayPath, detail: string): void;
  /** A frame that is not what an honest peer sends (dropped). */
  violation(reason: string): void;
}

export interface RelayPathOptions {
  to: string;
  sid: string;
  context: Pick<PeerContext, 'signaling' | 'localId' | 'relayFrameBytes'>;
}

export function openRelayPath(options: RelayPathOptions, events: RelayPathEvents): RelayPath {
  const { to, sid, context } = options;
  let path: RelayPath | undefined;
  const isCurrent = (): boolean => path !== undefined && events.current(path);
  const transport = new RelayTransport(
    { sender: context.signaling, to, sid, localId: context.localId, maxFrameBytes: context.relayFrameBytes() },
    {
      open: () => {
        if (path !== undefined && isCurrent()) events.opened(path);
      },
      packet: (packet) => {
        if (isCurrent()) path?.channel?.receive(packet);
      },
      failed: (reason) => {
        if (path !== undefined && isCurrent()) events.lost(path, `the service refused to relay, or the stream could not be sealed: ${reason}`);
      },
      violation: (reason) => events.violation(reason),
    },
  );
  path = { sid, transport, channel: undefined, ready: false, hello: undefined };
  return path;
}

/** Ends it: its transport and its stream. */
export function closeRelayPath(path: RelayPath): void {
  path.transport.close();
  path.channel?.close();
}
