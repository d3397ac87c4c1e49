/**
 * `room.messaging.messages()`: received messages as an async iterable. It buffers what
 * arrives between reads (so nothing is missed while the loop body awaits), and ends when
 * messaging is disabled, the room closes, the caller's signal fires, or the loop breaks.
 * Messages that arrived before the end are still read.
 */

export interface MessageSource<T> {
  /** Starts delivering to `push`; returns the function that stops it. */
  subscribe(push: (item: T) => void): () => void;
  /** Registers `end` for when the source ends; returns the function that unregisters it. */
  onEnd(end: () => void): () => void;
}

export function messageStream<T>(source: MessageSource<T>, signal: AbortSignal | undefined, ended: boolean): AsyncIterableIterator<T> {
  const buffered: T[] = [];
  /** Reads waiting for a message, oldest first: each concurrent next() gets its own. */
  const readers: Array<(result: IteratorResult<T, undefined>) => void> = [];
  let open = !ended && signal?.aborted !== true;
  const cleanups: Array<() => void> = [];
  const finish = (): void => {
    if (!open) return;
    open = false;
    for (const cleanup of cleanups.splice(0)) cleanup();
    for (const waiting of readers.splice(0)) waiting({ done: true, value: undefined });
  };
  if (open) {
    cleanups.push(
      source.subscribe((item) => {
        const waiting = readers.shift();
        if (waiting === undefined) buffered.push(item);
        else waiting({ done: false, value: item });
      }),
      source.onEnd(finish),
    );
    if (signal !== undefined) {
      signal.addEventListener('abort', finish, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', finish));
    }
  }
  const iterator: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T, undefined>> {
      if (buffered.length > 0) return Promise.resolve({ done: false, value: buffered.shift() as T });
      if (!open) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => void readers.push(resolve));
    },
    return(): Promise<IteratorResult<T, undefined>> {
      buffered.length = 0;
      finish();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
