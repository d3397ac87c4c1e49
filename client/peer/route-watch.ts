/**
 * Reads a direct link's selected candidate pair (its route: candidate types, protocol, round
 * trip), so that `participant.path` answers "how is this participant connected?" and a change of
 * pair while ICE settles is seen: every 2 s during a link's first 10 s, then no more. A reading is
 * a stats call into the stack, and calls still running when a room closes made @roamhq/wrtc crash
 * natively more often: the soak's processes crashed while closing in 2 of 5 runs with readings
 * every 2 s for good, and once more with readings every 10 s after the first 10 s (0 of 4 without
 * readings). A pair that changes later is seen when the link is next rebuilt.
 */
import type { Route } from '../participant.js';
import type { Link } from './link.js';

/** How often a direct link's route is read, and for how long (while ICE may still be settling on a pair). */
export const ROUTE_READ_MS = 2_000;
export const ROUTE_SETTLING_MS = 10_000;

/** Starts reading `link`'s route, reporting each reading; returns the function that stops it. */
export function watchRoute(link: Pick<Link, 'selectedRoute'>, report: (route: Route) => void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = Date.now();
  const read = (): void => {
    void link.selectedRoute().then(
      (route) => {
        if (stopped) return;
        if (route !== undefined) report(route);
        if (Date.now() - started >= ROUTE_SETTLING_MS) return;
        timer = setTimeout(read, ROUTE_READ_MS);
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
