/**
 * A Peer on fakes (no sockets, no WebRTC): what it does with relayed frames of a relay stream it
 * has closed. Relay streams need WebCrypto only, which Node has.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RoomError } from '../../client/index.js';
import { DEFAULTS } from '../../client/options.js';
import { Limiter } from '../../client/peer/limiter.js';
import { Lingering } from '../../client/peer/lingering.js';
import { Peer, type PeerContext } from '../../client/peer/peer.js';
import { until } from '../helpers.js';
import { freshIdentity } from '../../client/trust/identity.js';
import { Trust } from '../../client/trust/trust.js';

function fakeContext(): { context: PeerContext; keyFramesFor: string[]; logged: string[]; setConnected(up: boolean): void } {
  const keyFramesFor: string[] = [];
  const logged: string[] = [];
  let connected = true;
  const signaling = {
    get connected() {
      return connected;
    },
    signal() {},
    isPresent: async () => true,
    verify() {},
    relay: (_to: string, sid: string, frame: Uint8Array, done: (ok: boolean, reason: string) => void) => {
      if (frame[0] === 0x01) keyFramesFor.push(sid); // a key frame opens every stream this side takes part in
      done(true, '');
    },
  };
  const noop = (): void => {};
  const context: PeerContext = {
    rtc: {} as PeerContext['rtc'],
    rtcConfig: { iceServers: [] },
    tunables: DEFAULTS,
    logger: { debug: (_fields, message) => void logged.push(message), info: noop, warn: noop, error: noop },
    relayAllowed: true,
    limiter: new Limiter(4, 2_000),
    lingering: new Lingering(2_000),
    signaling,
    localId: 'b',
    relayFrameBytes: () => 60_000,
    describe: () => 'participant "a" (a)',
    othersHeardWithin: () => false,
    auth: () => new Trust({ identity: freshIdentity(), room: 'r' }).forStream('b', 'a', () => 'a'),
  };
  return { context, keyFramesFor, logged, setConnected: (up) => (connected = up) };
}

afterEach(() => void vi.useRealTimers());

const events = { open() {}, confirmed() {}, closed() {}, path() {}, route() {}, message() {}, progress() {}, aborted() {}, refused() {}, violation() {} };

describe('Peer', () => {
  it('drops late frames of a relay stream it closed instead of taking them for a new stream (and a strike against the peer)', async () => {
    const { context, keyFramesFor, logged, setConnected } = fakeContext();
    const peer = new Peer('a', false, context, events); // the responder: it adopts relay streams the initiator starts
    try {
      const frame = new Uint8Array([0x02, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9]); // a sealed frame: what is in it does not matter here
      peer.handleRelay('s1', frame);
      await until(() => keyFramesFor.includes('s1'), 'the responder joining relay stream s1', 5_000);
      setConnected(false);
      peer.signalingLost(); // the relay stream ends (here: the service went; a direct link opening ends it alike)
      setConnected(true);
      peer.handleRelay('s1', frame); // a frame of s1 that was still on its way
      const dropped = (): boolean => logged.includes('late frame of a closed relay stream dropped');
      await until(() => dropped() || keyFramesFor.length > 1, 'the late frame dropped, or taken for a new stream', 5_000);
      expect([dropped(), keyFramesFor]).toEqual([true, ['s1']]);
      peer.handleRelay('s2', frame); // a new stream of the initiator's is still taken
      await until(() => keyFramesFor.includes('s2'), 'the responder joining relay stream s2', 5_000);
      expect(keyFramesFor).toEqual(['s1', 's2']);
    } finally {
      peer.dispose(new RoomError('CLOSED', 'test over'));
    }
  });

  it('counts the give-up clock from its first offer, not from the wait for a negotiation slot', async () => {
    vi.useFakeTimers();
    const { context } = fakeContext();
    const busy = new Limiter(1, 10 * 60_000);
    const slot = await busy.acquire(); // another peer's negotiation holds the only slot
    const closed: string[] = [];
    const initiator = new Peer('z', true, { ...context, limiter: busy }, { ...events, closed: (reason) => void closed.push(`initiator ${reason}`) });
    const responder = new Peer('a', false, context, { ...events, closed: (reason) => void closed.push(`responder ${reason}`) });
    try {
      await vi.advanceTimersByTimeAsync(DEFAULTS.connectTimeoutMs + 5_000);
      // The responder, waiting for an offer that never comes, gives up; the initiator, still queued, has not tried yet.
      expect(closed).toEqual(['responder timeout']);
    } finally {
      slot();
      initiator.dispose(new RoomError('CLOSED', 'test over'));
      responder.dispose(new RoomError('CLOSED', 'test over'));
    }
  });
});
