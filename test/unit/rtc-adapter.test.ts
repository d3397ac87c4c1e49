/**
 * The stack adapter (client/rtc.ts) against a stand-in RTCPeerConnection that records what it
 * is given: what simple-peer sees of descriptions, candidates, states and stats. The real
 * stacks behind it are exercised by test/integration/stacks.test.ts and the suites.
 */
import { describe, expect, it } from 'vitest';
import type { RtcImplementation } from '../../client/index.js';
import { adaptStack, fitNodeDatachannel } from '../../client/rtc.js';

const OFFER = 'v=0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=setup:actpass\r\na=mid:0\r\n';

class Recorder {
  remote: unknown[] = [];
  candidates: unknown[] = [];
  connectionState = 'new';
  iceConnectionState = 'new';
  ondatachannel: unknown = null;
  readonly frozen = Object.freeze({ type: 'offer', sdp: OFFER }); // read-only, as node-datachannel's are
  createOffer(): Promise<unknown> {
    return Promise.resolve(this.frozen);
  }
  createAnswer(): Promise<unknown> {
    return Promise.resolve(Object.freeze({ type: 'answer', sdp: 'v=0\r\na=setup:active\r\n' }));
  }
  setRemoteDescription(description: unknown): Promise<void> {
    this.remote.push(description);
    return Promise.resolve();
  }
  addIceCandidate(candidate: { candidate?: string }): Promise<void> {
    this.candidates.push(candidate);
    return candidate.candidate === 'bad' ? Promise.reject(new Error('refused')) : Promise.resolve();
  }
  getStats(callback?: unknown): Promise<string> {
    return Promise.resolve(callback === undefined ? 'promise form' : 'callback form');
  }
  close(): void {
    this.connectionState = 'closed';
    this.iceConnectionState = 'closed';
  }
  get localDescription(): never {
    throw new Error('read back'); // @roamhq/wrtc serializes here, racing its signaling thread
  }
}

let last: Recorder | undefined;
const stack: RtcImplementation = {
  RTCPeerConnection: class extends Recorder {
    constructor() {
      super();
      last = this;
    }
  },
  RTCSessionDescription: undefined,
  RTCIceCandidate: undefined,
};
type Adapted = Recorder & { remoteDescription: unknown; localDescription: unknown };
const connect = (): { pc: Adapted; native: Recorder; rtc: RtcImplementation } => {
  const rtc = adaptStack(stack);
  const pc = new (rtc.RTCPeerConnection as new (config: unknown) => Adapted)({ iceServers: [] });
  return { pc, native: last as Recorder, rtc };
};

describe('the stack adapter', () => {
  it('hands out created descriptions as plain, writable objects and never reads one back', async () => {
    const { pc } = connect();
    const offer = (await pc.createOffer()) as { type: string; sdp: string };
    expect(Object.isFrozen(offer)).toBe(false);
    offer.sdp = offer.sdp.trim(); // what simple-peer does to it
    expect(pc.localDescription).toBeNull();
    expect(pc.remoteDescription).toBeNull();
    await pc.setRemoteDescription({ type: 'answer', sdp: 'v=0\r\n' });
    expect(pc.remoteDescription).toEqual({ type: 'answer' });
  });

  it('reads an offer’s actpass as active, so that the answerer becomes DTLS’s server; answers pass unchanged', async () => {
    const { pc, native } = connect();
    await pc.setRemoteDescription({ type: 'offer', sdp: OFFER });
    await pc.setRemoteDescription({ type: 'answer', sdp: 'v=0\r\na=setup:actpass\r\n' });
    expect(native.remote).toEqual([
      { type: 'offer', sdp: OFFER.replace('a=setup:actpass', 'a=setup:active') },
      { type: 'answer', sdp: 'v=0\r\na=setup:actpass\r\n' },
    ]);
  });

  it('builds plain description and candidate objects, leaving null fields out', () => {
    const { rtc } = connect();
    const Description = rtc.RTCSessionDescription as new (init: unknown) => unknown;
    const Candidate = rtc.RTCIceCandidate as new (init: unknown) => unknown;
    expect(new Description({ type: 'offer', sdp: 'x', extra: 1 })).toEqual({ type: 'offer', sdp: 'x' });
    expect(new Candidate({ candidate: 'candidate:1 1 UDP 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: null })).toEqual({ candidate: 'candidate:1 1 UDP 1 10.0.0.1 9 typ host', sdpMid: '0' });
  });

  it('answers getStats in the promise form, whatever the stack declares', async () => {
    const { pc } = connect();
    expect(pc.getStats.length).toBe(0);
    await expect(pc.getStats()).resolves.toBe('promise form');
  });

  it('reports a connection that closed by itself as failed, and one closed here as closed', () => {
    const { pc, native } = connect();
    native.connectionState = 'closed';
    native.iceConnectionState = 'closed';
    expect([pc.connectionState, pc.iceConnectionState]).toEqual(['failed', 'failed']);
    pc.close();
    expect([pc.connectionState, pc.iceConnectionState]).toEqual(['closed', 'closed']);
  });

  it('drops a refused candidate quietly only once the connection is closed', async () => {
    const { pc } = connect();
    await expect(pc.addIceCandidate({ candidate: 'bad' })).rejects.toThrow('refused');
    pc.close();
    await expect(pc.addIceCandidate({ candidate: 'bad' })).resolves.toBeUndefined();
  });

  it('keeps property writes and other members on the connection itself, and adapts a stack once', () => {
    const { pc, native, rtc } = connect();
    const handler = (): void => {};
    pc.ondatachannel = handler;
    expect(native.ondatachannel).toBe(handler);
    expect(typeof pc.toString).toBe('function');
    expect(adaptStack(rtc)).toBe(rtc);
  });
});

describe('node-datachannel fitted to the standard', () => {
  it('percent-encodes credentials, which its polyfill writes into a URL (time-limited ones hold : / + =)', () => {
    let seen: unknown;
    class Native {
      constructor(config: unknown) {
        seen = config;
      }
      getStats(): Promise<Map<string, Record<string, unknown>>> {
        return Promise.resolve(new Map([['pair', { type: 'candidate-pair', currentRoundTripTime: 12 }]]));
      }
    }
    const Encoded = fitNodeDatachannel(Native as unknown as RtcImplementation['RTCPeerConnection']) as unknown as new (config: unknown) => object;
    const connection = new Encoded({ iceServers: [{ urls: 'stun:198.18.0.10' }, { urls: ['turn:198.18.0.10:3478?transport=udp'], username: '1796599591:alice', credential: 'a/b+c=' }], iceTransportPolicy: 'all' });
    expect(connection).toBeInstanceOf(Native);
    expect(seen).toEqual({
      iceServers: [{ urls: 'stun:198.18.0.10', username: undefined, credential: undefined }, { urls: ['turn:198.18.0.10:3478?transport=udp'], username: '1796599591%3Aalice', credential: 'a%2Fb%2Bc%3D' }],
      iceTransportPolicy: 'all',
    });
    // Its round trip is in milliseconds; the standard (and roommesh) reads seconds.
    return (connection as Native).getStats().then((report) => expect(report.get('pair')?.['currentRoundTripTime']).toBe(0.012));
  });
});
