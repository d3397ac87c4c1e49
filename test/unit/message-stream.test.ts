/** `messages()`'s iterator on a fake source: buffering, concurrent reads, and its end. */
import { describe, expect, it } from 'vitest';
import { messageStream } from '../../client/message-stream.js';

function source(): { push(item: number): void; end(): void; source: Parameters<typeof messageStream<number>>[0] } {
  let push: (item: number) => void = () => {};
  let end: () => void = () => {};
  return {
    push: (item) => push(item),
    end: () => end(),
    source: {
      subscribe: (p) => {
        push = p;
        return () => (push = () => {});
      },
      onEnd: (e) => {
        end = e;
        return () => (end = () => {});
      },
    },
  };
}

describe('messages() iterator', () => {
  it('gives each of several concurrent next() calls its own message, in order, and ends them all together', async () => {
    const fake = source();
    const stream = messageStream(fake.source, undefined, false);
    const reads = [stream.next(), stream.next(), stream.next()];
    fake.push(1);
    fake.push(2);
    expect(await reads[0]).toEqual({ done: false, value: 1 });
    expect(await reads[1]).toEqual({ done: false, value: 2 });
    fake.end();
    expect(await reads[2]).toEqual({ done: true, value: undefined });
  });

  it('buffers what arrives between reads and still yields it after the end', async () => {
    const fake = source();
    const stream = messageStream(fake.source, undefined, false);
    fake.push(1);
    fake.push(2);
    fake.end();
    expect([await stream.next(), await stream.next(), await stream.next()]).toEqual([
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: true, value: undefined },
    ]);
  });
});
