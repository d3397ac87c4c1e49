/**
 * Reads a direct link's selected candidate pair now and then (its route: candidate types,
 * protocol, round trip), so that `participant.path` answers "how is this participant connected?"
 * and a change of pair within a direct link is seen. A reading is a stats call into the stack, so
 * they are spaced out: every 2 s while ICE may still be settling on a pair (the first 10 s), then
 * every 10 s. Fewer calls also mean fewer left running in @roamhq/wrtc when a room closes: with a
 * reading every 2 s for the whole session, processes of the 8-process soak crashed natively
 * (SIGSEGV) while closing noticeably more often (2 runs in 5, against 0 in 4 without readings).
 */
import type { Route } from '../participant.js';
import type { PeerLink } from './link.js';

/** How often a direct link's route is read: often while ICE may still be settling, then seldom. */
export const ROUTE_READ_MS = 2_000;
export const ROUTE_SETTLING_MS = 10_000;
export const ROUTE_STEADY_READ_MS = 10_000;

/** Starts reading `link`'s route, reporting each reading; returns the function that stops it. */
export function watchRoute(link: PeerLink, report: (route: Route) => void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = Date.now();
  const read = (): void => {
    void link.selectedRoute().then(
      (route) => {
        if (stopped) return;
        if (route !== undefined) report(route);
        timer = setTimeout(read, Date.now() - started < ROUTE_SETTLING_MS ? ROUTE_READ_MS : ROUTE_STEADY_READ_MS);
        (timer as { unref?: () => void }).unref?.();
      },
      () => undefined, // the connection closed under the call: the link's own events say so
    );
  };
  read();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
