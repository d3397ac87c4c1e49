/**
 * Whether this process was starved lately: a heartbeat tick that came far too late (a blocked
 * event loop, an overloaded machine, SIGSTOP). Then a link that died, or the service that
 * dropped us, says more about us than about the peer, so pairs wait for repairs instead of
 * giving up (peer.ts). Process-wide, like the starvation itself. Pure but for this one time.
 */
let lastStarvedAt = Number.NEGATIVE_INFINITY;

/** A timer of this process fired far later than asked, at `now`. */
export function noteStarved(now = Date.now()): void {
  lastStarvedAt = now;
}

/** Whether this process was starved within the last `ms`. */
export function starvedRecently(ms: number, now = Date.now()): boolean {
  return now - lastStarvedAt <= ms;
}
