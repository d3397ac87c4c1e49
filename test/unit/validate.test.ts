import { describe, expect, it } from 'vitest';
import { Limiter } from '../../client/peer/limiter.js';
import { attachmentBytes, checkAttributes, checkMessageBody, checkType, findNonJson } from '../../client/validate.js';
import { RoomError } from '../../protocol/errors.js';

describe('user input validation', () => {
  it('accepts plain JSON, including omitted (undefined) object fields', () => {
    expect(findNonJson({ a: [1, 'x', null, true, { b: -0.5 }], c: undefined })).toBeUndefined();
    expect(findNonJson(Object.assign(Object.create(null) as object, { a: 1 }))).toBeUndefined();
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['a BigInt', { n: 1n }, /\$\.n is a bigint/],
    ['a function', { f: () => 1 }, /\$\.f is a function/],
    ['a symbol', { s: Symbol('x') }, /symbol/],
    ['NaN', { n: Number.NaN }, /NaN/],
    ['Infinity', { n: [Infinity] }, /\$\.n\[0\] is Infinity/],
    ['a Date', { d: new Date(0) }, /Date, not a plain object/],
    ['a Map', { m: new Map() }, /Map/],
    ['a hole of undefined in an array', { a: [1, undefined] }, /\$\.a\[1\] is undefined/],
  ];
  for (const [what, value, reason] of bad) {
    it(`refuses ${what} with the path to it`, () => {
      expect(findNonJson(value)).toMatch(reason);
    });
  }

  it('refuses a cycle but accepts a shared (acyclic) reference', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(findNonJson(cyclic)).toMatch(/circular/);
    const shared = { x: 1 };
    expect(findNonJson({ a: shared, b: shared })).toBeUndefined();
  });

  it('explains bad types, bodies and attachments with INVALID_MESSAGE', () => {
    for (const problem of [checkType(''), checkType(3), checkType('x'.repeat(257)), checkMessageBody([]), checkMessageBody('hi'), checkMessageBody(null), checkMessageBody({ n: 1n })]) {
      expect(problem).toBeInstanceOf(RoomError);
      expect(problem?.code).toBe('INVALID_MESSAGE');
    }
    expect(checkType('chat')).toBeUndefined();
    expect(attachmentBytes('bytes')).toMatchObject({ code: 'INVALID_MESSAGE' });
  });

  it('views attachments of every byte kind exactly, without copying', () => {
    const source = new Uint8Array([1, 2, 3, 4]);
    const view = attachmentBytes(source.subarray(1, 3));
    expect(view).toEqual(new Uint8Array([2, 3]));
    source[1] = 9;
    expect(view).toEqual(new Uint8Array([9, 3])); // the same memory: read as sent, not copied
    expect(attachmentBytes(new DataView(new Uint8Array([5, 6, 7]).buffer, 1, 2))).toEqual(new Uint8Array([6, 7]));
    expect(attachmentBytes(new Uint16Array([0x0102]).buffer)).toHaveLength(2);
    expect(attachmentBytes(Buffer.from('ab'))).toEqual(new Uint8Array([97, 98]));
    expect(attachmentBytes(undefined)).toHaveLength(0);
  });

  it('checks attributes with INVALID_ARGUMENT', () => {
    expect(checkAttributes({ status: 'ok', n: [1] }, 'attributes')).toBeUndefined();
    expect(checkAttributes({ '': 1 }, 'attributes')?.code).toBe('INVALID_ARGUMENT');
    expect(checkAttributes({ a: undefined }, 'attributes')?.code).toBe('INVALID_ARGUMENT');
    expect(checkAttributes({ a: () => 1 }, 'attributes')?.code).toBe('INVALID_ARGUMENT');
    expect(checkAttributes([1], 'attributes')?.code).toBe('INVALID_ARGUMENT');
  });
});

describe('negotiation limiter', () => {
  it('never lets more than its capacity through, and hands slots over in order', async () => {
    const limiter = new Limiter(2, 60_000);
    const order: number[] = [];
    const releases = await Promise.all([limiter.acquire(), limiter.acquire()]);
    const third = limiter.acquire().then((release) => {
      order.push(3);
      return release;
    });
    const fourth = limiter.acquire().then((release) => {
      order.push(4);
      return release;
    });
    await Promise.resolve();
    expect([limiter.inUse, limiter.queued, order]).toEqual([2, 2, []]);
    releases[0]?.();
    releases[0]?.(); // a second release of the same slot is a no-op
    expect((await third, order)).toEqual([3]);
    expect([limiter.inUse, limiter.queued]).toEqual([2, 1]);
    releases[1]?.();
    (await fourth)();
    (await third)();
    expect([limiter.inUse, limiter.queued, order]).toEqual([0, 0, [3, 4]]);
  });
});
