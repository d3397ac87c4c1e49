/**
 * A counting semaphore. Peer connections gathering ICE at once in one process open sockets
 * roughly quadratically (40 at once exhausted 20,000 file descriptors, BASELINES.md), so
 * every client in a process shares one limiter on how many links it initiates at once.
 */
export class Limiter {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free. Release is idempotent. */
  async acquire(): Promise<() => void> {
    if (this.active >= this.capacity) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next !== undefined) next(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }

}

/** Shared by every client in this process (the constraint is per process, not per client). */
export const negotiationLimiter = new Limiter(4);
