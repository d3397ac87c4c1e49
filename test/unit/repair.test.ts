import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PEER_TRANSITIONS, STABLE_LINK_MS, afterDirectLoss, afterPathLoss, nextPhase, relayRetryAfter, type PeerPhase, type PeerPhaseEvent } from '../../client/peer/repair.js';

describe('repair rules', () => {
  it('counts failures in a row, forgiving a link that stayed up, and falls back to the relay on the second, on a timeout, or when a link that was up dies', () => {
    expect(afterDirectLoss({ failures: 0, upForMs: undefined, timedOut: false })).toEqual({ failures: 1, startRelay: false });
    expect(afterDirectLoss({ failures: 1, upForMs: 50, timedOut: false })).toEqual({ failures: 2, startRelay: true }); // opened and died at once: still failing
    expect(afterDirectLoss({ failures: 5, upForMs: STABLE_LINK_MS, timedOut: false })).toEqual({ failures: 1, startRelay: true }); // it had been stable: a fresh start, relayed meanwhile
    expect(afterDirectLoss({ failures: 0, upForMs: undefined, timedOut: true })).toEqual({ failures: 1, startRelay: true });
  });

  it('carries on over another path, gives up when the participant is gone, waits when this side is cut off, and repairs with backoff otherwise', () => {
    const lost = { otherPathReady: false, onlyRelayLeft: false, away: false, serviceReachable: true, initiator: true, failures: 1, relayed: false, othersAlive: false };
    expect(afterPathLoss({ ...lost, otherPathReady: true })).toEqual({ action: 'carry-on', retryInMs: undefined });
    // Left on the relay alone, the initiator keeps trying direct links, backing off (at least 1 s); the responder waits for offers.
    expect([2, 3, 4, 8, 20].map((failures) => afterPathLoss({ ...lost, otherPathReady: true, onlyRelayLeft: true, failures }))).toEqual(
      [1000, 2000, 4000, 30_000, 30_000].map((retryInMs) => ({ action: 'carry-on', retryInMs })),
    );
    expect(afterPathLoss({ ...lost, otherPathReady: true, onlyRelayLeft: true, initiator: false })).toEqual({ action: 'carry-on', retryInMs: undefined });
    expect(afterPathLoss({ ...lost, away: true })).toEqual({ action: 'give-up' });
    // Our own service connection is down too: our network blipped, most likely; the participant's messages wait.
    expect(afterPathLoss({ ...lost, serviceReachable: false })).toEqual({ action: 'wait-for-service' });
    // …but with other links answering, this side's network works: the link's death says the participant is gone.
    expect(afterPathLoss({ ...lost, serviceReachable: false, othersAlive: true })).toEqual({ action: 'give-up' });
    // A relayed pair has no path but the service: it waits for the service instead, on either side.
    expect(afterPathLoss({ ...lost, relayed: true, away: true })).toEqual({ action: 'wait-for-service' });
    expect(afterPathLoss({ ...lost, relayed: true, serviceReachable: false, initiator: false })).toEqual({ action: 'wait-for-service' });
    expect(afterPathLoss({ ...lost, relayed: true })).toEqual({ action: 'repair', retryInMs: 0 }); // the service is fine: repair as usual
    expect(afterPathLoss({ ...lost, initiator: false })).toEqual({ action: 'repair', retryInMs: undefined }); // the responder waits for an offer
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((failures) => afterPathLoss({ ...lost, failures }))).toEqual(
      [0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000].map((retryInMs) => ({ action: 'repair', retryInMs })),
    );
  });

  it('begins another relay stream at once after one fails, then backs off from 1 s to 8 s, well inside connectTimeoutMs', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(relayRetryAfter)).toEqual([0, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('moves a peer between its phases by one table: closed is final, a hello links, connecting never comes back (property)', () => {
    const phases = Object.keys(PEER_TRANSITIONS) as PeerPhase[];
    expect(phases).toEqual(['connecting', 'linked', 'repairing', 'waiting', 'closed']);
    const events: PeerPhaseEvent[] = ['path-up', 'path-lost', 'wait', 'end'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 40 }), (sequence) => {
        let phase: PeerPhase = 'connecting';
        let left = false;
        for (const event of sequence) {
          const before = phase;
          phase = nextPhase(phase, event);
          if (before === 'closed') expect(phase).toBe('closed');
          else if (event === 'end') expect(phase).toBe('closed');
          else if (event === 'path-up') expect(phase).toBe('linked');
          else if (event === 'wait') expect(phase).toBe('waiting');
          else if (event === 'path-lost') expect(phase).toBe(before === 'linked' ? 'repairing' : before);
          if (phase !== 'connecting') left = true;
          if (left) expect(phase).not.toBe('connecting');
        }
      }),
      { seed: 20261207 },
    );
  });
});
