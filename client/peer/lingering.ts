/**
 * Connections left open after their pair ended, for the peer to close its end first.
 * @roamhq/wrtc crashes (SIGSEGV) now and then when a channel's close arrives from the peer while
 * this process calls into that channel; a side that waits, touching nothing, until the peer's
 * close has arrived is safe (docs/stacks.md). Each is closed here after `ms` if the peer has not
 * closed it by then.
 */
export class Lingering {
  private readonly held = new Map<() => void, ReturnType<typeof setTimeout>>();
  private readonly settled = new Set<() => void>();

  constructor(private readonly ms: number) {}

  /** `start(closed)` leaves a connection open, calls `closed` when the peer closed it, and returns the function that closes it now. */
  hold(start: (closed: () => void) => () => void): void {
    let done = false;
    const entry = (): void => {
      if (done) return;
      done = true;
      clearTimeout(this.held.get(entry));
      this.held.delete(entry);
      if (this.held.size === 0) for (const resolve of this.settled) resolve();
    };
    const closeNow = start(entry);
    if (done) return;
    const timer = setTimeout(() => {
      closeNow();
      entry();
    }, this.ms);
    this.held.set(entry, timer);
  }

  /** Resolves once every connection held is closed, by its peer or at its time. */
  settle(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.settled.delete(done);
        resolve();
      };
      this.settled.add(done);
    });
  }

  get size(): number {
    return this.held.size;
  }
}
