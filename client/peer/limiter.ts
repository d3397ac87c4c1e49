/**
 * A counting semaphore for negotiations. Peer connections gathering ICE at once in one
 * process open sockets roughly quadratically in @roamhq/wrtc (docs/stacks.md has the figures),
 * so every client in a process shares one limiter on how many links it initiates at once.
 *
 * Fair to honest peers when others stall: an initiator holds its slot until its link opens,
 * or briefly past its own gathering (peer.ts: waiting long for a peer that may never answer
 * needs no slot), and at most `holdMs`; waiters with a lower `priority` (a peer's
 * failures in a row) go first. So participants that never answer cannot keep newcomers waiting.
 */
interface Waiter {
  priority: number;
  grant(): void;
}

export class Limiter {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly capacity: number,
    readonly holdMs: number,
  ) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free. Release is idempotent; the slot frees itself after `holdMs`. */
  async acquire(priority = 0): Promise<() => void> {
    if (this.active >= this.capacity) {
      await new Promise<void>((grant) => {
        const at = this.waiters.findIndex((w) => w.priority > priority);
        this.waiters.splice(at === -1 ? this.waiters.length : at, 0, { priority, grant });
      });
    } else this.active++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      const next = this.waiters.shift();
      if (next !== undefined) next.grant(); // the slot passes straight to the next waiter
      else this.active--;
    };
    const timer = setTimeout(release, this.holdMs);
    return release;
  }
}

/** How long one negotiation may hold a slot. */
export const NEGOTIATION_SLOT_MS = 2_000;

/** Shared by every client in this process (the constraint is per process, not per client). */
export const negotiationLimiter = new Limiter(4, NEGOTIATION_SLOT_MS);
