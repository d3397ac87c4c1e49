/**
 * A sliding-window count of events (new link sessions a peer started, streams it broke),
 * for telling a peer that repairs from one that attacks. Pure: the clock is passed in.
 */
export class Strikes {
  private readonly at: number[] = [];

  constructor(readonly windowMs: number) {}

  /** Counts one event at `now`; returns how many fall within the window, this one included. */
  hit(now: number): number {
    while (this.at.length > 0 && (this.at[0] ?? now) <= now - this.windowMs) this.at.shift();
    this.at.push(now);
    return this.at.length;
  }
}
