import { describe, expect, it } from 'vitest';
import { RelayTransport } from '../../client/peer/relay-transport.js';
import { RelaySeal, SEAL_OVERHEAD_BYTES, decodeRelayFrame } from '../../client/peer/relay-crypto.js';
import { nobleSuite, p256Ecdh, webCrypto, type SealSuite } from '../../client/peer/relay-suite.js';
import { TRUST_VECTORS } from '../vectors.js';

/** The two implementations a stream may run on (WebCrypto; pure JS, for pages without it), paired every way. */
const SUITES: Array<[string, () => SealSuite, () => SealSuite]> = [
  ['WebCrypto', webCrypto, webCrypto],
  ['pure JS', () => nobleSuite, () => nobleSuite],
  ['WebCrypto with pure JS', webCrypto, () => nobleSuite],
];

async function pair(suites: [SealSuite, SealSuite] = [webCrypto(), webCrypto()]): Promise<[RelaySeal, RelaySeal]> {
  const [a, b] = await Promise.all([RelaySeal.create(suites[0]), RelaySeal.create(suites[1])]);
  const key = (seal: RelaySeal) => {
    const frame = decodeRelayFrame(seal.keyFrame);
    if (frame.kind !== 'key') throw new Error('not a key frame');
    return frame.publicKey;
  };
  await Promise.all([a.agree(key(b), 'sid-1', 'alice', 'bob'), b.agree(key(a), 'sid-1', 'bob', 'alice')]);
  return [a, b];
}

async function openFrame(seal: RelaySeal, frame: Uint8Array): Promise<Uint8Array | string> {
  const decoded = decodeRelayFrame(frame);
  if (decoded.kind !== 'sealed') return decoded.kind;
  return seal.open(decoded.counter, decoded.sealed);
}

describe.each(SUITES)('relay sealing (%s)', (_name, first, second) => {
  const pair2 = () => pair([first(), second()]);
  it('opens what the peer sealed, in both directions, and hides the plaintext', async () => {
    const [alice, bob] = await pair2();
    const text = new TextEncoder().encode('meet at the usual place '.repeat(10));
    const frame = await alice.seal(text);
    expect(frame.length).toBe(text.length + SEAL_OVERHEAD_BYTES);
    expect(Buffer.from(frame).includes(Buffer.from('usual place'))).toBe(false);
    expect(await openFrame(bob, frame)).toEqual(text);
    expect(await openFrame(alice, await bob.seal(new Uint8Array([1, 2, 3])))).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('refuses a replayed frame, a tampered one, one sealed for the other direction, and one from another stream', async () => {
    const [alice, bob] = await pair2();
    const first = await alice.seal(new Uint8Array([1]));
    expect(await openFrame(bob, first)).toEqual(new Uint8Array([1]));
    expect(await openFrame(bob, first)).toMatch(/replayed/);
    const second = await alice.seal(new Uint8Array([2, 2]));
    const tampered = second.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(await openFrame(bob, tampered)).toMatch(/authenticate/);
    expect(await openFrame(alice, await alice.seal(new Uint8Array([3])))).toMatch(/authenticate/); // own direction's key
    const [, otherBob] = await pair2();
    expect(await openFrame(otherBob, await alice.seal(new Uint8Array([4])))).toMatch(/authenticate/);
    expect(await openFrame(bob, second)).toEqual(new Uint8Array([2, 2])); // the genuine frame still opens
  });

  it('tells frames lost in between (a counter that skips ahead) from replays: a gap ends the stream', async () => {
    const [alice, bob] = await pair2();
    const frames = [await alice.seal(new Uint8Array([1])), await alice.seal(new Uint8Array([2])), await alice.seal(new Uint8Array([3]))];
    const counter = (frame: Uint8Array): bigint => {
      const decoded = decodeRelayFrame(frame);
      if (decoded.kind !== 'sealed') throw new Error('not a sealed frame');
      return decoded.counter;
    };
    expect(bob.accept(counter(frames[0] as Uint8Array))).toBeUndefined();
    expect(bob.accept(counter(frames[2] as Uint8Array))).toEqual({ refused: 'sealed frames 2 to 2 never arrived', gap: true });
    expect(bob.accept(counter(frames[1] as Uint8Array))).toEqual({ refused: expect.stringMatching(/replayed or out of order/), gap: false });
  });

  it('refuses to agree on a key that is not a P-256 point', async () => {
    const seal = await RelaySeal.create(second());
    await expect(seal.agree(new Uint8Array(65).fill(4), 's', 'a', 'b')).rejects.toThrow();
  });
});

describe('the relay vector (protocol/vectors/trust.json, shared with the Python participant; made with node:crypto)', () => {
  const v = TRUST_VECTORS.relay;
  const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
  const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

  it('agrees on the shared secret in pure JS (P-256 over its published parameters)', () => {
    const dh = p256Ecdh();
    expect(hex(dh.getPublicKey(fromHex(v.alice.privateKey), false))).toBe(v.alice.publicKey);
    expect(hex(dh.getSharedSecret(fromHex(v.alice.privateKey), fromHex(v.bob.publicKey), true).slice(1))).toBe(v.shared);
  });

  it.each([['WebCrypto', webCrypto], ['pure JS', () => nobleSuite]] as const)('derives the direction\'s key and seals the frame alike (%s)', async (_name, suite) => {
    const key = await suite().deriveKey(fromHex(v.shared), new TextEncoder().encode(v.sid), new TextEncoder().encode(`roommesh relay v1 ${v.alice.id} > ${v.bob.id}`));
    const frame = decodeRelayFrame(fromHex(v.frame));
    if (frame.kind !== 'sealed') throw new Error('not a sealed frame');
    expect(frame.counter).toBe(BigInt(v.counter));
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setBigUint64(4, frame.counter);
    expect(hex(await key.seal(iv, fromHex(v.packet)))).toBe(hex(frame.sealed));
    expect(hex(await key.open(iv, frame.sealed))).toBe(v.packet);
  });
});

describe('relay frames', () => {
  it('reads any bytes as a frame without throwing', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(next() % 120);
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() % 4 === 0 ? (next() % 3) : next() % 256;
      const frame = decodeRelayFrame(bytes);
      expect(['key', 'sealed', 'invalid']).toContain(frame.kind);
    }
  });
});

describe('relay stream', () => {
  it('ends when a frame goes missing inside it (a relay that dropped one), so that the session resends over a new stream', async () => {
    const failures: string[] = [];
    const opened: string[] = [];
    const received: number[] = [];
    let dropNext = false;
    const ends: Array<RelayTransport> = [];
    const make = (localId: string, to: string, other: () => RelayTransport | undefined) =>
      new RelayTransport(
        {
          sid: 's',
          localId,
          to,
          maxFrameBytes: 64 * 1024,
          sender: {
            connected: true,
            relay: (_to, _sid, frame, done) => {
              const drop = dropNext && frame[0] === 0x02;
              if (drop) dropNext = false;
              else queueMicrotask(() => other()?.receive(frame));
              done(true, '');
            },
          },
        },
        {
          open: () => void opened.push(localId),
          packet: (packet) => void received.push(packet[0] ?? -1),
          failed: (reason) => void failures.push(`${localId}: ${reason}`),
          violation: (reason) => void failures.push(`${localId} violation: ${reason}`),
        },
      );
    ends.push(make('alice', 'bob', () => ends[1]), make('bob', 'alice', () => ends[0]));
    const [alice] = ends as [RelayTransport];
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    await settle();
    expect(opened.sort()).toEqual(['alice', 'bob']);
    alice.send(new Uint8Array([1]));
    await settle();
    dropNext = true;
    alice.send(new Uint8Array([2])); // lost on the way
    alice.send(new Uint8Array([3]));
    await settle();
    expect([received, failures]).toEqual([[1], ['bob: sealed frames 2 to 2 never arrived']]);
  });
});
