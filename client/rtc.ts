/**
 * The WebRTC stack a client links with: the browser's own; in Node, the one named, or else
 * whichever is installed (@roamhq/wrtc first, then node-datachannel: both are optional peer
 * dependencies); or any injected implementation.
 * Every stack that is not the browser's runs behind one adapter that fits it to what
 * simple-peer expects and keeps simple-peer off the calls that hurt.
 */
import { RoomError } from '../protocol/errors.js';
import type { RtcImplementation, RtcStackName } from './options.js';

export type RtcChoice = RtcImplementation | RtcStackName;

type Loaded = { default?: RtcImplementation } & Partial<RtcImplementation>;

/** The command that installs a Node stack, for errors that say what to do. */
const INSTALL: Record<RtcStackName, string> = {
  '@roamhq/wrtc': 'npm install @roamhq/wrtc',
  'node-datachannel': 'npm install node-datachannel',
};

const isMissing = (cause: unknown, name: RtcStackName): boolean => {
  const error = cause as { code?: unknown; message?: unknown };
  return error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(`'${name}`);
};

/** Loads a Node stack by name; undefined when it is not installed (any other failure is thrown). */
async function load(name: RtcStackName): Promise<RtcImplementation | undefined> {
  let module: Loaded;
  try {
    module = (name === 'node-datachannel' ? await import('node-datachannel/polyfill') : await import('@roamhq/wrtc')) as Loaded;
  } catch (cause) {
    if (isMissing(cause, name)) return undefined;
    throw new RoomError('RTC_UNAVAILABLE', `the WebRTC stack ${name} is installed but could not be loaded (reinstall it: \`${INSTALL[name]}\`): ${(cause as Error).message}`, { cause });
  }
  const rtc = module.default ?? module;
  if (typeof rtc.RTCPeerConnection !== 'function') throw new RoomError('RTC_UNAVAILABLE', `the WebRTC stack ${name} has no RTCPeerConnection`);
  return name === 'node-datachannel' ? { ...(rtc as RtcImplementation), RTCPeerConnection: fitNodeDatachannel(rtc.RTCPeerConnection) } : (rtc as RtcImplementation);
}

type IceServerInit = { urls?: unknown; username?: unknown; credential?: unknown };

/**
 * Fits node-datachannel's polyfill where it departs from the standard:
 * - it writes a TURN server's credentials into a URL (`turn:user:password@host`), which
 *   libdatachannel parses and percent-decodes. Time-limited credentials (`expiry:label` and a
 *   base64 HMAC) contain `:`, `/`, `+` and `=`: unencoded, the URL does not parse and TURN is
 *   silently never used. Encoding them makes them arrive intact;
 * - its stats give the round trip in milliseconds where the standard says seconds.
 */
export function fitNodeDatachannel(Native: RtcImplementation['RTCPeerConnection']): RtcImplementation['RTCPeerConnection'] {
  const Connection = Native as unknown as new (config?: { iceServers?: IceServerInit[] }) => { getStats(): Promise<Map<string, Record<string, unknown>>> };
  const encode = (value: unknown): unknown => (typeof value === 'string' ? encodeURIComponent(value) : value);
  return new Proxy(Connection, {
    construct(target, [config]: [{ iceServers?: IceServerInit[] } | undefined]) {
      const iceServers = config?.iceServers?.map((server) => ({ ...server, username: encode(server.username), credential: encode(server.credential) }));
      const connection = new target(config === undefined ? undefined : { ...config, ...(iceServers === undefined ? {} : { iceServers }) });
      const getStats = connection.getStats.bind(connection);
      connection.getStats = async () => {
        const report = await getStats();
        for (const entry of report.values()) {
          for (const key of ['currentRoundTripTime', 'totalRoundTripTime']) if (typeof entry[key] === 'number') entry[key] = (entry[key] as number) / 1000;
        }
        return report;
      };
      return connection;
    },
  }) as unknown as RtcImplementation['RTCPeerConnection'];
}

/** A stack the user named: it must be installed. */
async function named(name: RtcStackName): Promise<RtcImplementation> {
  const rtc = await load(name);
  if (rtc === undefined) throw new RoomError('RTC_UNAVAILABLE', `option \`rtc\`: the WebRTC stack ${name} is not installed: run \`${INSTALL[name]}\``);
  return rtc;
}

/** No stack named, in Node: @roamhq/wrtc if it is installed, else node-datachannel. */
async function installed(): Promise<{ name: RtcStackName; rtc: RtcImplementation }> {
  for (const name of ['@roamhq/wrtc', 'node-datachannel'] as const) {
    const rtc = await load(name);
    if (rtc !== undefined) return { name, rtc };
  }
  throw new RoomError(
    'RTC_UNAVAILABLE',
    `no WebRTC stack for Node is installed: run \`${INSTALL['@roamhq/wrtc']}\` (or \`${INSTALL['node-datachannel']}\`), or pass one as the \`rtc\` option`,
  );
}

/** The browser's own stack, when there is one. */
function browserStack(): RtcImplementation | undefined {
  const g = globalThis as Partial<RtcImplementation>;
  if (typeof g.RTCPeerConnection !== 'function') return undefined;
  return { RTCPeerConnection: g.RTCPeerConnection, RTCSessionDescription: g.RTCSessionDescription, RTCIceCandidate: g.RTCIceCandidate };
}

/**
 * Stacks on libwebrtc: the browser's own, and @roamhq/wrtc. Not node-datachannel, nor a stack
 * the user passes in (unknown: the conservative choice). Only these:
 * - take a bulk channel besides simple-peer's: libwebrtc interleaves an association's streams
 *   (bench:behind-bulk, 2026-12-07: small messages beside a 64 MiB attachment, p99 41 ms with it
 *   against 55 without), where libdatachannel's usrsctp sends them first in, first out, so a small
 *   message on a second channel waited behind the bulk one's queue, longer than behind one
 *   channel's buffer (p99 353 ms against 75 ms);
 * - restart ICE on a live connection (an offer with `iceRestart`): libdatachannel keeps its ICE
 *   credentials (its renegotiated offer carries the same ufrag, and `restartIce()` throws "Not
 *   implemented").
 */
const LIBWEBRTC = new WeakSet<object>();

/** Whether links on `rtc` take a data channel for bulk messages besides simple-peer's. */
export const takesBulkChannel = (rtc: RtcImplementation): boolean => LIBWEBRTC.has(rtc);

/**
 * node-datachannel as resolved here. It takes the two datagram channels, though not the bulk
 * one: its first-in-first-out sending holds a cursor behind the attachment's buffered bytes on
 * either channel alike (bench:cursors, 2026-12-07, p99 96-145 ms with the datagram channels or
 * without), but under 5 % loss a cursor on a channel without retransmission does not wait for
 * the ordered channel's (p99 32-33 ms with them, 65-97 without).
 */
const NODE_DATACHANNEL = new WeakSet<object>();

/** Whether links on `rtc` take the two datagram channels besides simple-peer's. */
export const takesDatagramChannels = (rtc: RtcImplementation): boolean => LIBWEBRTC.has(rtc) || NODE_DATACHANNEL.has(rtc);

/** @roamhq/wrtc as resolved here (also in LIBWEBRTC). */
const ROAMHQ_WRTC = new WeakSet<object>();

/**
 * Whether a link's heartbeat on `rtc` may tick with the process's others (client/peer/ticker.ts).
 * Not on @roamhq/wrtc: it gains nothing there (its idle cost is its own threads), and with every
 * link's ping sent in one burst its workers crashed natively in two CI runs of two (a vitest
 * worker gone while many links closed), against none before.
 */
export const sharesTicks = (rtc: RtcImplementation): boolean => !ROAMHQ_WRTC.has(rtc);

/** Whether links on `rtc` can restart ICE in place. */
export const restartsIce = (rtc: RtcImplementation): boolean => LIBWEBRTC.has(rtc);

/** Resolves the `rtc` option to a stack simple-peer can drive (adapted unless it is the browser's own). */
export async function resolveRtc(choice: RtcChoice | undefined): Promise<RtcImplementation> {
  if (typeof choice === 'string') return known(adaptStack(await named(choice)), choice);
  if (choice !== undefined) return adaptStack(choice);
  const browser = browserStack();
  if (browser === undefined) {
    const stack = await installed();
    return known(adaptStack(stack.rtc), stack.name);
  }
  return known(browser, 'browser');
}

/** Notes which stack `rtc` is, for what its links take (the sets above). */
const known = (rtc: RtcImplementation, name: RtcStackName | 'browser'): RtcImplementation => {
  if (name === 'browser' || name === '@roamhq/wrtc') LIBWEBRTC.add(rtc);
  if (name === '@roamhq/wrtc') ROAMHQ_WRTC.add(rtc);
  else if (name === 'node-datachannel') NODE_DATACHANNEL.add(rtc);
  return rtc;
};

type Init = { type?: unknown; sdp?: unknown };
type CandidateInit = { candidate?: unknown; sdpMid?: unknown; sdpMLineIndex?: unknown };
interface NativeConnection {
  createOffer(options?: unknown): Promise<Init>;
  createAnswer(options?: unknown): Promise<Init>;
  setRemoteDescription(description: Init): Promise<void>;
  addIceCandidate(candidate: CandidateInit): Promise<void>;
  getStats(): Promise<unknown>;
  close(): void;
}

const plainDescription = (d: Init | null | undefined): Init => ({ type: d?.type, sdp: d?.sdp });
/** Fields that are null are left out: node-datachannel sends `sdpMLineIndex: null`, which @roamhq/wrtc rejects ("Expected a 32-bit integer"). */
function plainCandidate(c: CandidateInit | null | undefined): CandidateInit {
  const init: CandidateInit = { candidate: c?.candidate };
  if (c?.sdpMid != null) init.sdpMid = c.sdpMid;
  if (c?.sdpMLineIndex != null) init.sdpMLineIndex = c.sdpMLineIndex;
  return init;
}

/**
 * As the answerer, take DTLS's passive (server) role. The answerer learns the offerer's
 * candidates with the offer, so its ICE connects first; as the DTLS client it then sends its
 * ClientHello before the offerer is ready, and libdatachannel loses it and waits out DTLS's
 * 1 s retransmission timer, so some node-datachannel pairs took a second to open instead of a
 * few milliseconds (docs/stacks.md). Reading the offer's `actpass` as `active` makes the offerer the client, once it has
 * the answer. Both roles stay valid: the offerer offered either.
 */
function takePassiveRole(description: Init): Init {
  if (description.type !== 'offer' || typeof description.sdp !== 'string') return description;
  return { type: description.type, sdp: description.sdp.replace(/^a=setup:actpass\r?$/gm, (line) => line.replace('actpass', 'active')) };
}

/**
 * Fits a non-browser stack to simple-peer, for every connection it makes:
 *
 * - **Descriptions are never read back.** @roamhq/wrtc serializes a description on the
 *   JavaScript thread whenever `localDescription` or `remoteDescription` is read, while its
 *   signaling thread may be adding candidates to it: a data race that crashed one-process
 *   meshes with SIGSEGV in SdpSerialize. simple-peer reads the local description only to
 *   send it, which with trickle it need not (it then sends the offer or answer it created),
 *   and the remote one only for its type: both are answered from what was set.
 * - **Descriptions and candidates are plain objects.** node-datachannel and werift return
 *   descriptions whose `sdp` is read-only (simple-peer assigns it), and werift builds
 *   `RTCSessionDescription` from positional arguments: created descriptions are copied, and
 *   the constructors simple-peer calls make `{ type, sdp }` and candidate-init objects
 *   (without null fields).
 * - **A connection that closed by itself has failed.** libdatachannel reports a failed DTLS
 *   handshake as `failed` and at once `closed`; by the time simple-peer reads the state it
 *   says `closed`, which simple-peer ignores, so the link hung until `directTimeoutMs`.
 *   Closed without `close()` reads as `failed`.
 * - **The answerer is DTLS's server** (takePassiveRole).
 * - **`getStats()` is the promise form.** simple-peer uses the old callback form when the
 *   method declares a parameter.
 */
export function adaptStack(rtc: RtcImplementation): RtcImplementation {
  const Native = rtc.RTCPeerConnection as new (config: unknown) => object;
  if (Native === browserStack()?.RTCPeerConnection) return rtc;
  if ((Native as { adapted?: boolean }).adapted === true) return rtc;
  function AdaptedConnection(config: unknown): object {
    const connection = new Native(config) as NativeConnection & object;
    let remoteType: unknown;
    let closedHere = false;
    const overrides: Partial<Record<PropertyKey, unknown>> = {
      close: () => {
        closedHere = true;
        connection.close();
      },
      createOffer: (options?: unknown) => connection.createOffer(options).then(plainDescription),
      createAnswer: (options?: unknown) => connection.createAnswer(options).then(plainDescription),
      setRemoteDescription: (description: Init) =>
        connection.setRemoteDescription(takePassiveRole(plainDescription(description))).then((result) => {
          remoteType = description.type;
          return result;
        }),
      // A candidate that trails a connection's end is nothing to warn about (simple-peer prints "Ignoring unsupported ICE candidate.").
      addIceCandidate: (candidate: CandidateInit) =>
        connection.addIceCandidate(plainCandidate(candidate)).catch((error: unknown) => {
          if (closedHere || (connection as { connectionState?: unknown }).connectionState === 'closed') return;
          throw error;
        }),
      getStats: () => connection.getStats(),
    };
    return new Proxy(connection, {
      get(target, property) {
        if (property === 'localDescription') return null;
        if (property === 'remoteDescription') return remoteType === undefined ? null : { type: remoteType };
        if (Object.hasOwn(overrides, property)) return overrides[property];
        if (property === 'connectionState' || property === 'iceConnectionState') {
          const state: unknown = Reflect.get(target, property, target);
          return state === 'closed' && !closedHere ? 'failed' : state;
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
      set: (target, property, value) => Reflect.set(target, property, value, target),
    });
  }
  AdaptedConnection.adapted = true;
  return {
    RTCPeerConnection: AdaptedConnection,
    RTCSessionDescription: function PlainDescription(init: Init) {
      return plainDescription(init);
    },
    RTCIceCandidate: function PlainCandidate(init: CandidateInit) {
      return plainCandidate(init);
    },
  };
}
